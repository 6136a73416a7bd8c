"""Text rules every part of the monitor shares, each written once.

- :func:`fold`: how text is compared (Unicode NFKC, case-folded);
- :func:`term_regex` / :func:`find_terms`: a term or phrase as a whole word, any case, also as
  a hashtag (``#lawsuit``) and across line breaks; used by the escalation rules' risk terms
  (brand names add the written forms of :mod:`monitor.ingest.matching` on the same folding:
  plurals, versions, joined words, tickers);
- :func:`handle_regex`: an ``@handle`` not glued to a longer handle;
- :func:`normalise_text`: the one normalisation every source's text gets at the edge (entities
  decoded, NFKC, no NULs, trimmed), so storage, matching and the model read the same text;
- :func:`safe_url`: a link that may be offered to a person (http or https only);
- :func:`mask_url`: any URL's password hidden, wherever a URL is printed.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache


def fold(text: str) -> str:
    """Text as the matchers compare it: NFKC-normalised and case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def phrase(term: str) -> str:
    """The regex body of ``term`` (folded, words escaped, any whitespace between words)."""
    return r"\s+".join(re.escape(w) for w in fold(term).split())


def word_regex(term: str) -> str:
    """``term`` as a whole word or phrase: not inside a longer word (``Delta`` never in ``deltaic``)."""
    return rf"(?<!\w){phrase(term)}(?!\w)"


def compile_any(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for any of ``patterns``, longer alternatives first (so ``acme cloud`` wins over
    ``acme``); None when there are none."""
    parts = [p for p in patterns if p]
    if not parts:
        return None
    return re.compile("|".join(sorted(parts, key=len, reverse=True)))


@lru_cache(maxsize=256)
def term_regex(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    """A compiled whole-word regex for any of ``terms``, to run on :func:`fold`-ed text."""
    return compile_any(word_regex(t) for t in terms if t.strip())


def find_terms(text: str, terms: Iterable[str]) -> list[str]:
    """The ``terms`` found in ``text`` as whole words or phrases (folded, spaces collapsed), in order."""
    pattern = term_regex(tuple(terms))
    if pattern is None:
        return []
    found: list[str] = []
    for m in pattern.finditer(fold(text)):
        term = " ".join(m.group(0).split())
        if term not in found:
            found.append(term)
    return found


def handle_name(handle: str) -> str:
    """``@acme`` or ``@acme@mastodon.social`` -> ``acme`` (folded): the part a post writes after ``@``."""
    return fold(handle.lstrip("@").split("@")[0])


def handle_regex(handle: str) -> str:
    """``@handle`` in folded text, not preceded by a word or ``@`` and not followed by a word character."""
    return rf"(?<![\w@])@{re.escape(handle_name(handle))}(?!\w)"


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def normalise_text(text: str) -> str:
    """Text as it is stored, matched and scored: HTML entities decoded (X and Reddit send ``&`` as
    ``&amp;``), lone surrogates (invalid Unicode) replaced by U+FFFD, Unicode NFKC, NULs removed,
    surrounding whitespace trimmed; inner line breaks kept. Apply it once: decoding entities
    twice would turn a written ``&amp;`` into ``&``."""
    text = _SURROGATE.sub("\ufffd", html.unescape(text))
    return unicodedata.normalize("NFKC", text).replace("\x00", "").strip()


def safe_url(url: object) -> str | None:
    """``url`` if it is an http(s) link, else None (a ``javascript:`` link is never offered)."""
    return url if isinstance(url, str) and url.lower().startswith(("http://", "https://")) else None


_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*(?=@)")
_QUERY_PASSWORD = re.compile(r"(?i)([?&;](?:password|passwd|pwd)=)[^&;\s]*")


def mask_url(text: str) -> str:
    """``text`` with the password of every URL in it shown as ``***`` (``postgresql://u:***@host/db``),
    also one given as a ``password=`` query parameter."""
    return _QUERY_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1***", text))
