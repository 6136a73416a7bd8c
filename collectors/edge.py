"""The edge: every item a source delivers is checked here before it may become a mention.

Each input has one pydantic model (the file source's row, an X tweet, a Reddit thing, a Hacker
News hit, a Mastodon status, an RSS entry), declared beside its parser with the field types
below. A value the rules can fix is fixed by the rule written here; anything else rejects the
item, and the rejection (:class:`~collectors.base.Rejected`) names the field. A rejected item
is never dropped: the pipeline stores it in the dead-letter table in the same transaction as
the cursor that moves past it (``monitor rejected`` lists and retries them).

The rules (the README's "What a source may deliver" repeats them):

- **ids** (``id``, ``conversation_id``, ``in_reply_to``): text or a whole number; 1-128
  characters after trimming; no control characters (NUL included). ``true``, lists, mappings
  and fractions are rejected, never stored as their printed form.
- **counts** (likes, replies, reposts, quotes): whole numbers from 0 to 500,000,000 (so the
  four together fit the store's integer column); missing or empty is 0; ``42.0`` is 42.
  Negative, fractional, larger or non-numeric counts are rejected. **reach** (followers):
  the same, up to 2,000,000,000.
- **times**: ISO-8601 (naive means UTC) or epoch seconds; a number above 10^11 is epoch
  milliseconds. Between 1990-01-01 and one day after now, else rejected.
- **text**: must be text; normalised once, in :class:`~collectors.base.Mention`, by
  :func:`monitor.text.normalise_text` (HTML entities decoded, Unicode NFKC, NULs removed, lone
  surrogates replaced); empty after that, or over 100,000 characters, is rejected.
- **platform**: lower-cased; 1-32 letters, digits, ``.``, ``_`` or ``-``, else rejected.
- **language**: an ISO 639 code (``en``, ``pt-BR``), lower-cased; ``und`` and anything that
  is not a code become unknown. **url**: an http(s) link up to 2,048 characters, else dropped.
  **author**: text up to 256 characters, else rejected.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from monitor.text import normalise_text

if TYPE_CHECKING:
    from collectors.base import Mention

MAX_ID = 128
MAX_COUNT = 500_000_000
MAX_REACH = 2_000_000_000
MAX_TEXT = 100_000
MAX_AUTHOR = 256
MAX_URL = 2048
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
MS_ABOVE = 1e11
"""An epoch number above this is milliseconds (1e11 seconds is the year 5138)."""
MAX_PAYLOAD = 1 << 20
"""A dead letter keeps at most this many bytes of its payload."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_PLATFORM = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:[-_][a-z0-9]{1,8})*$")
_NO_LANGUAGE = {"und", "zxx", "mul", "mis"}


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


def _number(value: Any, what: str) -> float | int:
    """``value`` as an int or float: numbers, or text that is a number; raises ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{_show(value)} is not a number ({what})")
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                raise ValueError(f"{_show(value)} is not a number ({what})") from None
    return value


def _show(value: Any, limit: int = 40) -> str:
    """A short printable form of ``value`` for a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def native_id(value: Any) -> str:
    """An id as text: a string or a whole number, 1-128 characters, no control characters."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"{_show(value)} is not an id (write it as text or a whole number)")
    text = str(value).strip()
    if not text:
        raise ValueError("empty (give the platform's id)")
    if len(text) > MAX_ID:
        raise ValueError(f"{len(text):,} characters, more than {MAX_ID}")
    if _CONTROL.search(text):
        raise ValueError("contains a control character (NUL, a line break, ...)")
    return text


def optional_id(value: Any) -> str | None:
    """:func:`native_id`, or None when missing or empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return native_id(value)


def _whole(value: Any, limit: int, what: str) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    number = _number(value, what)
    if isinstance(number, float) and (not math.isfinite(number) or not number.is_integer()):
        raise ValueError(f"{_show(value)} is not a whole number ({what})")
    number = int(number)
    if number < 0:
        raise ValueError(f"{number} is negative ({what})")
    if number > limit:
        raise ValueError(f"{_show(value)} is larger than {limit:,} ({what})")
    return number


def count(value: Any) -> int:
    """An engagement count: 0 to 500,000,000; missing or empty is 0."""
    return _whole(value, MAX_COUNT, "write a whole number from 0, or leave it empty")


def reach(value: Any) -> int:
    """A follower count: 0 to 2,000,000,000; missing or empty is 0."""
    return _whole(value, MAX_REACH, "write a whole number from 0, or leave it empty")


def _parse_time(value: Any, hint: str) -> datetime:
    """``value`` as an aware UTC datetime, range not yet checked; raises ValueError naming the problem."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"empty ({hint})")
    try:
        number: float | int | None = _number(value, hint)
    except ValueError:
        number = None
    if number is None and not isinstance(value, str):
        raise ValueError(f"{_show(value)} is not a time ({hint})")
    if number is None:
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{_show(value)} is not a time ({hint})") from None
    try:
        if number is None:
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if not math.isfinite(number):
            raise ValueError
        return datetime.fromtimestamp(number / 1000 if abs(number) > MS_ABOVE else number, UTC)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"{_show(value)} is out of range ({hint})") from None


def timestamp(value: Any, now: datetime | None = None) -> datetime:
    """An aware UTC time from ISO-8601 text or epoch seconds (milliseconds above 10^11), in the sane range."""
    dt = _parse_time(value, "write an ISO-8601 time, e.g. 2026-11-20T14:05:00Z, or epoch seconds")
    now = now or datetime.now(UTC)
    if dt < EARLIEST or dt > now + FUTURE_SLACK:
        raise ValueError(f"{dt:%Y-%m-%d %H:%M} UTC is outside 1990-01-01 .. tomorrow (check the time and its zone)")
    return dt


def text(value: Any) -> str:
    """Text that is not empty once normalised, at most 100,000 characters (returned as received;
    :class:`~collectors.base.Mention` normalises it)."""
    if not isinstance(value, str):
        raise ValueError("missing or not text" if value is None else f"{_show(value)} is not text")
    clean = normalise_text(value)
    if not clean:
        raise ValueError("empty (give the post's text)")
    if len(clean) > MAX_TEXT:
        raise ValueError(f"{len(clean):,} characters, more than {MAX_TEXT:,}")
    return value


def optional_text(value: Any) -> str | None:
    """Text, or None when missing or empty; over 100,000 characters is rejected."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{_show(value)} is not text")
    clean = normalise_text(value)
    if len(clean) > MAX_TEXT:
        raise ValueError(f"{len(clean):,} characters, more than {MAX_TEXT:,}")
    return value if clean else None


def author(value: Any) -> str:
    """An author's name or handle, up to 256 characters; missing is ``""``."""
    if value is None:
        return ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ValueError(f"{_show(value)} is not text")
    value = str(value)
    if len(normalise_text(value)) > MAX_AUTHOR:
        raise ValueError(f"{len(value):,} characters, more than {MAX_AUTHOR}")
    return value


def platform(value: Any) -> str:
    """A platform name: lower-cased, 1-32 letters, digits, ``.``, ``_`` or ``-``."""
    if not isinstance(value, str):
        raise ValueError(f"{_show(value)} is not text")
    name = value.strip().lower()
    if not _PLATFORM.match(name):
        shown = f"{len(name):,} characters" if len(name) > 40 else _show(name)
        raise ValueError(f"{shown} is not a platform name (1-32 letters, digits, '.', '_' or '-')")
    return name


def language(value: Any) -> str | None:
    """An ISO 639 code, lower-cased with ``_`` as ``-``; ``und`` or anything else is unknown (None)."""
    if not isinstance(value, str):
        return None
    code = value.strip().lower().replace("_", "-")
    if len(code) > 16 or not _LANGUAGE.match(code) or code in _NO_LANGUAGE:
        return None
    return code


def url(value: Any) -> str:
    """An http(s) link up to 2,048 characters; anything else is dropped (``""``)."""
    if not isinstance(value, str):
        return ""
    link = value.strip()
    if len(link) > MAX_URL or _CONTROL.search(link) or not link.lower().startswith(("http://", "https://")):
        return ""
    return link


NativeId = Annotated[str, BeforeValidator(native_id)]
OptionalId = Annotated[str | None, BeforeValidator(optional_id)]
Count = Annotated[int, BeforeValidator(count)]
Reach = Annotated[int, BeforeValidator(reach)]
Time = Annotated[datetime, BeforeValidator(timestamp)]
Text = Annotated[str, BeforeValidator(text)]
OptionalText = Annotated[str | None, BeforeValidator(optional_text)]
Author = Annotated[str, BeforeValidator(author)]
Platform = Annotated[str, BeforeValidator(platform)]
Language = Annotated[str | None, BeforeValidator(language)]
Url = Annotated[str, BeforeValidator(url)]


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


def optional_timestamp(value: Any) -> datetime | None:
    """:func:`timestamp`, or None when missing or empty (the parser then falls back or rejects)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return timestamp(value)


OptionalTime = Annotated[datetime | None, BeforeValidator(optional_timestamp)]


def label(kind: str, item: Any, key: str, fallback: str) -> str:
    """A position for an API item: ``"<kind> <its id>"`` when ``item[key]`` is a usable id, else ``fallback``."""
    value = item.get(key) if isinstance(item, Mapping) else None
    try:
        return f"{kind} {native_id(value)}"
    except ValueError:
        return fallback
