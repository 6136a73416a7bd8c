"""The config sections for brands and sources, and the field types every section shares.

Re-exported by :mod:`monitor.config`, which holds the whole file's model and its loading.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}


def _parse_duration(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        m = _DURATION.match(value)
        if not m:
            raise ValueError(f"{value!r} is not a duration; write e.g. 90s, 15m, 1h or 1d")
        return timedelta(seconds=float(m.group(1)) * _UNIT_SECONDS[(m.group(2) or "s").lower()])
    return value


Duration = Annotated[timedelta, BeforeValidator(_parse_duration)]
EnvVarName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- brands


class BrandConfig(Strict):
    name: str = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
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

    @field_validator("keywords", "aliases", "exclude")
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
        if not (self.keywords or self.aliases or self.handles):
            raise ValueError(
                "has no keywords, aliases or handles; add at least one keyword, e.g. "
                f"keywords: [{self.name}]"
            )
        return self

    @property
    def terms(self) -> list[str]:
        """Keywords then aliases, de-duplicated case-insensitively, order kept."""
        seen: set[str] = set()
        out = []
        for t in [*self.keywords, *self.aliases]:
            if t.lower() not in seen:
                seen.add(t.lower())
                out.append(t)
        return out


# ---------------------------------------------------------------- sources


class SourceBase(Strict):
    enabled: bool = False
    interval: Duration = timedelta(minutes=15)

    @field_validator("interval")
    @classmethod
    def _positive(cls, v: timedelta) -> timedelta:
        if v < timedelta(seconds=10):
            raise ValueError("must be at least 10s; polling faster gets the source rate-limited")
        return v


class FileSource(SourceBase):
    """Imports JSONL or CSV files dropped into ``path`` (a file or a folder)."""

    path: Path = Path("data/inbox")
    platform: str = "file"


class XSource(SourceBase):
    bearer_token_env: EnvVarName = "X_BEARER_TOKEN"
    exclude_retweets: bool = True
    max_results: int = Field(100, ge=10, le=100)
    max_pages: int = Field(10, ge=1, le=500)
    base_url: str | None = None


class RedditSource(SourceBase):
    client_id_env: EnvVarName = "REDDIT_CLIENT_ID"
    client_secret_env: EnvVarName = "REDDIT_CLIENT_SECRET"
    user_agent_env: EnvVarName = "REDDIT_USER_AGENT"
    subreddits: list[str] = Field(default_factory=list)
    search_all: bool = True
    comments: bool = True
    limit: int = Field(100, ge=1, le=1000)


class HackerNewsSource(SourceBase):
    base_url: str = "https://hn.algolia.com/api/v1"
    hits_per_page: int = Field(100, ge=1, le=1000)
    max_pages: int = Field(10, ge=1, le=100)


class MastodonSource(SourceBase):
    instances: list[str] = Field(default_factory=lambda: ["https://mastodon.social"])
    hashtags: list[str] = Field(default_factory=list)
    access_token_env: EnvVarName = "MASTODON_ACCESS_TOKEN"
    limit: int = Field(40, ge=1, le=40)
    max_pages: int = Field(5, ge=1, le=100)


class RssSource(SourceBase):
    feeds: list[str] = Field(default_factory=list)


class SourcesConfig(Strict):
    file: FileSource = FileSource(enabled=True, interval=timedelta(minutes=1))
    x: XSource = XSource()
    reddit: RedditSource = RedditSource()
    hackernews: HackerNewsSource = HackerNewsSource()
    mastodon: MastodonSource = MastodonSource()
    rss: RssSource = RssSource()

    def enabled(self) -> dict[str, SourceBase]:
        """Return the enabled sources by name, in declaration order."""
        return {n: s for n, s in self if s.enabled}
