"""The one small interface every source implements.

A collector turns a platform's API into :class:`Mention` objects. It never touches the
database: it yields :class:`Page` objects, each a list of mentions plus the cursor state
that is true once those mentions are stored. The ingest pipeline stores a page and its
cursor in one transaction, so a crash between the two can neither lose nor duplicate a
mention.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar


class CollectorError(Exception):
    """Base class for errors a collector raises to the runner."""


class NotConfigured(CollectorError):
    """The source lacks a setting or secret it needs; it is skipped with one warning.

    The message names the missing environment variable or config key.
    """


class RetriableError(CollectorError):
    """A transient failure (timeout, 5xx, connection reset) that already exhausted retries.

    The source's cursor is left where it was; the next run resumes from it.
    """


class FatalSourceError(CollectorError):
    """A failure that retrying will not fix (bad credentials, access tier).

    The runner pauses the source and records the message, which names the likely cause.
    """


class RateLimited(CollectorError):
    """The platform asked us to wait until ``reset_at`` (UTC) before calling again."""

    def __init__(self, message: str, reset_at: datetime | None = None) -> None:
        super().__init__(message)
        self.reset_at = reset_at


@dataclass(frozen=True)
class Engagement:
    """Counts as the platform reports them at collection time; absent counts are 0."""

    likes: int = 0
    replies: int = 0
    reposts: int = 0
    quotes: int = 0

    @property
    def total(self) -> int:
        return self.likes + self.replies + self.reposts + self.quotes


@dataclass(frozen=True)
class Mention:
    """One post, reply, comment or article that may mention a brand.

    ``platform`` plus ``native_id`` is the identity: the same pair is never stored twice.
    ``created_at`` is timezone-aware UTC. ``author_reach`` is the author's follower count
    (or the platform's nearest equivalent), 0 when unknown. ``conversation_id`` groups a
    thread (X conversation, Reddit submission, HN story) so escalations can be one per
    conversation. ``raw`` is the platform payload for this item, JSON-serialisable.
    """

    platform: str
    native_id: str
    text: str
    created_at: datetime
    url: str = ""
    author: str = ""
    author_reach: int = 0
    engagement: Engagement = field(default_factory=Engagement)
    language: str | None = None
    conversation_id: str | None = None
    in_reply_to: str | None = None
    title: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.platform:
            raise ValueError("mention.platform is empty")
        if not self.native_id:
            raise ValueError("mention.native_id is empty")
        if self.created_at.tzinfo is None:
            object.__setattr__(self, "created_at", self.created_at.replace(tzinfo=UTC))

    @property
    def full_text(self) -> str:
        """Title and body together, as matching and scoring see them."""
        if self.title and self.title not in self.text:
            return f"{self.title}\n{self.text}" if self.text else self.title
        return self.text


@dataclass(frozen=True)
class Page:
    """Mentions to store together with the cursor state that holds once they are stored."""

    mentions: list[Mention]
    cursor: dict[str, Any]


class Collector(abc.ABC):
    """A source of mentions. Subclasses declare ``name`` and implement :meth:`fetch`.

    ``options`` are the source's own settings from config.yaml; ``brands`` the configured
    brands (so a collector can build its query); ``env`` the environment mapping secrets
    are read from (``os.environ`` in production, a dict in tests).
    """

    name: ClassVar[str]

    def __init__(self, options: Any, brands: list[Any], env: Mapping[str, str]) -> None:
        self.options = options
        self.brands = brands
        self.env = env

    def require_env(self, var: str) -> str:
        """Return the secret in ``var`` (or the file named by ``<var>_FILE``); raise :class:`NotConfigured`."""
        from monitor.config import secret

        value = secret(var, self.env)
        if not value:
            raise NotConfigured(f"{self.name}: environment variable {var} is not set; "
                                f"export it or disable sources.{self.name} in config.yaml")
        return value

    @abc.abstractmethod
    def fetch(self, cursor: dict[str, Any]) -> Iterator[Page]:
        """Yield pages of new mentions since ``cursor`` (``{}`` on the first run).

        Each page's ``cursor`` must be safe to persist as soon as that page is stored:
        resuming from it after a crash or a rate limit neither skips nor repeats items.
        Raises :class:`NotConfigured`, :class:`RateLimited`, :class:`RetriableError` or
        :class:`FatalSourceError`; a single malformed item is logged and skipped.
        """
