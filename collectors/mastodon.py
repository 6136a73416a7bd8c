"""Mastodon: public hashtag timelines on each configured instance, plus status search with a token.

Streams: ``GET {instance}/api/v1/timelines/tag/{hashtag}`` for every hashtag on every
instance (hashtags default to the brands' terms, spaces and punctuation removed), and, when
the access token env var is set, ``GET {instance}/api/v2/search?type=statuses&q=<term>``
on the first instance (the token's home, and the only instance the token is sent to;
searching statuses requires auth). Cursor:
``{"streams": {"<instance>|tag:<tag>" or "<instance>|search:<term>": walk state}}`` with
the walk state of :mod:`collectors.walk` (``since_id`` plus a pending walk paged by
``max_id``). Statuses are identified by their ActivityPub ``uri``, so the same post seen
through two instances is one mention.

A failing instance does not stop the others: its error is raised after they are collected.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlparse

from pydantic import Field

from collectors.base import CollectorError, Engagement, Mention, Page, Secret, SourceOptions, StreamCollector
from collectors.edge import Edge, Invalid, label
from collectors.fields import Author, Count, Language, NativeId, OptionalId, OptionalText, Reach, Time, native_id, url
from collectors.text import short_id, strip_html
from collectors.walk import walk
from collectors.web import RetryPolicy, get, json_body, session, with_retries
from monitor.config.types import EnvVarName

log = logging.getLogger(__name__)


class MastodonSource(SourceOptions):
    """``sources.mastodon``: hashtag timelines, and status search with a token."""

    instances: list[str] = Field(default_factory=lambda: ["https://mastodon.social"])
    hashtags: list[str] = Field(default_factory=list)
    access_token_env: EnvVarName = "MASTODON_ACCESS_TOKEN"
    limit: int = Field(40, ge=1, le=40)
    max_pages: int = Field(5, ge=1, le=100)


class MastodonAccount(Edge):
    acct: Author = ""
    followers_count: Reach = 0


class MastodonStatus(Edge):
    """A status of a Mastodon timeline or search, as the edge accepts it (``content`` is HTML)."""

    id: NativeId
    created_at: Time
    content: str
    spoiler_text: OptionalText = None
    uri: str | None = None
    url: str | None = None
    account: MastodonAccount = MastodonAccount()
    language: Language = None
    favourites_count: Count = 0
    replies_count: Count = 0
    reblogs_count: Count = 0
    in_reply_to_id: OptionalId = None

    def mention(self, instance: str, raw: dict[str, Any]) -> Mention:
        """The mention this status is, identified by its ActivityPub ``uri`` (one post seen on two instances is one)."""
        acct = self.account.acct
        if acct and "@" not in acct:
            acct = f"{acct}@{urlparse(instance).netloc}"
        text = strip_html(self.content)
        if self.spoiler_text:
            text = f"{self.spoiler_text}\n{text}"
        identity = (self.uri or "").strip() or (self.url or "").strip() or f"{instance}/{self.id}"
        try:
            status_id = native_id(short_id(identity))
        except ValueError as err:
            raise Invalid("uri", str(err)) from None
        return Mention(
            platform="mastodon",
            native_id=status_id,
            text=text,
            created_at=self.created_at,
            url=url(self.url) or url(self.uri),
            author=acct,
            author_reach=self.account.followers_count,
            engagement=Engagement(likes=self.favourites_count, replies=self.replies_count, reposts=self.reblogs_count),
            language=self.language,
            conversation_id=self.in_reply_to_id or self.id,
            in_reply_to=self.in_reply_to_id,
            raw=raw,
        )


class MastodonItem(Edge):
    """What the collector parses per status: the status and the instance it was read from."""

    status: MastodonStatus
    instance: str


class MastodonCollector(RetryPolicy, StreamCollector):
    """Statuses from hashtag timelines and (with a token) search, incremental by ``since_id``."""

    name: ClassVar[str] = "mastodon"
    Options = MastodonSource
    secrets = (Secret("access_token", "access_token_env", required=False),)
    order = 50

    def __init__(self, options: Any, brands: list[Any], env: Mapping[str, str]) -> None:
        super().__init__(options, brands, env)
        tags = options.hashtags or [t for b in brands for t in b.terms]
        self.hashtags = list(dict.fromkeys(h for h in (_hashtag(t) for t in tags) if h))
        self.terms = list(dict.fromkeys(t for b in brands for t in b.terms))
        self.token = self.secret("access_token")
        self.session = session()

    def streams(self) -> list[str]:
        """``<instance>|tag:<tag>`` and ``<instance>|search:<term>`` for every stream this run polls."""
        out = []
        for instance in (i.rstrip("/") for i in self.options.instances):
            out += [f"{instance}|tag:{h}" for h in self.hashtags]
        if self.token and self.options.instances:
            home = self.options.instances[0].rstrip("/")
            out += [f"{home}|search:{t}" for t in self.terms]
        return out

    def read_stream(self, key: str, state: dict[str, Any]) -> Iterator[tuple[list[Mention], dict[str, Any]]]:
        instance, _, stream = key.partition("|")
        yield from walk(state, self._fetcher(instance, stream), self.options.max_pages, f"mastodon {key}")

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Page]:
        """Yield a page per response; after all instances, raise the first error one of them hit."""
        if not self.token and not self.hashtags:
            self.require_env(self.options.access_token_env)
        states = self.stream_states(cursor)
        yielded: set[str] = set()
        failed: dict[str, CollectorError] = {}
        for key in list(states):
            instance = key.partition("|")[0]
            if instance in failed:
                continue
            try:
                yield from self.pages(states, key, yielded)
            except CollectorError as err:
                log.warning("mastodon: %s failed, continuing with the other instances: %s", key, err)
                failed[instance] = err
        if failed:
            raise next(iter(failed.values()))

    def _fetcher(self, instance: str, stream: str) -> Any:
        kind, _, value = stream.partition(":")

        def fetch(
            since_id: str | None, until_id: str | None, token: Any
        ) -> tuple[list[Mention], list[str], Any]:
            params: dict[str, Any] = {"limit": self.options.limit}
            max_id = token or until_id
            if max_id:
                params["max_id"] = max_id
            if kind == "tag":
                url = f"{instance}/api/v1/timelines/tag/{quote(value)}"
                if since_id:
                    params["since_id"] = since_id
            else:
                url = f"{instance}/api/v2/search"
                params.update(q=value, type="statuses", resolve="false")
                if since_id:
                    params["min_id"] = since_id
            statuses, next_max = with_retries(self, self._get, instance, url, params, kind == "search",
                                              source="mastodon", what=f"GET {url}")
            ids = [str(s["id"]) for s in statuses if isinstance(s, dict) and s.get("id")]
            mentions = [self.accept({"status": s, "instance": instance},
                                    label("status", s, "id", f"mastodon {instance} {stream}, item {n}"))
                        for n, s in enumerate(statuses, 1)]
            if kind == "search" and len(statuses) < self.options.limit:
                next_max = None
            return mentions, ids, next_max

        return fetch

    def _get(
        self, instance: str, url: str, params: dict[str, Any], search: bool
    ) -> tuple[list[Any], str | None]:
        # The token belongs to the first instance; other instances never see it.
        home = self.options.instances[0].rstrip("/") if self.options.instances else None
        headers = {"Authorization": f"Bearer {self.token}"} if self.token and instance == home else {}
        hint = (f"the access token in {self.options.access_token_env} is invalid or revoked, or this "
                "instance does not serve public timelines without one; create a token with read scope")
        resp = get(self.session, url, params=params, headers=headers, source="mastodon",
                   timeout=self.timeout, auth_hint=hint)
        body = json_body(resp, source="mastodon")
        statuses = (body.get("statuses") if isinstance(body, dict) else body) or []
        if not isinstance(statuses, list):
            statuses = []
        if search:
            ids = [str(s["id"]) for s in statuses if isinstance(s, dict) and s.get("id")]
            return statuses, min(ids, key=lambda i: (len(i), i)) if ids else None
        nxt = resp.links.get("next", {}).get("url")
        max_id = parse_qs(urlparse(nxt).query).get("max_id", [None])[0] if nxt else None
        return statuses, max_id

    def item(self, payload: Any) -> Mention:
        """``{"status": <status>, "instance": <the instance it came from>}`` as a mention."""
        parsed = MastodonItem.model_validate(payload)
        return parsed.status.mention(parsed.instance.rstrip("/"), payload["status"])


def _hashtag(term: str) -> str | None:
    """``"Acme Cloud"`` -> ``"acmecloud"``; None when nothing is left."""
    tag = re.sub(r"[^\w]", "", term.lstrip("#")).lower()
    return tag or None
