"""Which configured brands a piece of text mentions: the rules, compiled once per brand set.

Text is compared after Unicode NFKC normalisation and case folding (:func:`monitor.text.fold`).

- **keywords, aliases, products** match as whole words or phrases ("Delta" never in
  "deltaic", "Apple" never in "pineapple"), and also as people write them:
  possessive ("delta's"), plural ("iPhones", "Androids", "BlackBerries"), a version glued
  on ("iPhone4S", "iPad2", "iPad_2", "iPad2s"; "iPad 2" is already the word), a hashtag
  ("#iPad"), and a name of several words joined, hyphenated, slashed or underscored
  ("timewarner", "time-warner cable", "Time/Warner", "#TimeWarner"). An apostrophe in a
  term is optional and may be straight or curly ("McDonald's", "McDonalds", "McDonald’s").
  Inside a camel-case hashtag each part counts as a word ("#AppleStore", "#MarissaGoogle");
  an all-lowercase hashtag does not ("#applesauce").
- **tickers** match as ``$AAPL`` or ``#AAPL`` in any case, and as ``AAPL`` alone when it is
  written in capitals and has 3 or more characters; never inside a word, a longer ticker
  ("$AAPLX") or a name like "AT&T" or "T-Mobile". A ticker configured as ``$CAT`` matches
  only as ``$CAT``/``#CAT`` (for tickers that are also words people shout: CAT, NOW, ALL).
- **handles** match as ``@handle`` not followed by a word character.
- **exclusions** are matched by the same word rules and win: a text containing one does not
  match that brand at all ("apple pie", "apple pies", "#ApplePie").

Speed: each brand's rules are one compiled regex, compiled once per brand set (:func:`compiled`
keeps the last few); before running it the text is checked for a few plain substrings the regex
cannot match without, so a brand the text does not name costs a few ``in`` tests.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from monitor.config import BrandConfig
from monitor.ingest.language import UNKNOWN, Language, resolve_language
from monitor.text import fold, handle_name, handle_regex

_PARTS = re.compile(r"[\s/_-]+")
_SEP = r"(?:\s*[-/]\s*|[\s_]+)?"  # between the words of a name: space, hyphen, slash, underscore, none
_APOSTROPHE = re.compile(r"['’]")
_SUFFIX = r"(?:[_-]?\d+(?:\.\d+)?[a-z]?)?(?:e?s)?"  # a version glued on, then a plural
_TAG = re.compile(r"#(\w*[A-Z]\w*)")  # hashtags with a capital in them
_CAMEL_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")  # AppleStore -> Apple, Store


def _word_body(part: str) -> str:
    """One word of a term as a regex body: escaped, its apostrophes optional and of either kind."""
    return r"['’]?".join(re.escape(p) for p in _APOSTROPHE.split(part))


def _y_plural(word: str) -> bool:
    """Whether ``word``'s plural ends in -ies (blackberry -> blackberries, not monkey -> monkies)."""
    return len(word) > 2 and word.endswith("y") and word[-2] not in "aeiou'’"


def term_pattern(term: str) -> str:
    """The regex (for :func:`fold`-ed text) of a keyword, alias, product or exclusion: the whole
    word or phrase, its words joined by any separator or none, with a plural or a version after."""
    parts = [p for p in _PARTS.split(fold(term)) if p]
    if not parts:
        return ""
    last = parts[-1]
    tail = _word_body(last[:-1]) + r"(?:y|ies)" if _y_plural(last) else _word_body(last)
    body = _SEP.join([*(_word_body(p) for p in parts[:-1]), tail])
    return rf"(?<!\w){body}{_SUFFIX}(?!\w)"


def ticker_patterns(ticker: str) -> tuple[str, str]:
    """``($AAPL/#AAPL in folded text, AAPL in capitals in unfolded text)`` as regex bodies; the
    second is empty for a ticker configured as ``$CAT`` or shorter than 3 characters."""
    name = ticker.lstrip("$")
    folded, exact = re.escape(name.casefold()), re.escape(name)
    tagged = rf"(?<![\w&$#])[$#]{folded}(?![\w&])"
    if ticker.startswith("$") or len(name) < 3:
        return tagged, ""
    return tagged, rf"(?<![\w&@#$'’.-]){exact}(?![\w&]|-[^\W\d_])"


def _needle(term: str) -> str:
    """A plain substring every match of ``term`` contains (its first word up to any apostrophe)."""
    parts = [p for p in _PARTS.split(fold(term)) if p]
    if not parts:
        return ""
    first = _APOSTROPHE.split(parts[0])[0]
    return first[:-1] if len(parts) == 1 and _y_plural(first) else first  # blackberr(y|ies)


def _camel_words(tag: str) -> list[str]:
    """``AppleStore`` -> ``[Apple, Store]``, ``SXSWApple`` -> ``[SXSW, Apple]``, ``iPhoneApp`` ->
    ``[iPhone, App]`` (a lone lowercase ``i`` or ``e`` starts the next word)."""
    words: list[str] = []
    for w in _CAMEL_WORD.findall(tag):
        if words and words[-1] in ("i", "e"):
            words[-1] += w
        else:
            words.append(w)
    return words


def camel_parts(text: str) -> str:
    """The words inside the text's camel-case hashtags, folded, one hashtag a line
    (``#AppleStore`` -> ``apple store``); empty when there are none."""
    if "#" not in text:
        return ""
    tags = (_camel_words(m.group(1)) for m in _TAG.finditer(text))
    return "\n".join(fold(" ".join(words)) for words in tags if len(words) > 1)


def _compile(named: dict[str, str]) -> re.Pattern[str] | None:
    parts = [f"(?P<{k}>{v})" for k, v in sorted(named.items(), key=lambda kv: -len(kv[1])) if v]
    return re.compile("|".join(parts)) if parts else None


def _prepare(text: str) -> tuple[str, str]:
    """``text`` NFKC-normalised (what bare tickers and camel-case hashtags are read in) and folded."""
    nfkc = unicodedata.normalize("NFKC", text)
    return nfkc, fold(nfkc)


class Hit(NamedTuple):
    """One rule that fired: ``kind`` (keyword, alias, product, ticker, handle), the configured
    ``term``, and the ``form`` found in the text (folded, spaces collapsed). A named tuple: one is
    made per rule that fires on every mention ingested, and a frozen dataclass costs three times more."""

    kind: str
    term: str
    form: str


@dataclass(frozen=True)
class BrandMatcher:
    """One brand's rules, compiled."""

    name: str
    words: re.Pattern[str] | None  # keywords, aliases, products and $/# tickers, on folded text
    bare_tickers: re.Pattern[str] | None  # AAPL in capitals, on the unfolded text
    exclude: re.Pattern[str] | None
    rules: dict[str, tuple[str, str]]  # group name -> (kind, term)
    needles: tuple[str, ...]
    languages: frozenset[str]

    @classmethod
    def build(cls, brand: BrandConfig) -> BrandMatcher:
        """Compile ``brand``'s rules; raises nothing (the config has been validated)."""
        rules: dict[str, tuple[str, str]] = {}
        words: dict[str, str] = {}
        bare: dict[str, str] = {}
        kinds = [("keyword", t) for t in brand.keywords] + [("alias", t) for t in brand.aliases]
        kinds += [("product", t) for t in brand.products]
        seen: set[str] = set()
        for kind, term in kinds:
            if fold(term) not in seen:
                seen.add(fold(term))
                key = f"r{len(rules)}"
                rules[key] = (kind, term)
                words[key] = term_pattern(term)
        for h in brand.handles:
            key = f"r{len(rules)}"
            rules[key] = ("handle", h)
            words[key] = handle_regex(h)
        for t in brand.tickers:
            tagged, exact = ticker_patterns(t)
            key = f"r{len(rules)}"
            rules[key] = ("ticker", t)
            words[key] = tagged
            if exact:
                bare[f"{key}b"] = exact
                rules[f"{key}b"] = ("ticker", t)
        needles = [_needle(t) for _, t in kinds] + [handle_name(h) for h in brand.handles]
        needles += [t.lstrip("$").casefold() for t in brand.tickers]
        return cls(
            name=brand.name,
            words=_compile(words),
            bare_tickers=_compile(bare),
            exclude=_compile({f"x{i}": term_pattern(t) for i, t in enumerate(brand.exclude)}),
            rules=rules,
            needles=tuple(dict.fromkeys(n for n in needles if n)),
            languages=frozenset(brand.languages),
        )

    def could_match(self, folded: str) -> bool:
        """False when ``folded`` lacks every plain substring a rule needs (then no rule can fire)."""
        return any(n in folded for n in self.needles)

    def hits(self, text: str, folded: str, tags: str, *, excluding: bool = True) -> list[Hit]:
        """The rules that fire on ``text`` (NFKC-normalised; ``folded`` is :func:`fold` of it,
        ``tags`` its :func:`camel_parts`), de-duplicated, in the order found; empty when an
        exclusion matches (unless ``excluding`` is False). Callers skip the brands whose
        :meth:`could_match` says no, which is what makes a brand the text does not name cheap."""
        found: list[Hit] = []
        for pattern, haystack in ((self.words, folded), (self.words, tags), (self.bare_tickers, text)):
            if pattern is None or not haystack:
                continue
            for m in pattern.finditer(haystack):
                kind, term = self.rules[m.lastgroup or ""]
                found.append(Hit(kind, term, " ".join(m.group(0).split()).casefold()))
        if found and excluding and self.vetoed_by(folded, tags):
            return []
        return list(dict.fromkeys(found))

    def vetoed_by(self, folded: str, tags: str) -> str | None:
        """The exclusion found in the folded text or its hashtags' words, or None."""
        if self.exclude is None:
            return None
        m = self.exclude.search(folded) or (self.exclude.search(tags) if tags else None)
        return " ".join(m.group(0).split()) if m else None

    def speaks(self, language: str | None) -> bool:
        """Whether a mention in ``language`` is kept for this brand (unknown language always is)."""
        return not self.languages or language is None or language.split("-")[0].lower() in self.languages


@dataclass
class Judgement:
    """What matching decided for one text: ``brands`` kept (name -> matched forms), the brands
    whose rules fired but whose ``languages`` leave the text out (``dropped``), the rules that
    fired per brand (``hits``), and the text's ``language``."""

    brands: dict[str, list[str]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    hits: dict[str, list[Hit]] = field(default_factory=dict)
    language: Language = UNKNOWN


class Matcher:
    """All brands' matchers, compiled once; :meth:`match` returns brand name -> matched terms."""

    def __init__(self, brands: Iterable[BrandConfig]) -> None:
        self.brands = [BrandMatcher.build(b) for b in brands]

    def hits(self, text: str) -> dict[str, list[Hit]]:
        """Brand name -> the rules that fire on ``text``, language aside (brands with none left out)."""
        text, folded = _prepare(text)
        candidates = [b for b in self.brands if b.could_match(folded)]
        if not candidates:
            return {}
        tags = camel_parts(text)
        out = {}
        for b in candidates:
            found = b.hits(text, folded, tags)
            if found:
                out[b.name] = found
        return out

    def excluded(self, text: str) -> dict[str, str]:
        """Brand name -> the exclusion that vetoed it, for the brands whose rules fire on ``text``
        but that an exclusion keeps out (what ``monitor check-brands`` explains a miss with)."""
        text, folded = _prepare(text)
        tags = camel_parts(text)
        out = {}
        for b in self.brands:
            if (b.could_match(folded) and b.hits(text, folded, tags, excluding=False)
                    and (veto := b.vetoed_by(folded, tags))):
                out[b.name] = veto
        return out

    def judge(self, text: str, language: str | None = None,
              detect: Callable[[str | None, str], Language] = resolve_language) -> Judgement:
        """Match ``text``, then keep each brand only if it watches the text's language.

        The language is ``language`` (the platform's) when it names one, else detected by
        ``detect``; detection runs only when some brand matched. Returns a :class:`Judgement`.
        """
        hits = self.hits(text)
        if not hits:
            return Judgement()
        lang = detect(language, text)
        out = Judgement(hits=hits, language=lang)
        for b in self.brands:
            if b.name in hits:
                if b.speaks(lang.code):
                    out.brands[b.name] = list(dict.fromkeys(h.form for h in hits[b.name]))
                else:
                    out.dropped.append(b.name)
        return out

    def match(self, text: str, language: str | None = None) -> dict[str, list[str]]:
        """Brand name -> matched forms, for the brands ``text`` mentions in a language they watch."""
        return self.judge(text, language).brands


_COMPILED: dict[tuple[int, ...], tuple[tuple[BrandConfig, ...], Matcher]] = {}
_KEEP = 8


def compiled(brands: Iterable[BrandConfig]) -> Matcher:
    """The :class:`Matcher` for this brand set, compiled on first use and then reused.

    Keyed by the brand configs themselves (a config is parsed once and frozen, so the same
    objects mean the same rules); the last few sets are kept.
    """
    chosen = tuple(brands)
    key = tuple(id(b) for b in chosen)
    hit = _COMPILED.get(key)
    if hit is None:
        if len(_COMPILED) >= _KEEP:
            _COMPILED.clear()
        hit = _COMPILED[key] = (chosen, Matcher(chosen))  # holding the configs keeps their ids unique
    return hit[1]
