"""Reddit collector: the real praw/prawcore stack against a faked reddit.com (responses)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import prawcore
import pytest
import responses
from responses import matchers

from collectors.base import FatalSourceError, NotConfigured, RateLimited, RetriableError
from collectors.reddit import RedditCollector, RedditSource
from tests.conftest_collectors import brand, drain, fast, payload

TOKEN = "https://www.reddit.com/api/v1/access_token"
SEARCH = "https://oauth.reddit.com/r/all/search/"
COMMENTS = "https://oauth.reddit.com/r/technology+gadgets/comments/"
ENV = {"REDDIT_CLIENT_ID": "p-jcoLKBynTLew", "REDDIT_CLIENT_SECRET": "gko_LXELoV07ZBNUXrvWZfzE3aI",
       "REDDIT_USER_AGENT": "brand-monitor/0.1 by u/acme_social"}
SEARCH_KEY = 'search:all:("Acme" OR "Acme Cloud")'
COMMENTS_KEY = "comments:technology+gadgets"


@pytest.fixture(autouse=True)
def no_prawcore_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """prawcore sleeps 2-4 s before retrying a 5xx; the retries themselves still happen."""
    monkeypatch.setattr(prawcore.sessions.FiniteRetryStrategy, "_sleep_seconds", lambda self: None)


@pytest.fixture
def reddit_api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post(TOKEN, json=payload("reddit", "token"))
        yield rsps


def collector(env: dict[str, str] | None = None, **opts: object) -> RedditCollector:
    opts.setdefault("subreddits", ["technology", "r/gadgets"])
    c = RedditCollector(RedditSource(enabled=True, **opts), [brand("Acme", aliases=["Acme Cloud"])],
                        ENV if env is None else env)
    return fast(c)  # type: ignore[return-value]


def listing(rsps: responses.RequestsMock, url: str, name: str, status: int = 200, **match: str) -> None:
    kw = {"match": [matchers.query_param_matcher(match, strict_match=False)]} if match else {}
    rsps.get(url, json=payload("reddit", name), status=status, **kw)


def test_search_and_comments_with_pagination_and_fields(reddit_api: responses.RequestsMock) -> None:
    listing(reddit_api, SEARCH, "search_page2", after="t3_1gx0a4")
    listing(reddit_api, SEARCH, "search_page1")
    listing(reddit_api, COMMENTS, "comments")
    run = drain(collector())
    assert run.error is None
    assert run.ids == ["t3_1gx0a5", "t3_1gx0a4", "t3_1gx0a3", "t3_1gx0a2", "t1_lq2ab3", "t1_lq2ab1"]
    token_call = reddit_api.calls[0].request
    assert token_call.url == TOKEN and "grant_type=client_credentials" in str(token_call.body)
    search = reddit_api.calls[1].request
    assert search.params["q"] == '("Acme" OR "Acme Cloud")'
    assert (search.params["sort"], search.params["restrict_sr"]) == ("new", "False")
    assert search.headers["Authorization"].startswith("bearer ")
    assert search.headers["User-Agent"].startswith("brand-monitor/0.1 by u/acme_social")

    post = run.mentions[0]
    assert post.title == "Acme outage this morning" and post.text == "Is Acme Cloud down for anyone else?"
    assert post.url == "https://www.reddit.com/r/technology/comments/1gx0a5/acme_outage_this_morning/"
    assert (post.author, post.author_reach) == ("dana_r", 0)
    assert (post.engagement.likes, post.engagement.replies) == (152, 48)
    assert post.conversation_id == "t3_1gx0a5" and post.in_reply_to is None
    assert post.created_at == datetime.fromtimestamp(1795000500, UTC)
    assert post.raw["subreddit"] == "technology" and post.raw["author"] == "dana_r"
    assert run.mentions[1].author == "[deleted]"
    assert run.mentions[3].text == "Props to the team."
    comment = run.mentions[4]
    assert comment.title is None and comment.text == "Same here, Acme has been down an hour"
    assert (comment.conversation_id, comment.in_reply_to) == ("t3_1gx0a1", "t3_1gx0a1")
    assert comment.url.endswith("/acme_outage_this_morning/lq2ab3/")
    assert run.mentions[5].in_reply_to == "t1_lq2ab0"  # "ACME" matched case-insensitively

    state = run.cursor["streams"]
    assert state[SEARCH_KEY]["created_utc"] == 1795000500.0
    assert set(state[SEARCH_KEY]["seen"]) == {"t3_1gx0a5", "t3_1gx0a4", "t3_1gx0a3", "t3_1gx0a2"}
    assert state[COMMENTS_KEY]["created_utc"] == 1795000600.0


def test_items_delivered_again_are_not_yielded_twice(reddit_api: responses.RequestsMock) -> None:
    listing(reddit_api, SEARCH, "search_page2", after="t3_1gx0a4")
    listing(reddit_api, SEARCH, "search_page1")
    first = drain(collector(comments=False))
    reddit_api.replace(responses.GET, SEARCH, json=payload("reddit", "search_newer"))
    second = drain(collector(comments=False), first.cursor)
    assert second.ids == ["t3_1gx0a7"]
    assert second.cursor["streams"][SEARCH_KEY]["created_utc"] == 1795000900.0


def test_late_indexed_post_within_the_lookback_is_collected(reddit_api: responses.RequestsMock) -> None:
    listing(reddit_api, SEARCH, "search_page2", after="t3_1gx0a4")
    listing(reddit_api, SEARCH, "search_page1")
    first = drain(collector(comments=False))
    reddit_api.replace(responses.GET, SEARCH, json=payload("reddit", "search_late"))
    second = drain(collector(comments=False), first.cursor)
    assert second.ids == ["t3_1gx0a6"]


def test_rate_limit_then_recovery_loses_and_repeats_nothing(reddit_api: responses.RequestsMock) -> None:
    listing(reddit_api, SEARCH, "search_page2", after="t3_1gx0a4")
    listing(reddit_api, SEARCH, "search_page1")
    reddit_api.get(COMMENTS, status=429, json=payload("reddit", "too_many"),
                   headers={"x-ratelimit-remaining": "0", "x-ratelimit-used": "100",
                            "x-ratelimit-reset": "0"})
    first = drain(collector())
    assert isinstance(first.error, RateLimited) and first.error.reset_at is not None
    assert len(first.ids) == 4 and COMMENTS_KEY in first.cursor["streams"]
    assert first.cursor["streams"][COMMENTS_KEY] == {}

    reddit_api.replace(responses.GET, COMMENTS, json=payload("reddit", "comments"))
    second = drain(collector(), first.cursor)
    assert second.error is None
    union = first.ids + second.ids
    assert len(union) == len(set(union)) == 6


def test_server_errors_are_retried_then_succeed(reddit_api: responses.RequestsMock) -> None:
    reddit_api.get(SEARCH, status=503)
    reddit_api.get(SEARCH, status=503)
    reddit_api.get(SEARCH, status=500)
    listing(reddit_api, SEARCH, "search_page2")
    run = drain(collector(comments=False))
    assert run.error is None and len(run.ids) == 2


def test_server_errors_forever_raise_retriable(reddit_api: responses.RequestsMock) -> None:
    reddit_api.get(SEARCH, status=500)
    run = drain(collector(comments=False))
    assert isinstance(run.error, RetriableError) and "reddit" in str(run.error)
    assert run.cursors == []


def test_bad_credentials_are_fatal_and_name_the_variables() -> None:
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN, status=401, json=payload("reddit", "token_401"))
        run = drain(collector())
    assert isinstance(run.error, FatalSourceError)
    assert "REDDIT_CLIENT_ID" in str(run.error) and "REDDIT_CLIENT_SECRET" in str(run.error)


def test_forbidden_subreddit_is_fatal(reddit_api: responses.RequestsMock) -> None:
    listing(reddit_api, "https://oauth.reddit.com/r/technology+gadgets/search/", "forbidden", status=403)
    run = drain(collector(search_all=False))
    assert isinstance(run.error, FatalSourceError) and "403" in str(run.error)
    assert reddit_api.calls[1].request.params["restrict_sr"] == "True"


def test_malformed_things_are_rejected_naming_the_field(reddit_api: responses.RequestsMock) -> None:
    listing(reddit_api, SEARCH, "search_malformed")
    run = drain(collector(comments=False))
    assert run.ids == ["t3_1gx0a5", "t3_1gx0a3"]
    assert run.reasons == {
        "t3 t3_1gx0b1": "title: missing",
        "t3 t3_1gx0a4": "created_utc: 'soon' is not a time (write an ISO-8601 time, e.g. 2026-11-20T14:05:00Z, "
                        "or epoch seconds)",
    }
    kept = json.loads(next(r.payload for r in run.rejected if r.position == "t3 t3_1gx0a4"))
    assert kept["kind"] == "t3" and kept["data"]["created_utc"] == "soon"


def test_old_comments_without_permalink_get_one_built_from_link_id_and_id(reddit_api: responses.RequestsMock) -> None:
    listing(reddit_api, COMMENTS, "comments_2016")
    empty = {"kind": "Listing", "data": {"after": None, "before": None, "children": []}}
    reddit_api.get("https://oauth.reddit.com/r/technology+gadgets/search/", json=empty)
    run = drain(collector(search_all=False))
    assert run.rejected == []
    assert run.ids == ["t1_d0k3x1a", "t1_d0k3w9z"]
    first = run.mentions[0]
    assert first.url == "https://www.reddit.com/r/technology/comments/4a1b2c/_/d0k3x1a/"
    assert first.created_at == datetime(2016, 3, 15, 0, 0, tzinfo=UTC)
    assert first.text == "Acme Cloud doubled the price again, AT&T style"  # the one entity decoding at the edge
    assert first.engagement.likes == 0  # a score of -3: more downvotes, no likes
    assert run.mentions[1].in_reply_to == "t1_d0k3w1q"


@pytest.mark.parametrize("missing", ["REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USER_AGENT"])
def test_missing_credentials_are_not_configured(missing: str) -> None:
    env = {k: v for k, v in ENV.items() if k != missing}
    with pytest.raises(NotConfigured, match=missing):
        next(collector(env).fetch({}))


def test_long_term_lists_are_split_into_several_searches() -> None:
    terms = [f"acme product {i}" for i in range(60)]
    c = RedditCollector(RedditSource(enabled=True), [brand("Acme", keywords=terms)], ENV)
    keys = [k for k in c.streams() if k.startswith("search:all:")]
    assert len(keys) > 1 and all(len(k.removeprefix("search:all:")) <= 512 for k in keys)
    assert all(f'"{t}"' in "".join(keys) for t in terms)
