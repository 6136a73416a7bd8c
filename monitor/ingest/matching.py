"""Which configured brands a piece of text mentions.

A term matches as a whole word or phrase, case-insensitively, after Unicode NFKC
normalisation and case folding ("Delta" matches "delta's" and "#Delta" but not
"deltaic"; "Müller" matches "MÜLLER"). A multi-word term also matches its hashtag form
("#DeltaAirlines") and a URL that contains it ("delta-airlines.com", "/deltaairlines/").
Handles match as ``@handle`` not followed by a word character. Exclusion terms win: a
text that contains one does not match that brand at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.config import BrandConfig
from monitor.text import compile_any as _compile
from monitor.text import fold, handle_regex, word_regex

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)


def _squashed(term: str) -> str:
    return re.sub(r"[\W_]+", "", fold(term))


@dataclass(frozen=True)
class BrandMatcher:
    """A compiled matcher for one brand."""

    name: str
    terms: re.Pattern[str] | None
    hashtags: re.Pattern[str] | None
    handles: re.Pattern[str] | None
    url_needles: tuple[str, ...]
    exclude: re.Pattern[str] | None
    languages: frozenset[str]

    @classmethod
    def build(cls, brand: BrandConfig) -> BrandMatcher:
        terms = brand.terms
        multi = [t for t in terms if len(fold(t).split()) > 1 or _squashed(t) != fold(t)]
        return cls(
            name=brand.name,
            terms=_compile([word_regex(t) for t in terms]),
            hashtags=_compile([rf"#{re.escape(_squashed(t))}(?!\w)" for t in multi if _squashed(t)]),
            handles=_compile([handle_regex(h) for h in brand.handles]),
            url_needles=tuple(
                n for t in terms for n in {_squashed(t), "-".join(fold(t).split())} if len(n) >= 3
            ),
            exclude=_compile([word_regex(t) for t in brand.exclude]),
            languages=frozenset(brand.languages),
        )

    def match(self, text: str, language: str | None = None) -> list[str]:
        """The matched terms, in the order found (empty when the brand is not mentioned)."""
        if self.languages and language and language.split("-")[0].lower() not in self.languages:
            return []
        folded = fold(text)
        if self.exclude is not None and self.exclude.search(folded):
            return []
        found: list[str] = []
        for pattern in (self.terms, self.hashtags, self.handles):
            if pattern is not None:
                found.extend(m.group(0) for m in pattern.finditer(folded))
        for url in _URL.findall(folded):
            found.extend(f"url:{n}" for n in self.url_needles if n in url)
        return list(dict.fromkeys(found))


class Matcher:
    """All brands' matchers; :meth:`match` returns brand name -> matched terms."""

    def __init__(self, brands: Iterable[BrandConfig]) -> None:
        self.brands = [BrandMatcher.build(b) for b in brands]

    def match(self, text: str, language: str | None = None) -> dict[str, list[str]]:
        out = {}
        for b in self.brands:
            terms = b.match(text, language)
            if terms:
                out[b.name] = terms
        return out
