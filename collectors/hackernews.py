"""Hacker News stories and comments through the Algolia ``search_by_date`` API (newest first).

One query per brand term (Algolia ANDs the words of a query, it has no OR). Cursor:
``{"queries": {<term>: {"since": int | None, "since_ids": [...], "pending": {...} | None}}}``.
``since`` is the newest ``created_at_i`` fully collected and ``since_ids`` the objectIDs
stored at that second (the next run asks for ``created_at_i>=since`` and drops those). A
walk cut short (rate limit, crash, page budget) keeps ``pending`` = ``{"newest",
"newest_ids", "until", "until_ids"}``: it resumes below ``until`` and becomes the new
``since`` once it reaches the old one.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from pydantic import Field

from collectors.base import Engagement, Mention, Rejected, SourceOptions, StreamCollector
from collectors.edge import Edge, Invalid, label
from collectors.fields import Author, Count, NativeId, OptionalId, OptionalText, OptionalTime, optional_timestamp
from collectors.text import strip_html
from collectors.web import RetryPolicy, get, json_body, session, with_retries

log = logging.getLogger(__name__)


class HackerNewsSource(SourceOptions):
    """``sources.hackernews``: Algolia's ``search_by_date``."""

    base_url: str = "https://hn.algolia.com/api/v1"
    hits_per_page: int = Field(100, ge=1, le=1000)
    max_pages: int = Field(10, ge=1, le=100)


class HackerNewsHit(Edge):
    """A hit of Algolia's ``search_by_date`` (a story or a comment), as the edge accepts it.

    The time is ``created_at_i``, or ``created_at`` (ISO-8601) when the number is missing.
    """

    objectID: NativeId
    created_at_i: OptionalTime = None
    created_at: OptionalTime = None
    tags: list[str] | None = Field(None, alias="_tags")
    comment_text: OptionalText = None
    story_text: OptionalText = None
    title: OptionalText = None
    author: Author = ""
    points: Count = 0
    num_comments: Count = 0
    story_id: OptionalId = None
    parent_id: OptionalId = None

    def mention(self, raw: dict[str, Any]) -> Mention:
        """The mention this hit is; raises :class:`Invalid` without a time or a text."""
        created = self.created_at_i or self.created_at
        if created is None:
            raise Invalid("created_at_i", "missing, and so is created_at")
        is_comment = "comment" in (self.tags or []) or self.comment_text is not None
        body = strip_html(self.comment_text if is_comment else self.story_text)
        title = None if is_comment else self.title
        if not (body or title):
            raise Invalid("comment_text" if is_comment else "title", "missing or empty")
        return Mention(
            platform="hackernews",
            native_id=self.objectID,
            text=body or title or "",
            title=title,
            created_at=created,
            url=f"https://news.ycombinator.com/item?id={self.objectID}",
            author=self.author,
            engagement=Engagement(likes=self.points, replies=self.num_comments),
            conversation_id=self.story_id or self.objectID,
            in_reply_to=self.parent_id,
            raw=raw,
        )


class HackerNewsCollector(RetryPolicy, StreamCollector):
    """Stories and comments mentioning a brand term, incremental by creation second."""

    name: ClassVar[str] = "hackernews"
    Options = HackerNewsSource
    order = 40
    cursor_key = "queries"

    def __init__(self, options: Any, brands: list[Any], env: Mapping[str, str]) -> None:
        super().__init__(options, brands, env)
        terms: dict[str, str] = {}
        for b in brands:
            for t in b.terms:
                terms.setdefault(t.lower(), t)
        self.queries = list(terms.values())
        self.session = session()

    def streams(self) -> list[str]:
        return list(self.queries)

    def read_stream(
        self, query: str, state: dict[str, Any]
    ) -> Iterator[tuple[list[Mention | Rejected], dict[str, Any]]]:
        """Pages of one query, newest first, resuming a pending walk; raises RateLimited,
        FatalSourceError, RetriableError. A hit without an id or a time is rejected, naming the field."""
        since: int | None = state.get("since")
        since_ids = set(state.get("since_ids") or [])
        pending = copy.deepcopy(state.get("pending"))
        filters = []
        if since is not None:
            filters.append(f"created_at_i>={since}")
        if pending:
            filters.append(f"created_at_i<={pending['until']}")
        for page in range(self.options.max_pages):
            body = with_retries(self, self._search, query, ",".join(filters), page,
                                source="hackernews", what=f"search for {query!r}")
            received = body.get("hits") or []
            hits = [h for h in received if _stamp(h) is not None]
            keep = [h for h in hits if _new(h, since, since_ids, pending)]
            if keep:
                pending = _advance(pending, keep)
            unplaced = [h for h in received if _stamp(h) is None]
            mentions = [self.accept(h, label("hit", h, "objectID", f"hackernews {query!r} page {page}, item {n}"))
                        for n, h in enumerate([*keep, *unplaced], 1)]
            last = page + 1 >= int(body.get("nbPages") or 0) or not hits
            if last:
                yield mentions, _settle(since, since_ids, pending)
                return
            yield mentions, {"since": since, "since_ids": sorted(since_ids), "pending": pending}
        if since is None and pending:
            log.info("hackernews: first run for %r stopped after %d pages", query, self.options.max_pages)
            yield [], _settle(since, since_ids, pending)

    def _search(self, query: str, numeric: str, page: int) -> dict[str, Any]:
        params: dict[str, Any] = {
            "query": query,
            "tags": "(story,comment)",
            "hitsPerPage": self.options.hits_per_page,
            "page": page,
        }
        if numeric:
            params["numericFilters"] = numeric
        resp = get(self.session, f"{self.options.base_url.rstrip('/')}/search_by_date", params=params,
                   source="hackernews", timeout=self.timeout)
        body = json_body(resp, source="hackernews")
        return body if isinstance(body, dict) else {}

    def item(self, payload: Any) -> Mention:
        """One Algolia hit as a mention."""
        return HackerNewsHit.model_validate(payload).mention(payload)


def _stamp(hit: Any) -> int | None:
    """The hit's creation second (``created_at_i``, else ``created_at``), or None without an id or a time."""
    if not isinstance(hit, dict) or not hit.get("objectID"):
        return None
    for key in ("created_at_i", "created_at"):
        try:
            when = optional_timestamp(hit.get(key))
        except ValueError:
            continue
        if when is not None:
            return int(when.timestamp())
    return None


def _new(hit: dict[str, Any], since: int | None, since_ids: set[str], pending: dict[str, Any] | None) -> bool:
    ts, oid = _stamp(hit) or 0, str(hit["objectID"])
    if since is not None and (ts < since or (ts == since and oid in since_ids)):
        return False
    if pending is None:
        return True
    return ts < pending["until"] or (ts == pending["until"] and oid not in pending["until_ids"])


def _advance(pending: dict[str, Any] | None, hits: list[dict[str, Any]]) -> dict[str, Any]:
    stamps = [(_stamp(h) or 0, str(h["objectID"])) for h in hits]
    low = min(ts for ts, _ in stamps)
    at_low = [oid for ts, oid in stamps if ts == low]
    if pending is None:
        high = max(ts for ts, _ in stamps)
        return {"newest": high, "newest_ids": sorted(oid for ts, oid in stamps if ts == high),
                "until": low, "until_ids": sorted(at_low)}
    pending = dict(pending)
    if low < pending["until"]:
        pending["until"], pending["until_ids"] = low, sorted(at_low)
    elif low == pending["until"]:
        pending["until_ids"] = sorted(set(pending["until_ids"]) | set(at_low))
    return pending


def _settle(since: int | None, since_ids: set[str], pending: dict[str, Any] | None) -> dict[str, Any]:
    if not pending:
        return {"since": since, "since_ids": sorted(since_ids), "pending": None}
    ids = set(pending["newest_ids"]) | (since_ids if pending["newest"] == since else set())
    return {"since": pending["newest"], "since_ids": sorted(ids), "pending": None}
