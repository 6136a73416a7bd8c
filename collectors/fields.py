"""The rules for each value an item may carry, written once: the edge models of every source use them.

Each rule returns the value as the store will hold it (a fix written here) or raises
ValueError saying what is wrong and how to fix it; the pydantic types at the end attach a
rule to a model field (:mod:`collectors.edge` turns the error into a rejection naming the field).

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

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator

from monitor.text import normalise_text

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

_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_PLATFORM = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:[-_][a-z0-9]{1,8})*$")
_NO_LANGUAGE = {"und", "zxx", "mul", "mis"}


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
    if type(value) is int and 0 <= value <= limit:  # the usual case, decided without the checks below
        return value
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


def optional_timestamp(value: Any) -> datetime | None:
    """:func:`timestamp`, or None when missing or empty (the parser then falls back or rejects)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return timestamp(value)



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
OptionalTime = Annotated[datetime | None, BeforeValidator(optional_timestamp)]
