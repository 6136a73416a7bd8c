"""Hacker News collector: real requests against a faked Algolia API (responses)."""

from __future__ import annotations

from datetime import UTC, datetime

import responses
from responses import matchers

from collectors.base import FatalSourceError, RateLimited, RetriableError
from collectors.hackernews import HackerNewsCollector, HackerNewsSource
from tests.conftest_collectors import brand, drain, fast, payload

SEARCH = "https://hn.algolia.com/api/v1/search_by_date"


def collector(**opts: object) -> HackerNewsCollector:
    source = HackerNewsSource(enabled=True, hits_per_page=3, **opts)
    return fast(HackerNewsCollector(source, [brand("Acme")], {}))  # type: ignore[return-value]


def page(name: str, status: int = 200, **match: str) -> None:
    kw = {"match": [matchers.query_param_matcher(match, strict_match=False)]} if match else {}
    responses.get(SEARCH, json=payload("hackernews", name), status=status, **kw)


def params(i: int) -> dict[str, str]:
    return dict(responses.calls[i].request.params)


@responses.activate
def test_pages_through_stories_and_comments_and_maps_fields() -> None:
    page("search_page0", page="0")
    page("search_page1", page="1")
    run = drain(collector())
    assert run.error is None
    assert run.ids == ["42100007", "42100006", "42100005", "42100004", "42100001"]
    p = params(0)
    assert (p["query"], p["tags"], p["hitsPerPage"], p["page"]) == ("Acme", "(story,comment)", "3", "0")
    assert "numericFilters" not in p
    comment, story = run.mentions[0], run.mentions[1]
    assert comment.text == "We moved off Acme last year.\nSupport never answered & the API kept timing out."
    assert comment.title is None and comment.author == "hnuser"
    assert comment.url == "https://news.ycombinator.com/item?id=42100007"
    assert (comment.conversation_id, comment.in_reply_to) == ("42100001", "42100005")
    assert comment.created_at == datetime.fromtimestamp(1795000500, UTC)
    assert story.title == "Ask HN: Is Acme Cloud down?"
    assert story.text == "Getting 502s from Acme since 10:00 UTC.\nAnyone else?"
    assert (story.engagement.likes, story.engagement.replies) == (5, 3)
    assert story.conversation_id == "42100006" and story.in_reply_to is None
    link_story = run.mentions[-1]
    assert link_story.text == link_story.title == "Acme raises prices by 40%"
    assert run.mentions[2].text == "Acme's new pricing is here"
    assert run.mentions[2].raw["objectID"] == "42100005"
    settled = {"since": 1795000500, "since_ids": ["42100007"], "pending": None}
    assert run.cursor == {"queries": {"Acme": settled}}


@responses.activate
def test_next_run_filters_by_created_at_and_drops_items_already_seen_at_that_second() -> None:
    page("search_newer")
    cursor = {"queries": {"Acme": {"since": 1795000500, "since_ids": ["42100007"], "pending": None}}}
    run = drain(collector(), cursor)
    assert params(0)["numericFilters"] == "created_at_i>=1795000500"
    assert run.ids == ["42100009"]
    assert run.cursor["queries"]["Acme"]["since"] == 1795000900


@responses.activate
def test_rate_limit_mid_walk_then_resume_has_no_gaps_and_no_duplicates() -> None:
    page("search_page0", page="0")
    responses.get(SEARCH, status=429, json={"message": "Too many requests", "status": 429},
                  headers={"Retry-After": "60"})
    first = drain(collector())
    assert isinstance(first.error, RateLimited) and first.error.reset_at is not None
    assert first.ids == ["42100007", "42100006", "42100005"]
    assert first.cursor["queries"]["Acme"]["pending"] == {
        "newest": 1795000500, "newest_ids": ["42100007"], "until": 1795000300, "until_ids": ["42100005"]}

    responses.reset()
    page("search_resume")  # the item at the boundary second comes back: B (stored) and C (new)
    second = drain(collector(), first.cursor)
    assert params(0)["numericFilters"] == "created_at_i<=1795000300"
    assert second.ids == ["42100004", "42100001"]
    union = first.ids + second.ids
    assert len(union) == len(set(union)) == 5
    settled = {"since": 1795000500, "since_ids": ["42100007"], "pending": None}
    assert second.cursor["queries"]["Acme"] == settled


@responses.activate
def test_malformed_hits_are_rejected_naming_the_field_and_the_rest_kept() -> None:
    page("search_malformed")
    run = drain(collector())
    assert run.ids == ["42100020", "42100017"]
    assert run.mentions[1].text == "Acme Show HN"
    assert run.reasons == {
        "hit 42100018": "points: 'lots' is not a number (write a whole number from 0, or leave it empty)",
        "hit 42100019": "created_at_i: missing, and so is created_at",
        "hackernews 'Acme' page 0, item 5": "objectID: missing",
    }


@responses.activate
def test_one_query_per_term_across_brands() -> None:
    page("search_empty")
    c = fast(HackerNewsCollector(HackerNewsSource(enabled=True),
                                 [brand("Acme", aliases=["Acme Cloud", "acme"]), brand("Globex")], {}))
    run = drain(c)
    assert [params(i)["query"] for i in range(len(responses.calls))] == ["Acme", "Acme Cloud", "Globex"]
    assert run.error is None


@responses.activate
def test_server_error_retried_then_retriable_error() -> None:
    responses.get(SEARCH, status=502)
    run = drain(collector())
    assert isinstance(run.error, RetriableError) and "hackernews" in str(run.error)
    assert len(responses.calls) == 3 and run.cursors == []


@responses.activate
def test_timeout_is_retried() -> None:
    import requests

    responses.get(SEARCH, body=requests.ConnectTimeout("slow"))
    page("search_empty")
    run = drain(collector())
    assert run.error is None and len(responses.calls) == 2


@responses.activate
def test_bad_base_url_is_fatal() -> None:
    responses.get(SEARCH, status=404, json={"message": "not found"})
    run = drain(collector())
    assert isinstance(run.error, FatalSourceError) and "404" in str(run.error)
