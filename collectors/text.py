"""Small text and payload helpers shared by the collectors: HTML to plain text, JSON-safe raw."""

from __future__ import annotations

import hashlib
import html.entities
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

_BLOCK_TAGS = {"p", "br", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "tr"}


class _Stripper(HTMLParser):
    """Tags out, entities kept as written: :func:`monitor.text.normalise_text` decodes them, once."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.parts: list[str] = []

    def handle_entityref(self, name: str) -> None:
        self.parts.append(f"&{name};" if f"{name};" in html.entities.html5 else f"&{name}")

    def handle_charref(self, name: str) -> None:
        self.parts.append(f"&#{name};")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS and tag != "br":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def strip_html(markup: str | None) -> str:
    """Return ``markup`` as text: tags removed, blank lines collapsed, entities left as written.

    Paragraphs and ``<br>`` become line breaks. The entities are decoded by the edge's one
    normalisation (:class:`~collectors.base.Mention`), so a mention's text is decoded exactly
    once whichever source it came from. ``None`` or empty input returns ``""``.
    """
    if not markup:
        return ""
    parser = _Stripper()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts).replace("&nbsp;", " ").replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def from_epoch(seconds: float | int | str) -> datetime:
    """Return the aware UTC datetime for epoch ``seconds``; raises ValueError/TypeError if invalid."""
    return datetime.fromtimestamp(float(seconds), UTC)


def from_iso(value: str) -> datetime:
    """Parse an ISO 8601 timestamp (``Z`` allowed) as aware UTC; raises ValueError if invalid."""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def jsonable(value: Any) -> Any:
    """Return ``value`` converted to plain JSON types (struct_time and datetime become ISO text)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, time.struct_time):
        return datetime(*value[:6], tzinfo=UTC).isoformat()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def mentions_any(text: str, terms: list[str]) -> bool:
    """True when ``text`` contains any of ``terms``, case-insensitively (a cheap pre-filter)."""
    low = text.lower()
    return any(t.lower() in low for t in terms)


def id_key(native_id: str) -> tuple[int, str]:
    """Sort key for numeric platform ids held as strings (longer means larger, then lexical)."""
    return (len(native_id), native_id)


def short_id(value: str, limit: int = 128) -> str:
    """``value`` when it fits the store's id column (``limit`` chars), else a stable ``sha1:`` digest."""
    if len(value) <= limit:
        return value
    return "sha1:" + hashlib.sha1(value.encode("utf-8")).hexdigest()
