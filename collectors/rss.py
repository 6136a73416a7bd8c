"""RSS and Atom feeds (Google Alerts, news sites) fetched with requests, parsed by feedparser.

Cursor: ``{"feeds": {<url>: {"seen": [entry ids, newest first], "etag": str | None,
"modified": str | None}}}``. Feeds have no "since" parameter, so each feed keeps the ids it
has delivered (bounded to :attr:`RssCollector.seen_limit` or twice the feed's length, so ids
still in the feed are never forgotten) and sends ``If-None-Match``/``If-Modified-Since`` so
an unchanged feed costs a 304. One page per feed with new entries. A failing feed does not
stop the others: its error is raised after they are collected.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, urlparse

from pydantic import Field

from collectors.base import (
    CollectorError,
    Mention,
    NotConfigured,
    Page,
    Rejected,
    RetriableError,
    SourceOptions,
    StreamCollector,
)
from collectors.edge import Edge, Invalid
from collectors.fields import Author, OptionalText, OptionalTime, native_id
from collectors.text import jsonable, short_id, strip_html
from collectors.web import RetryPolicy, get, session, with_retries

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)


class RssSource(SourceOptions):
    """``sources.rss``: RSS or Atom feed URLs (e.g. Google Alerts feeds)."""

    feeds: list[str] = Field(default_factory=list)


class RssValue(Edge):
    value: str | None = None


class RssDetail(Edge):
    language: str | None = None


class RssEntry(Edge):
    """An RSS or Atom entry as feedparser reads it (times as ISO text, see :func:`~collectors.text.jsonable`).

    An entry without a date is dated when it was collected (feeds may omit dates).
    """

    id: str | None = None
    link: str | None = None
    title: OptionalText = None
    summary: str | None = None
    content: list[RssValue] = []
    published_parsed: OptionalTime = None
    updated_parsed: OptionalTime = None
    author: Author = ""
    title_detail: RssDetail | None = None

    def mention(self, feed_language: str | None, raw: dict[str, Any]) -> Mention:
        """The mention this entry is; raises :class:`Invalid` without an id or link, or without any text."""
        raw_id = (self.id or "").strip() or (self.link or "").strip()
        if not raw_id:
            raise Invalid("id", "missing, and so is link")
        try:
            entry_id = native_id(short_id(raw_id))
        except ValueError as err:
            raise Invalid("id", str(err)) from None
        title = strip_html(self.title)
        summary = strip_html(self.summary or (self.content[0].value if self.content else None))
        text = "\n".join(p for p in (title, summary) if p)
        if not text:
            raise Invalid("title", "missing, and so are summary and content")
        return Mention(
            platform="rss",
            native_id=entry_id,
            text=text,
            title=title or None,
            created_at=self.published_parsed or self.updated_parsed or datetime.now(UTC),
            url=_unwrap(self.link or ""),
            author=self.author,
            language=_lang(self.title_detail.language if self.title_detail else None) or feed_language,
            raw=raw,
        )


class RssCollector(RetryPolicy, StreamCollector):
    """New entries of every configured feed, de-duplicated by entry id (or link)."""

    name: ClassVar[str] = "rss"
    Options = RssSource
    order = 60
    cursor_key = "feeds"
    seen_limit: int = 500

    def __init__(self, options: Any, brands: list[Any], env: Mapping[str, str]) -> None:
        super().__init__(options, brands, env)
        self.session = session()
        self.session.headers["User-Agent"] = "brand-monitor/0.1 (+feed reader)"

    def streams(self) -> list[str]:
        return list(self.options.feeds)

    def read_stream(self, url: str, state: dict[str, Any]) -> Iterator[tuple[list[Mention | Rejected], dict[str, Any]]]:
        """One page when the feed has new entries, none when it is unchanged (304 or nothing new)."""
        page = self._feed(url, state)
        if page is not None:
            yield page

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Page]:
        """Yield one page per feed with new entries; raises the first feed's error at the end."""
        if not self.options.feeds:
            raise NotConfigured("rss: sources.rss.feeds is empty; add feed URLs or disable the source")
        states = self.stream_states(cursor)
        failed: list[CollectorError] = []
        for url in list(states):
            try:
                yield from self.pages(states, url, set())
            except CollectorError as err:
                log.warning("rss: %s failed, continuing with the other feeds: %s", url, err)
                failed.append(err)
        if failed:
            raise failed[0]

    def _feed(self, url: str, state: dict[str, Any]) -> tuple[list[Mention | Rejected], dict[str, Any]] | None:
        headers = {}
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("modified"):
            headers["If-Modified-Since"] = state["modified"]
        resp = with_retries(self, self._get, url, headers, source="rss", what=f"GET {url}")
        if resp.status_code == 304:
            return None
        import feedparser

        parsed = feedparser.parse(resp.content, response_headers={
            "content-location": url, "content-type": resp.headers.get("content-type", "")})
        if not parsed.entries and parsed.bozo:
            raise RetriableError(f"rss: {url} did not return RSS or Atom ({parsed.bozo_exception}); "
                                 "check the feed URL")
        feed_lang = _lang(parsed.feed.get("language"))
        seen = list(state.get("seen") or [])
        known = set(seen)
        current, mentions = [], []
        for entry in parsed.entries:
            raw_id = entry.get("id") or entry.get("link")
            envelope = {"entry": jsonable(entry), "feed_language": feed_lang}
            if not raw_id:  # no id to remember it by: rejected (again, on each read, until the feed fixes it)
                mentions.append(self.accept(envelope, f"rss {url}, an entry without id or link: "
                                                      f"{str(entry.get('title'))[:80]!r}"))
                continue
            entry_id = short_id(raw_id)
            current.append(entry_id)
            if entry_id in known or entry_id in current[:-1]:
                continue
            mentions.append(self.accept(envelope, f"entry {entry_id}"))
        limit = max(self.seen_limit, 2 * len(current))
        new_state = {
            "seen": list(dict.fromkeys(current + seen))[:limit],
            "etag": resp.headers.get("ETag"),
            "modified": resp.headers.get("Last-Modified"),
        }
        return mentions, new_state

    def _get(self, url: str, headers: dict[str, str]) -> requests.Response:
        return get(self.session, url, headers=headers, source="rss", timeout=self.timeout,
                   auth_hint="the feed needs credentials; use a public feed URL")

    def item(self, payload: Any) -> Mention:
        """``{"entry": <the entry as JSON>, "feed_language": <the feed's language>}`` as a mention."""
        if not isinstance(payload, dict):
            raise Invalid(None, "not an entry with its feed's language")
        entry = payload.get("entry")
        return RssEntry.model_validate(entry).mention(_lang(payload.get("feed_language")), entry)


def _unwrap(link: str) -> str:
    """The article URL inside a Google Alerts redirect (``google.com/url?...&url=<article>``)."""
    parts = urlparse(link)
    if parts.netloc.endswith("google.com") and parts.path == "/url":
        target = parse_qs(parts.query).get("url") or parse_qs(parts.query).get("q")
        if target:
            return target[0]
    return link


def _lang(value: Any) -> str | None:
    """``en-US`` -> ``en``; None when absent."""
    if not value or not isinstance(value, str):
        return None
    return value.split("-")[0].split("_")[0].lower() or None
