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
from collectors.text import from_iso, short_id, strip_html
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
            mentions = [m for m in (self._mention(s, instance) for s in statuses) if m]
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

    def _mention(self, status: Any, instance: str) -> Mention | None:
        try:
            account = status.get("account") or {}
            acct = account.get("acct") or ""
            if acct and "@" not in acct:
                acct = f"{acct}@{urlparse(instance).netloc}"
            text = strip_html(status["content"])
            if status.get("spoiler_text"):
                text = f"{status['spoiler_text']}\n{text}"
            local_id = str(status["id"])
            reply_to = status.get("in_reply_to_id")
            return Mention(
                platform="mastodon",
                native_id=short_id(status.get("uri") or status.get("url") or f"{instance}/{local_id}"),
                text=text,
                created_at=from_iso(status["created_at"]),
                url=status.get("url") or status.get("uri") or "",
                author=acct,
                author_reach=int(account.get("followers_count") or 0),
                engagement=Engagement(likes=int(status.get("favourites_count") or 0),
                                      replies=int(status.get("replies_count") or 0),
                                      reposts=int(status.get("reblogs_count") or 0)),
                language=status.get("language"),
                conversation_id=str(reply_to or local_id),
                in_reply_to=str(reply_to) if reply_to else None,
                raw=status,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            ident = status.get("id") if isinstance(status, dict) else status
            log.warning("mastodon: skipping malformed status %r: %s: %s", ident, type(err).__name__, err)
            return None


def _hashtag(term: str) -> str | None:
    """``"Acme Cloud"`` -> ``"acmecloud"``; None when nothing is left."""
    tag = re.sub(r"[^\w]", "", term.lstrip("#")).lower()
    return tag or None
