"""Reddit submissions and comments through praw (a read-only "script" app).

Streams: search sorted by new on r/all (``search_all``) or on the configured subreddits,
one query per brand (its terms quoted and OR'd); and, when ``comments`` is on, the newest
comments of the configured subreddits, kept when they contain a brand term. Listings come
newest first and have no "since" parameter, so each stream is read down to its cursor and
yielded as one page. Cursor: ``{"streams": {<key>: {"created_utc": float, "seen":
{fullname: created_utc}}}}``: the newest creation time read, and the fullnames yielded in
the last :attr:`RedditCollector.lookback` seconds before it (search indexes posts late, and
listings repeat items), so nothing is yielded twice. praw's own rate limiter stays on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field

from collectors.base import (
    Engagement,
    FatalSourceError,
    Mention,
    Page,
    RateLimited,
    Rejected,
    RetriableError,
    Secret,
    SourceOptions,
    StreamCollector,
)
from collectors.edge import Edge, label
from collectors.fields import MAX_COUNT, Author, Count, NativeId, OptionalId, OptionalText, Reach, Text, Time, url
from collectors.query import or_queries
from collectors.text import jsonable, mentions_any
from collectors.web import RetryPolicy, reset_time, with_retries
from monitor.config.types import EnvVarName

if TYPE_CHECKING:
    import praw

log = logging.getLogger(__name__)


class RedditSource(SourceOptions):
    """``sources.reddit``: praw with a read-only script app."""

    client_id_env: EnvVarName = "REDDIT_CLIENT_ID"
    client_secret_env: EnvVarName = "REDDIT_CLIENT_SECRET"
    user_agent_env: EnvVarName = "REDDIT_USER_AGENT"
    subreddits: list[str] = Field(default_factory=list)
    search_all: bool = True
    comments: bool = True
    limit: int = Field(100, ge=1, le=1000)


def _score(value: Any) -> int:
    """Reddit's score (upvotes minus downvotes, so it may be negative) as a whole number."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ValueError(f"{value!r} is not a whole number")
    if abs(value) > MAX_COUNT:
        raise ValueError(f"{value!r} is larger than {MAX_COUNT:,}")
    return int(value)


Score = Annotated[int, BeforeValidator(_score)]


class RedditThing(Edge):
    """What every Reddit thing the collector reads has: ids, time, author, subreddit, score."""

    id: NativeId
    name: OptionalId = None
    created_utc: Time
    permalink: str | None = None
    subreddit: str | None = None
    author: Author = "[deleted]"
    author_karma: Reach = 0
    score: Score = 0

    @property
    def fullname(self) -> str:
        return self.name or f"{self.kind}_{self.id}"

    kind: ClassVar[str] = ""

    def _common(self, permalink: str, raw: dict[str, Any]) -> dict[str, Any]:
        return {"platform": "reddit", "native_id": self.fullname, "created_at": self.created_utc,
                "url": url(f"https://www.reddit.com{permalink}") if permalink.startswith("/") else "",
                "author": self.author or "[deleted]", "author_reach": self.author_karma, "raw": raw}


class RedditComment(RedditThing):
    """A comment (``t1``). Comments from before about 2017 have no ``permalink``: it is built
    from ``link_id`` and ``id`` (``/r/<subreddit>/comments/<link id>/_/<id>/``, which Reddit serves)."""

    kind = "t1"
    body: Text
    link_id: OptionalId = None
    parent_id: OptionalId = None

    def mention(self, raw: dict[str, Any]) -> Mention:
        link = self.permalink
        if not link and self.link_id:
            where = f"/r/{self.subreddit}" if self.subreddit else ""
            link = f"{where}/comments/{self.link_id.removeprefix('t3_')}/_/{self.id}/"
        return Mention(text=self.body, engagement=Engagement(likes=max(self.score, 0)),
                       conversation_id=self.link_id or self.fullname, in_reply_to=self.parent_id,
                       **self._common(link or "", raw))


class RedditSubmission(RedditThing):
    """A submission (``t3``); its text is the self text, or the title for a link post."""

    kind = "t3"
    title: Text
    selftext: OptionalText = None
    num_comments: Count = 0

    def mention(self, raw: dict[str, Any]) -> Mention:
        link = self.permalink or (f"/r/{self.subreddit}/comments/{self.id}/" if self.subreddit else
                                  f"/comments/{self.id}/")
        return Mention(text=self.selftext or self.title, title=self.title, conversation_id=self.fullname,
                       engagement=Engagement(likes=max(self.score, 0), replies=self.num_comments),
                       **self._common(link, raw))


def _transient() -> tuple[type[BaseException], ...]:
    import prawcore

    return (prawcore.ServerError, prawcore.RequestException, prawcore.TooManyRequests)


class RedditCollector(RetryPolicy, StreamCollector):
    """New submissions (search) and comments (subreddit listings) mentioning the brands."""

    name: ClassVar[str] = "reddit"
    Options = RedditSource
    secrets = (Secret("client_id", "client_id_env"), Secret("client_secret", "client_secret_env"),
               Secret("user_agent", "user_agent_env"))
    order = 20
    lookback: float = 900.0
    """Seconds before the newest item within which late arrivals are still accepted."""
    max_seen: int = 5000

    def __init__(self, options: Any, brands: list[Any], env: Mapping[str, str]) -> None:
        super().__init__(options, brands, env)
        self.terms = list(dict.fromkeys([*(t for b in brands for t in b.terms),
                                         *(h.lstrip("@").split("@")[0] for b in brands for h in b.handles)]))
        self._reddit: praw.Reddit | None = None

    def streams(self) -> list[str]:
        """The stream keys this run reads: ``search:<subreddits>:<query>`` and ``comments:<subreddits>``."""
        subs = "+".join(s.removeprefix("r/") for s in self.options.subreddits)
        where = "all" if self.options.search_all else subs
        keys = [f"search:{where}:{q}" for b in self.brands if where for q in or_queries(b.terms)]
        if self.options.comments and subs:
            keys.append(f"comments:{subs}")
        return list(dict.fromkeys(keys))

    def reddit(self) -> praw.Reddit:
        """The praw client, built once; raises NotConfigured naming a missing env var."""
        if self._reddit is None:
            import praw

            self._reddit = praw.Reddit(
                client_id=self.secret("client_id"),
                client_secret=self.secret("client_secret"),
                user_agent=self.secret("user_agent"),
                check_for_updates=False,
                timeout=int(self.timeout),
            )
        return self._reddit

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Page]:
        """Yield one page per stream; raises RateLimited, FatalSourceError or RetriableError."""
        self.reddit()
        yield from super().fetch(cursor)

    def read_stream(self, key: str, state: dict[str, Any]) -> Iterator[tuple[list[Mention], dict[str, Any]]]:
        """One page: everything new in the listing down to the cursor (listings have no "since")."""
        yield self._stream(self.reddit(), key, state)

    def _stream(
        self, reddit: praw.Reddit, key: str, state: dict[str, Any]
    ) -> tuple[list[Mention], dict[str, Any]]:
        import prawcore

        try:
            things, newest = with_retries(self, self._read, reddit, key, state, source="reddit",
                                          what=f"reading {key}", retry_on=_transient())
        except RetriableError as err:
            cause = err.__cause__
            if isinstance(cause, prawcore.TooManyRequests):
                when = reset_time(cause.response.headers)
                raise RateLimited(f"reddit: rate limited while reading {key}; try again after "
                                  f"{when or 'a few minutes'}", reset_at=when) from None
            raise
        except prawcore.OAuthException as err:
            raise FatalSourceError(self._auth_message(f"{err}")) from None
        except prawcore.Forbidden:
            raise FatalSourceError(
                f"reddit: 403 Forbidden reading {key}: a subreddit is private, banned or quarantined, "
                "or the app is suspended; fix sources.reddit.subreddits") from None
        except (prawcore.NotFound, prawcore.Redirect):
            raise FatalSourceError(f"reddit: {key} names a subreddit that does not exist; "
                                   "fix sources.reddit.subreddits") from None
        except (prawcore.InvalidToken, prawcore.ResponseException) as err:
            if getattr(err, "response", None) is not None and err.response.status_code == 401:
                raise FatalSourceError(self._auth_message("401 Unauthorized")) from None
            raise FatalSourceError(f"reddit: unexpected answer reading {key}: {err}") from None
        seen = dict(state.get("seen") or {})
        items: list[Mention | Rejected] = []
        for thing, kind in things:
            data = {"kind": kind, "data": {k: jsonable(v) for k, v in vars(thing).items() if not k.startswith("_")}}
            item = self.accept(data, label(kind, data["data"], "name", f"reddit {key}, a {kind} without a name"))
            items.append(item)
            if isinstance(item, Mention):
                seen[item.native_id] = item.created_at.timestamp()
        recent = sorted(((c, f) for f, c in seen.items() if c >= newest - self.lookback), reverse=True)
        return items, {"created_utc": newest or None, "seen": {f: c for c, f in recent[: self.max_seen]}}

    def _auth_message(self, detail: str) -> str:
        o = self.options
        return (f"reddit: the app credentials were rejected ({detail}); check {o.client_id_env} and "
                f"{o.client_secret_env} hold a 'script' app's id and secret")

    def _read(
        self, reddit: praw.Reddit, key: str, state: dict[str, Any]
    ) -> tuple[list[tuple[Any, str]], float]:
        """Things newer than the cursor (newest first) and the newest creation time read.

        The listing is read until the first item older than the cursor's look-back floor.
        """
        kind, subs, query = [*key.split(":", 2), ""][:3]
        if kind == "search":
            listing = reddit.subreddit(subs).search(query, sort="new", syntax="lucene",
                                                    limit=self.options.limit)
        else:
            listing = reddit.subreddit(subs).comments(limit=self.options.limit)
        since = state.get("created_utc")
        floor = since - self.lookback if since else None
        seen = state.get("seen") or {}
        out: list[tuple[Any, str]] = []
        count, reached, newest = 0, floor is None, float(since or 0.0)
        for thing in listing:
            count += 1
            data = vars(thing)
            try:
                created = float(data["created_utc"])
            except (KeyError, TypeError, ValueError):  # no time to place it: the parser rejects it, naming the field
                out.append((thing, "t1" if kind == "comments" else "t3"))
                continue
            if floor is not None and created < floor:
                reached = True
                break
            newest = max(newest, created)
            fullname = data.get("name") or f"{'t1' if kind == 'comments' else 't3'}_{data.get('id')}"
            if fullname in seen:
                continue
            if kind == "comments" and not mentions_any(str(data.get("body") or ""), self.terms):
                continue
            out.append((thing, "t1" if kind == "comments" else "t3"))
        if not reached and count >= self.options.limit:
            log.warning("reddit: %s had more than %d new items since the last run; older ones are missed "
                        "(raise sources.reddit.limit or shorten the interval)", key, self.options.limit)
        return out, newest

    def item(self, payload: Any) -> Mention:
        """``{"kind": "t1" or "t3", "data": <the thing's fields>}`` as a mention."""
        kind = payload.get("kind") if isinstance(payload, dict) else None
        model = RedditComment if kind == "t1" else RedditSubmission
        data = payload.get("data") if isinstance(payload, dict) else None
        return model.model_validate(data).mention(data)
