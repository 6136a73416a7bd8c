"""The one small interface every source implements, and the one declaration that registers it.

A collector turns a platform's API into :class:`Mention` objects. It never touches the
database: it yields :class:`Page` objects, each a list of mentions, the items it had to
reject (:class:`~collectors.edge.Rejected`, each naming its field), and the cursor state that
is true once both are stored. The ingest pipeline stores a page, its rejects (in the
dead-letter table) and its cursor in one transaction, so a crash between them can neither
lose nor duplicate an item, and the cursor never moves past an item that is not kept.

A collector module declares everything about its source once, on the class: ``name``, its
``Options`` model (the ``sources.<name>`` section of config.yaml) and its ``secrets``
(which option names the environment variable holding each one). The config's sources
section and :mod:`collectors.registry` are built from these declarations, and the secrets
are read for the collector by this base class (so ``<VAR>_FILE`` works for every source).
Adding a source is one new module here plus its tests.
"""

from __future__ import annotations

import abc
import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import field_validator

from collectors.edge import Invalid, Rejected, accept
from monitor.config.secrets import secret
from monitor.config.types import Duration, Strict
from monitor.errors import MonitorError
from monitor.text import normalise_text


class CollectorError(MonitorError):
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


def full_text(title: str | None, text: str) -> str:
    """Title and body as one text, the way matching, scoring and the rules all read a mention.

    ``title + "\\n" + text`` when there is a title the body does not already contain (an RSS
    entry's text starts with its title), else the body alone (the title when the body is empty).
    """
    if title and title not in text:
        return f"{title}\n{text}" if text else title
    return text


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
        object.__setattr__(self, "text", normalise_text(self.text or ""))
        object.__setattr__(self, "author", normalise_text(self.author or ""))
        if self.title is not None:
            object.__setattr__(self, "title", normalise_text(self.title) or None)

    @property
    def full_text(self) -> str:
        """Title and body together, as matching and scoring see them (see :func:`full_text`)."""
        return full_text(self.title, self.text)


@dataclass(frozen=True)
class Page:
    """Mentions and rejected items to store together with the cursor state that holds once both are stored."""

    mentions: list[Mention]
    cursor: dict[str, Any]
    rejected: list[Rejected] = field(default_factory=list)


def split(items: list[Mention | Rejected]) -> tuple[list[Mention], list[Rejected]]:
    """A parser's results as ``(mentions, rejected)``, order kept."""
    return ([i for i in items if isinstance(i, Mention)], [i for i in items if isinstance(i, Rejected)])


class SourceOptions(Strict):
    """The options every source has; a collector's ``Options`` subclasses this with its own."""

    enabled: bool = False
    interval: Duration = timedelta(minutes=15)

    @field_validator("interval")
    @classmethod
    def _positive(cls, v: timedelta) -> timedelta:
        if v < timedelta(seconds=10):
            raise ValueError("must be at least 10s; polling faster gets the source rate-limited")
        return v


@dataclass(frozen=True)
class Secret:
    """A secret a source uses: ``option`` names the option that holds the environment variable's name.

    A ``required`` secret that is not set makes the source skip with one warning naming the
    variable; an optional one is simply None (Mastodon works without a token, searching
    needs one).
    """

    key: str
    option: str
    required: bool = True


class Collector(abc.ABC):
    """A source of mentions. Subclasses declare ``name``, ``Options`` and ``secrets``, and implement :meth:`fetch`.

    ``options`` are the source's own settings from config.yaml (an ``Options`` instance);
    ``brands`` the configured brands (so a collector can build its query); ``env`` the
    environment mapping secrets are read from (``os.environ`` in production, a dict in tests).
    """

    name: ClassVar[str]
    Options: ClassVar[type[SourceOptions]] = SourceOptions
    secrets: ClassVar[tuple[Secret, ...]] = ()
    order: ClassVar[int] = 100
    """Where the source sits in config.yaml's ``sources`` and in ``monitor status`` (low first)."""

    def __init__(self, options: Any, brands: list[Any], env: Mapping[str, str]) -> None:
        self.options = options
        self.brands = brands
        self.env = env

    def secret(self, key: str) -> str | None:
        """The declared secret ``key``, read from the environment (or ``<VAR>_FILE``).

        Raises :class:`NotConfigured` naming the variable when a required secret is not set.
        """
        declared = next(s for s in self.secrets if s.key == key)
        var = getattr(self.options, declared.option)
        return self.require_env(var) if declared.required else secret(var, self.env)

    def require_env(self, var: str) -> str:
        """Return the secret in ``var`` (or the file named by ``<var>_FILE``); raise :class:`NotConfigured`."""
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
        :class:`FatalSourceError`; a single malformed item goes in the page's ``rejected``.
        """

    def item(self, payload: Any) -> Mention:
        """One item as the platform delivered it (decoded JSON) as a mention, through the source's
        edge model; raises ``pydantic.ValidationError`` or :class:`~collectors.edge.Invalid` naming the field."""
        raise Invalid(None, f"{self.name} has no item parser")

    def accept(self, payload: Any, position: str) -> Mention | Rejected:
        """:meth:`item`, or the :class:`~collectors.edge.Rejected` that keeps ``payload`` and says why."""
        return accept(lambda: self.item(payload), position, payload)

    def reparse(self, payload: bytes, position: str) -> Mention | Rejected:
        """A dead letter's ``payload`` parsed again, as :meth:`fetch` would (``monitor rejected retry``).

        The default reads the JSON an API source's rejects hold; the file source overrides it.
        """
        try:
            data = json.loads(payload)
        except (ValueError, RecursionError) as err:
            return Rejected(position, payload, f"payload: not JSON ({err})", "payload")
        return self.accept(data, position)


class StreamCollector(Collector):
    """A collector that reads several streams (queries, feeds, timelines) with one cursor entry each.

    The shared bookkeeping lives here: the cursor is ``{cursor_key: {stream key: state}}``;
    each stream's state is read from it, every page carries a deep copy of all states (so
    it is safe to persist the moment the page is stored), and a mention already yielded by
    an earlier stream in this run is not yielded again. Subclasses implement
    :meth:`streams` and :meth:`read_stream`.
    """

    cursor_key: ClassVar[str] = "streams"

    @abc.abstractmethod
    def streams(self) -> list[str]:
        """The keys of the streams this run reads, in order."""

    @abc.abstractmethod
    def read_stream(
        self, key: str, state: dict[str, Any]
    ) -> Iterator[tuple[list[Mention | Rejected], dict[str, Any]]]:
        """Yield ``(mentions and rejected items, new state)`` per page of stream ``key``, starting from ``state``."""

    def stream_states(self, cursor: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Each stream's stored state (``{}`` for a new stream), in :meth:`streams` order."""
        stored = cursor.get(self.cursor_key) or {}
        return {k: dict(stored.get(k) or {}) for k in self.streams()}

    def pages(self, states: dict[str, dict[str, Any]], key: str, yielded: set[str]) -> Iterator[Page]:
        """Read stream ``key`` page by page, updating ``states`` and ``yielded`` as pages go out."""
        for items, state in self.read_stream(key, states[key]):
            states[key] = state
            mentions, rejected = split(items)
            fresh = [m for m in mentions if m.native_id not in yielded]
            yielded.update(m.native_id for m in fresh)
            yield Page(mentions=fresh, cursor={self.cursor_key: copy.deepcopy(states)}, rejected=rejected)

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Page]:
        """Yield every stream's pages in turn (see :meth:`Collector.fetch` for the contract)."""
        states = self.stream_states(cursor)
        yielded: set[str] = set()
        for key in list(states):
            yield from self.pages(states, key, yielded)
