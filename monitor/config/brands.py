"""``brands``: the brands to watch, their terms, products, tickers, handles, exclusions, competitors
and languages. How each is matched is :mod:`monitor.ingest.matching`'s rule."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from monitor.config.types import Strict


class BrandConfig(Strict):
    name: str = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    tickers: list[str] = Field(default_factory=list)
    handles: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    competitors: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    is_own: bool = True

    @field_validator("handles")
    @classmethod
    def _handles(cls, v: list[str]) -> list[str]:
        out = []
        for h in v:
            h = h.strip()
            if not re.fullmatch(r"@?[A-Za-z0-9_.]{1,50}(@[A-Za-z0-9.-]+)?", h):
                raise ValueError(f"{h!r} is not a handle; write it like @acme")
            out.append(h if h.startswith("@") else f"@{h}")
        return out

    @field_validator("tickers")
    @classmethod
    def _tickers(cls, v: list[str]) -> list[str]:
        """``AAPL`` (matched as $AAPL, #AAPL and AAPL) or ``$CAT`` (only as $CAT and #CAT), upper-cased."""
        out = []
        for t in v:
            t = t.strip().upper().replace("#", "$", 1)
            if not re.fullmatch(r"\$?[A-Z][A-Z0-9]{0,9}(?:[.-][A-Z0-9]{1,4})?", t):
                raise ValueError(f"{t!r} is not a stock ticker; write it like AAPL, BRK.B, or $CAT to "
                                 "match only the cashtag")
            out.append(t)
        return list(dict.fromkeys(out))

    @field_validator("keywords", "aliases", "products", "exclude")
    @classmethod
    def _terms(cls, v: list[str]) -> list[str]:
        for term in v:
            if not term.strip():
                raise ValueError("contains an empty term; remove it")
        return [t.strip() for t in v]

    @field_validator("languages")
    @classmethod
    def _languages(cls, v: list[str]) -> list[str]:
        for lang in v:
            if not re.fullmatch(r"[a-z]{2,3}", lang):
                raise ValueError(f"{lang!r} is not an ISO 639-1 code; write e.g. en or de")
        return v

    @model_validator(mode="after")
    def _has_terms(self) -> BrandConfig:
        if not (self.keywords or self.aliases or self.products or self.tickers or self.handles):
            raise ValueError(
                "has no keywords, aliases, products, tickers or handles; add at least one keyword, e.g. "
                f"keywords: [{self.name}]"
            )
        return self

    @property
    def terms(self) -> list[str]:
        """Keywords, aliases then products, de-duplicated case-insensitively, order kept.

        What the collectors search for and the matcher matches as words; tickers are apart
        (:attr:`tickers`), since ``AAPL`` is matched by other rules than a word.
        """
        seen: set[str] = set()
        out = []
        for t in [*self.keywords, *self.aliases, *self.products]:
            if t.lower() not in seen:
                seen.add(t.lower())
                out.append(t)
        return out
