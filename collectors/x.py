"""X (Twitter) recent search through tweepy's ``Client.search_recent_tweets``.

Cursor: ``{"queries": {<query>: {"since_id": str | None, "pending": {"newest_id", "until_id"} | None}}}``,
one entry per query built by :func:`collectors.query.x_queries` (see :mod:`collectors.walk` for
how a walk interrupted by a rate limit resumes without gaps or repeats).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from collectors.base import (
    Engagement,
    FatalSourceError,
    Mention,
    NotConfigured,
    Page,
    RateLimited,
    Secret,
    SourceOptions,
    StreamCollector,
)
from collectors.edge import Edge, Invalid, label
from collectors.fields import (
    Author,
    Count,
    Language,
    NativeId,
    OptionalId,
    OptionalText,
    OptionalTime,
    Reach,
    Text,
    timestamp,
)
from collectors.query import x_queries
from collectors.walk import walk
from collectors.web import RetryPolicy, Transient, with_retries
from monitor.config.types import EnvVarName

if TYPE_CHECKING:
    import tweepy

log = logging.getLogger(__name__)

TWEET_FIELDS = ["created_at", "public_metrics", "lang", "conversation_id", "referenced_tweets", "author_id",
                "note_tweet"]
USER_FIELDS = ["username", "public_metrics", "verified"]
TWEEPY_HOST = "https://api.twitter.com"
SNOWFLAKE_EPOCH_MS = 1288834974657
LAST_PRE_SNOWFLAKE_ID = 29_700_859_247
"""Tweet ids above this are snowflakes: ``(id >> 22) + SNOWFLAKE_EPOCH_MS`` is the post's time in ms."""


def snowflake_time(tweet_id: str) -> datetime | None:
    """The time an X snowflake id was made (the post's ``created_at`` to the millisecond); None for other ids."""
    if not tweet_id.isdigit() or int(tweet_id) <= LAST_PRE_SNOWFLAKE_ID or len(tweet_id) > 20:
        return None
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, UTC)


class XUserMetrics(Edge):
    followers_count: Reach = 0


class XUser(Edge):
    """An ``includes.users`` entry: the author of a tweet."""

    username: Author = ""
    public_metrics: XUserMetrics = XUserMetrics()


class XMetrics(Edge):
    like_count: Count = 0
    reply_count: Count = 0
    retweet_count: Count = 0
    quote_count: Count = 0


class XReference(Edge):
    type: str = ""
    id: OptionalId = None


class XNoteTweet(Edge):
    text: OptionalText = None


class Tweet(Edge):
    """A tweet of X API v2 recent search, as the edge accepts it.

    ``created_at`` may be missing (recorded traffic shows it): the time is then read from
    the snowflake id, to the millisecond.
    """

    id: NativeId
    text: Text
    created_at: OptionalTime = None
    author_id: OptionalId = None
    public_metrics: XMetrics = XMetrics()
    lang: Language = None
    conversation_id: OptionalId = None
    referenced_tweets: list[XReference] = []
    note_tweet: XNoteTweet | None = None

    def mention(self, user: XUser, raw: dict[str, Any]) -> Mention:
        """The mention this tweet is; raises :class:`Invalid` when no time is known."""
        created = self.created_at
        if created is None:
            from_id = snowflake_time(self.id)
            if from_id is None:
                raise Invalid("created_at", "missing, and the id is not a snowflake id to read the time from")
            created = timestamp(from_id)
        m = self.public_metrics
        return Mention(
            platform="x",
            native_id=self.id,
            text=(self.note_tweet.text if self.note_tweet and self.note_tweet.text else self.text),
            created_at=created,
            url=f"https://x.com/{user.username or 'i/web'}/status/{self.id}",
            author=user.username,
            author_reach=user.public_metrics.followers_count,
            engagement=Engagement(likes=m.like_count, replies=m.reply_count, reposts=m.retweet_count,
                                  quotes=m.quote_count),
            language=self.lang,
            conversation_id=self.conversation_id or self.id,
            in_reply_to=next((r.id for r in self.referenced_tweets if r.type == "replied_to" and r.id), None),
            raw=raw,
        )


class XSource(SourceOptions):
    """``sources.x``: X API v2 recent search."""

    bearer_token_env: EnvVarName = "X_BEARER_TOKEN"
    exclude_retweets: bool = True
    max_results: int = Field(100, ge=10, le=100)
    max_pages: int = Field(10, ge=1, le=500)
    base_url: str | None = None


@cache
def _adapter_class() -> type:
    """tweepy's transport, with a timeout (tweepy sets none) and ``options.base_url`` applied.

    tweepy always builds ``https://api.twitter.com/...`` URLs; a configured ``base_url`` (a
    proxy, or ``https://api.x.com``) replaces that prefix here. Built on first use, so
    importing this module (the registry does, to build the config) stays cheap.
    """
    import requests

    class _Adapter(requests.adapters.HTTPAdapter):
        def __init__(self, timeout: float, base_url: str | None) -> None:
            super().__init__()
            self.timeout = timeout
            self.base_url = base_url.rstrip("/") if base_url else None

        def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = self.timeout
            if self.base_url and request.url.startswith(TWEEPY_HOST):
                request.url = self.base_url + request.url[len(TWEEPY_HOST):]
            return super().send(request, **kwargs)

    return _Adapter


class _RedactBearer(logging.Filter):
    """tweepy logs request headers at DEBUG; keep the bearer token out of the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "Bearer " in record.msg:
            record.msg = re.sub(r"Bearer [^\s'\"]+", "Bearer ********", record.msg)
        return True


_REDACT = _RedactBearer()


class _StaleCursor(FatalSourceError):
    """X refused a since_id/until_id older than its 7-day search window."""


class XItem(Edge):
    """What the collector parses per tweet: the tweet and its author from ``includes.users``."""

    tweet: Tweet
    author: XUser | None = None


class XCollector(RetryPolicy, StreamCollector):
    """Tweets matching the brands, newest first per query, incremental by ``since_id``."""

    name: ClassVar[str] = "x"
    Options = XSource
    secrets = (Secret("bearer_token", "bearer_token_env"),)
    order = 10
    cursor_key = "queries"

    def __init__(self, options: Any, brands: list[Any], env: Mapping[str, str]) -> None:
        super().__init__(options, brands, env)
        try:
            self.queries = x_queries(brands, exclude_retweets=options.exclude_retweets)
        except ValueError as err:
            raise NotConfigured(f"x: {err}; shorten it in config.yaml") from None

    def _client(self) -> tweepy.Client:
        import tweepy

        client = tweepy.Client(bearer_token=self.secret("bearer_token"), return_type=dict,
                               wait_on_rate_limit=False)
        client.session.mount("https://", _adapter_class()(self.timeout, self.options.base_url))
        tweepy_log = logging.getLogger("tweepy.client")
        if _REDACT not in tweepy_log.filters:
            tweepy_log.addFilter(_REDACT)
        return client

    def streams(self) -> list[str]:
        return list(self.queries)

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Page]:
        """Yield one page per API response; raises RateLimited, FatalSourceError, RetriableError."""
        self.client = self._client()
        yield from super().fetch(cursor)

    def read_stream(self, query: str, state: dict[str, Any]) -> Iterator[tuple[list[Mention], dict[str, Any]]]:
        """The walk for one query; a cursor older than X's 7-day window starts the query afresh."""
        fetch = self._fetcher(self.client, query)
        try:
            yield from walk(state, fetch, self.options.max_pages, f"x {query!r}")
        except _StaleCursor as err:
            log.warning("%s; collecting %r afresh from the last 7 days", err, query)
            yield from walk({}, fetch, self.options.max_pages, f"x {query!r}")

    def _fetcher(self, client: tweepy.Client, query: str) -> Any:
        def fetch(
            since_id: str | None, until_id: str | None, token: Any
        ) -> tuple[list[Mention], list[str], Any]:
            params: dict[str, Any] = {
                "max_results": self.options.max_results,
                "expansions": ["author_id"],
                "tweet_fields": TWEET_FIELDS,
                "user_fields": USER_FIELDS,
            }
            if since_id:
                params["since_id"] = since_id
            if until_id:
                params["until_id"] = until_id
            if token:
                params["next_token"] = token
            body = with_retries(self, self._search, client, query, params, source="x",
                                what="recent search")
            included = (body.get("includes") or {}).get("users") or []
            users = {u.get("id"): u for u in included if isinstance(u, dict)}
            tweets = body.get("data") or []
            items = [self.accept({"tweet": t, "author": users.get(t.get("author_id")) if isinstance(t, dict) else None},
                                 label("tweet", t, "id", f"x query {query!r}, item {n} without an id"))
                     for n, t in enumerate(tweets, 1)]
            ids = [i for i in (_id(t) for t in tweets) if i]
            return items, ids, (body.get("meta") or {}).get("next_token")

        return fetch

    def _search(self, client: tweepy.Client, query: str, params: dict[str, Any]) -> dict[str, Any]:
        import requests
        import tweepy

        try:
            return client.search_recent_tweets(query, **params)
        except tweepy.TooManyRequests as err:
            reset = err.reset_time or err.response.headers.get("x-rate-limit-reset")
            when = datetime.fromtimestamp(int(reset), UTC) if reset else None
            raise RateLimited(f"x: rate limit reached; resets at {when or 'an unknown time'}",
                              reset_at=when) from None
        except tweepy.Unauthorized:
            raise FatalSourceError(
                f"x: 401 Unauthorized: the bearer token in {self.options.bearer_token_env} is invalid, "
                "expired or revoked; regenerate it in the X developer portal") from None
        except tweepy.Forbidden as err:
            raise FatalSourceError(
                "x: 403 Forbidden: the access tier does not include recent search, or the app is not "
                f"attached to a Project; check it in the X developer portal ({err})") from None
        except tweepy.BadRequest as err:
            said = " ".join([str(err), *err.api_messages])
            if any(p in params and p in said for p in ("since_id", "until_id")):
                raise _StaleCursor(
                    f"x: the saved cursor for {query!r} is older than X keeps ({err})") from None
            raise FatalSourceError(f"x: the API rejected the query {query!r}: {err}; "
                                   "fix the brand's keywords in config.yaml") from None
        except tweepy.TwitterServerError as err:
            raise Transient(f"x: {err}") from err
        except (requests.Timeout, requests.ConnectionError) as err:
            raise Transient(f"x: {type(err).__name__}") from err
        except tweepy.HTTPException as err:
            raise FatalSourceError(f"x: unexpected answer from recent search: {err}") from None

    def item(self, payload: Any) -> Mention:
        """``{"tweet": <tweet>, "author": <its includes.users entry or None>}`` as a mention."""
        parsed = XItem.model_validate(payload)
        return parsed.tweet.mention(parsed.author or XUser(), {"tweet": payload["tweet"],
                                                               "author": payload.get("author") or {}})


def _id(tweet: Any) -> str | None:
    """A tweet's id for the walk's bounds, when it is a usable numeric id."""
    value = tweet.get("id") if isinstance(tweet, dict) else None
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return text if text.isdigit() and len(text) <= 20 else None
