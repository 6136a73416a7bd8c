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

from collectors.base import Engagement, Mention, SourceOptions, StreamCollector
from collectors.text import from_epoch, strip_html
from collectors.web import RetryPolicy, get, json_body, session, with_retries

log = logging.getLogger(__name__)


class HackerNewsSource(SourceOptions):
    """``sources.hackernews``: Algolia's ``search_by_date``."""

    base_url: str = "https://hn.algolia.com/api/v1"
    hits_per_page: int = Field(100, ge=1, le=1000)
    max_pages: int = Field(10, ge=1, le=100)


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

    def read_stream(self, query: str, state: dict[str, Any]) -> Iterator[tuple[list[Mention], dict[str, Any]]]:
        """Pages of one query, newest first, resuming a pending walk; raises RateLimited,
        FatalSourceError, RetriableError."""
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
            hits = [h for h in body.get("hits") or [] if _stamp(h) is not None]
            bad = len(body.get("hits") or []) - len(hits)
            if bad:
                log.warning("hackernews: skipping %d hits without objectID or created_at_i", bad)
            keep = [h for h in hits if _new(h, since, since_ids, pending)]
            if keep:
                pending = _advance(pending, keep)
            mentions = [m for m in (self._mention(h) for h in keep) if m]
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

    def _mention(self, hit: dict[str, Any]) -> Mention | None:
        try:
            oid = str(hit["objectID"])
            tags = hit.get("_tags") or []
            is_comment = "comment" in tags or hit.get("comment_text") is not None
            body = strip_html(hit.get("comment_text") if is_comment else hit.get("story_text"))
            title = None if is_comment else hit.get("title")
            story = hit.get("story_id")
            parent = hit.get("parent_id")
            return Mention(
                platform="hackernews",
                native_id=oid,
                text=body or title or "",
                title=title,
                created_at=from_epoch(hit["created_at_i"]),
                url=f"https://news.ycombinator.com/item?id={oid}",
                author=hit.get("author") or "",
                engagement=Engagement(likes=int(hit.get("points") or 0),
                                      replies=int(hit.get("num_comments") or 0)),
                conversation_id=str(story) if story else oid,
                in_reply_to=str(parent) if parent else None,
                raw=hit,
            )
        except (KeyError, TypeError, ValueError) as err:
            log.warning("hackernews: skipping malformed hit %r: %s: %s",
                        hit.get("objectID"), type(err).__name__, err)
            return None


def _stamp(hit: Any) -> int | None:
    if not isinstance(hit, dict) or not hit.get("objectID"):
        return None
    try:
        return int(hit["created_at_i"])
    except (KeyError, TypeError, ValueError):
        return None


def _new(hit: dict[str, Any], since: int | None, since_ids: set[str], pending: dict[str, Any] | None) -> bool:
    ts, oid = int(hit["created_at_i"]), str(hit["objectID"])
    if since is not None and (ts < since or (ts == since and oid in since_ids)):
        return False
    if pending is None:
        return True
    return ts < pending["until"] or (ts == pending["until"] and oid not in pending["until_ids"])


def _advance(pending: dict[str, Any] | None, hits: list[dict[str, Any]]) -> dict[str, Any]:
    stamps = [(int(h["created_at_i"]), str(h["objectID"])) for h in hits]
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
