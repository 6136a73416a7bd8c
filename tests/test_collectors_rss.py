"""RSS/Atom collector: real requests and feedparser against faked feeds (responses)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import responses

from collectors.base import NotConfigured, RetriableError
from collectors.rss import RssCollector, RssSource
from tests.conftest_collectors import brand, drain, fast, payload

ALERTS = "https://www.google.com/alerts/feeds/06807031914929345698/10604166159629661594"
NEWS = "https://technews.example.com/feed.xml"


def collector(*feeds: str) -> RssCollector:
    source = RssSource(enabled=True, feeds=list(feeds))
    return fast(RssCollector(source, [brand("Acme")], {}))  # type: ignore[return-value]


def serve(url: str, name: str, **headers: str) -> None:
    ctype = "application/atom+xml" if "atom" in name else "application/rss+xml"
    responses.get(url, body=payload("rss", name), content_type=ctype, headers=headers)


@responses.activate
def test_google_alerts_atom_entries_become_mentions() -> None:
    serve(ALERTS, "google_alerts.atom.xml", ETag='"v1"')
    run = drain(collector(ALERTS))
    assert run.error is None
    assert run.ids == ["tag:google.com,2013:googlealerts/feed:9001",
                       "tag:google.com,2013:googlealerts/feed:9000"]
    m = run.mentions[0]
    assert m.platform == "rss"
    assert m.title == "Acme recalls 40,000 kettles over fire risk"
    assert m.text == ("Acme recalls 40,000 kettles over fire risk\n"
                      "The Acme Corporation said on Sunday it would recall kettles sold since March ...")
    assert m.url == "https://news.example.com/2026/11/acme-recall"
    assert m.created_at == datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    assert run.mentions[1].author == "Jo Writer"
    assert m.raw["published"] == "2026-11-22T10:00:00Z"
    state = run.cursor["feeds"][ALERTS]
    assert state["etag"] == '"v1"' and state["seen"][0].endswith("9001")


@responses.activate
def test_rss2_feed_fields_and_entries_without_id_or_date() -> None:
    serve(NEWS, "news.rss.xml")
    run = drain(collector(NEWS))
    assert run.ids == ["technews-5521", "https://technews.example.com/link-only",
                       "https://technews.example.com/acme-q3"]
    [(position, reason)] = run.reasons.items()
    assert position.startswith(f"rss {NEWS}, an entry without id or link") and reason == "id: missing, and so is link"
    m = run.mentions[0]
    assert (m.author, m.language, m.url) == ("Sam Reporter", "en", "https://technews.example.com/acme-outage")
    assert m.text == "Acme outage hits thousands of customers\nAcme's cloud service was down for two hours."
    assert run.mentions[2].created_at.tzinfo is not None  # undated: time of collection


@responses.activate
def test_entries_already_seen_are_not_yielded_again_and_304_costs_nothing() -> None:
    serve(NEWS, "news.rss.xml", ETag='"abc"', **{"Last-Modified": "Sun, 22 Nov 2026 09:20:00 GMT"})
    first = drain(collector(NEWS))
    second = drain(collector(NEWS), first.cursor)  # the same feed delivered again
    assert len(first.ids) == 3 and second.ids == []
    assert responses.calls[1].request.headers["If-None-Match"] == '"abc"'
    assert responses.calls[1].request.headers["If-Modified-Since"] == "Sun, 22 Nov 2026 09:20:00 GMT"
    responses.replace(responses.GET, NEWS, status=304)
    third = drain(collector(NEWS), second.cursor)
    assert third.ids == [] and third.cursors == [] and third.error is None


def test_seen_ids_are_bounded() -> None:
    c = collector(NEWS)
    c.seen_limit = 2
    old = {"feeds": {NEWS: {"seen": [f"old-{i}" for i in range(50)]}}}
    with responses.RequestsMock() as rsps:
        rsps.get(NEWS, body=payload("rss", "news.rss.xml"))
        run = drain(c, old)
    assert len(run.cursor["feeds"][NEWS]["seen"]) == 6  # twice the feed's 3 ids, current ones first
    assert run.cursor["feeds"][NEWS]["seen"][:3] == run.ids


@responses.activate
def test_a_broken_feed_does_not_stop_the_others() -> None:
    responses.get(NEWS, status=500)
    serve(ALERTS, "google_alerts.atom.xml")
    run = drain(collector(NEWS, ALERTS))
    assert isinstance(run.error, RetriableError) and NEWS in str(run.error)
    assert len(run.ids) == 2


@responses.activate
def test_html_page_instead_of_a_feed_is_reported() -> None:
    responses.get(NEWS, body="<html><body>Moved</body>", content_type="text/html")
    run = drain(collector(NEWS))
    assert isinstance(run.error, RetriableError) and "RSS or Atom" in str(run.error)


def test_no_feeds_is_not_configured() -> None:
    with pytest.raises(NotConfigured, match=r"sources\.rss\.feeds"):
        next(collector().fetch({}))
