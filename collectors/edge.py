"""The edge: every item a source delivers is checked here before it may become a mention.

Each input has one pydantic model (the file source's row, an X tweet, a Reddit thing, a Hacker
News hit, a Mastodon status, an RSS entry), an :class:`Edge` declared beside its parser with
the field types of :mod:`collectors.fields` (where each value's rule is written, once). A
value a rule can fix is fixed; anything else rejects the item, and the rejection
(:class:`Rejected`) names the field. A rejected item is never dropped: the pipeline stores it
in the dead-letter table in the same transaction as the cursor that moves past it
(``monitor rejected`` lists and retries them). :func:`check_mention` applies the same rules
to a mention built any other way, before it is stored.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from collectors.fields import (
    author,
    count,
    native_id,
    optional_id,
    optional_text,
    platform,
    reach,
    text,
    timestamp,
)

if TYPE_CHECKING:
    from collectors.base import Mention

MAX_PAYLOAD = 1 << 20
"""A dead letter keeps at most this many bytes of its payload."""


@dataclass(frozen=True)
class Rejected:
    """An item a source delivered that cannot become a mention, kept for the dead-letter table.

    ``position`` says where it came from (``inbox/a.csv line 42``, ``tweet 1859...``);
    ``payload`` is the item as received, as bytes (a file's raw line, an API item as JSON), at
    most :data:`MAX_PAYLOAD` of them; ``reason`` is one line naming the field and what is wrong;
    ``field`` is that field's name, when one is at fault.
    """

    position: str
    payload: bytes
    reason: str
    field: str | None = None


class Invalid(ValueError):
    """An item that cannot become a mention; ``field`` names the part at fault."""

    def __init__(self, field: str | None, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field


class Edge(BaseModel):
    """An input's model: the fields a parser reads, validated; other keys of the payload are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


def explain(err: ValidationError) -> tuple[str, str | None]:
    """``(reason, field)`` for a validation error: one line per problem joined by ``; ``, each naming its field."""
    parts, first = [], None
    for e in err.errors(include_url=False):
        loc = ".".join(str(p) for p in e["loc"] if not str(p).startswith("function-")) or "item"
        first = first or loc
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "missing":
            msg = "missing"
        elif e["type"] in ("model_type", "dict_type"):
            msg = "not a mapping of fields"
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts), first


def dump(payload: Any) -> bytes:
    """``payload`` (an API item, already decoded from JSON) as JSON bytes, for the dead-letter table.

    ASCII-only with escapes, so lone surrogates and odd characters survive as written; values
    JSON cannot hold are written as their ``repr``.
    """
    if isinstance(payload, bytes):
        return payload
    try:
        return json.dumps(payload, ensure_ascii=True, default=repr).encode("ascii")
    except (ValueError, TypeError, RecursionError):
        return repr(payload).encode("utf-8", "backslashreplace")


def accept(parse: Callable[[], Mention], position: str, payload: Any) -> Mention | Rejected:
    """``parse()``'s mention, or a :class:`Rejected` for ``position`` holding ``payload`` and the reason.

    Any exception from ``parse`` rejects the item (one bad item never stops a page); one that
    is not a validation error is recorded as ``unexpected <type>``, to retry after the fix.
    """
    try:
        return parse()
    except ValidationError as err:
        reason, field = explain(err)
    except Invalid as err:
        reason, field = str(err), err.field
    except Exception as err:  # a parser bug or a shape no rule foresaw: keep the item for a retry
        reason, field = f"unexpected {type(err).__name__}: {err}", None
    return Rejected(position=position, payload=dump(payload), reason=_one_line(reason), field=field)


def _one_line(reason: str, limit: int = 500) -> str:
    line = " ".join(reason.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def json_safe(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON any database accepts: non-finite numbers as text, NULs removed, lone
    surrogates replaced, mapping keys as text, nesting cut at 64 levels."""
    if isinstance(value, str):
        return _clean(value)
    if depth > 64:
        return "..."
    if isinstance(value, Mapping):
        return {_clean(str(k)): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, depth + 1) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return _clean(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return _clean(str(value))


_SURROGATES = re.compile(r"[\ud800-\udfff]")


def _clean(value: str) -> str:
    if not value.isascii():
        value = _SURROGATES.sub("\ufffd", value)
    return value.replace("\x00", "") if "\x00" in value else value


def check_mention(m: Mention) -> tuple[str, str] | None:
    """``(reason, field)`` when ``m`` breaks a rule the store relies on, else None.

    The pipeline applies it to every mention, whatever built it (a collector's edge model
    has already applied the same rules; the lab and tests build mentions directly).
    """
    e = m.engagement
    checks: list[tuple[str, Callable[[Any], Any], Any]] = [
        ("platform", platform, m.platform), ("id", native_id, m.native_id),
        ("conversation_id", optional_id, m.conversation_id), ("in_reply_to", optional_id, m.in_reply_to),
        ("created_at", timestamp, m.created_at), ("author", author, m.author), ("author_reach", reach, m.author_reach),
        ("likes", count, e.likes), ("replies", count, e.replies), ("reposts", count, e.reposts),
        ("quotes", count, e.quotes), ("title", optional_text, m.title),
    ]
    checks.append(("text", optional_text if m.title else text, m.text))
    for name, rule, value in checks:
        try:
            rule(value)
        except ValueError as err:
            return f"{name}: {err}", name
    return None


def label(kind: str, item: Any, key: str, fallback: str) -> str:
    """A position for an API item: ``"<kind> <its id>"`` when ``item[key]`` is a usable id, else ``fallback``."""
    value = item.get(key) if isinstance(item, Mapping) else None
    try:
        return f"{kind} {native_id(value)}"
    except ValueError:
        return fallback
