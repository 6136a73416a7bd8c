"""Search queries built from the brands' config: X's operator syntax with its 512-character limit.

X recent search takes one rule of at most 512 characters. Each brand becomes
``(kw1 OR "multi word" OR @handle) -excluded -is:retweet (lang:en OR lang:de)``; brands
that share exclusions and languages share queries, and a query that would pass the limit is
split into several with the same suffix. The ingest pipeline matches brands precisely, so
over-fetching here is harmless; missing a term is not.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

X_QUERY_LIMIT = 512
_BARE = re.compile(r"^[#$@]?[\w]+$")
_OPERATOR_WORDS = {"or", "and", "not"}


def quote_term(term: str) -> str:
    """Return ``term`` as one X query token: bare when a single word, double-quoted otherwise.

    Double quotes inside the term are dropped (X has no escape for them).
    """
    term = term.replace('"', " ").strip()
    term = " ".join(term.split())
    if _BARE.match(term) and term.lower() not in _OPERATOR_WORDS:
        return term
    return f'"{term}"'


def x_handle(handle: str) -> str | None:
    """``@acme`` as an X mention operator; None for a fediverse handle like ``@acme@mastodon.social``."""
    name = handle.strip().lstrip("@")
    if "@" in name or not re.fullmatch(r"\w{1,15}", name):
        return None
    return f"@{name}"


def x_suffix(brand: Any, exclude_retweets: bool) -> str:
    """The part every query of ``brand`` ends with: exclusions, ``-is:retweet``, languages."""
    parts = [f"-{quote_term(t)}" for t in brand.exclude]
    if exclude_retweets:
        parts.append("-is:retweet")
    langs = list(dict.fromkeys(brand.languages))
    if len(langs) == 1:
        parts.append(f"lang:{langs[0]}")
    elif langs:
        parts.append("(" + " OR ".join(f"lang:{lang}" for lang in langs) + ")")
    return " ".join(parts)


def _join(tokens: list[str], suffix: str) -> str:
    group = tokens[0] if len(tokens) == 1 else "(" + " OR ".join(tokens) + ")"
    return f"{group} {suffix}".strip()


def pack(tokens: list[str], suffix: str, limit: int = X_QUERY_LIMIT) -> list[str]:
    """Split ``tokens`` (OR'd) into as few queries of at most ``limit`` characters as it takes.

    Raises ValueError when one token with the suffix alone passes the limit.
    """
    queries: list[str] = []
    current: list[str] = []
    for token in tokens:
        if len(_join([token], suffix)) > limit:
            raise ValueError(f"the term {token} with its exclusions is longer than {limit} characters")
        if current and len(_join([*current, token], suffix)) > limit:
            queries.append(_join(current, suffix))
            current = []
        current.append(token)
    if current:
        queries.append(_join(current, suffix))
    return queries


def x_queries(brands: Iterable[Any], exclude_retweets: bool = True, limit: int = X_QUERY_LIMIT) -> list[str]:
    """All X recent-search queries for ``brands``, each at most ``limit`` characters, order kept.

    Brands with the same exclusions and languages share queries. When a brand's exclusions
    alone leave no room for a term, exclusions are dropped from the end (with a warning):
    the pipeline applies them anyway. Raises ValueError for a term too long on its own.
    """
    groups: dict[str, list[str]] = {}
    for brand in brands:
        tokens = [quote_term(t) for t in brand.terms]
        tokens += [h for h in (x_handle(h) for h in brand.handles) if h]
        suffix = x_suffix(brand, exclude_retweets)
        longest = max((len(t) for t in tokens), default=0)
        while len(_join(["x" * longest], suffix)) > limit and brand.exclude:
            log.warning("x: brand %s has too many exclusions for one query; the last ones are "
                        "left to the pipeline", brand.name)
            brand = brand.model_copy(update={"exclude": brand.exclude[:-1]})
            suffix = x_suffix(brand, exclude_retweets)
        bucket = groups.setdefault(suffix, [])
        bucket.extend(t for t in tokens if t.lower() not in {b.lower() for b in bucket})
    queries: list[str] = []
    for suffix, tokens in groups.items():
        queries.extend(pack(tokens, suffix, limit))
    return queries


REDDIT_QUERY_LIMIT = 512


def or_queries(terms: Iterable[str], limit: int = REDDIT_QUERY_LIMIT) -> list[str]:
    """Terms double-quoted and OR'd (Reddit's lucene syntax), split to stay within ``limit`` characters.

    Raises ValueError when one term alone passes the limit.
    """
    tokens = [f'"{" ".join(t.replace(chr(34), " ").split())}"' for t in terms]
    return pack(tokens, "", limit) if tokens else []
