"""X collector: the real tweepy client against a faked api.twitter.com (responses)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest
import responses
from responses import matchers

from collectors.base import FatalSourceError, NotConfigured, RateLimited, RetriableError
from collectors.query import quote_term, x_queries
from collectors.x import XCollector, XSource, snowflake_time
from tests.conftest_collectors import brand, drain, fast, payload

SEARCH = "https://api.twitter.com/2/tweets/search/recent"
ENV = {"X_BEARER_TOKEN": "AAAA-test-token"}


def collector(**opts: object) -> XCollector:
    return fast(XCollector(XSource(enabled=True, **opts), [brand("Acme")], ENV))  # type: ignore[return-value]


def page(name: str, status: int = 200, **match: str) -> None:
    kw = {"match": [matchers.query_param_matcher(match, strict_match=False)]} if match else {}
    responses.get(SEARCH, json=payload("x", name), status=status, **kw)


def params(i: int) -> dict[str, str]:
    return dict(responses.calls[i].request.params)


# ------------------------------------------------------------- query building


def test_query_ors_keywords_and_handles_and_quotes_phrases() -> None:
    b = brand("Acme", keywords=["Acme", "Acme Cloud"], aliases=["acme-corp"], handles=["@AcmeSupport"])
    assert x_queries([b]) == ['(Acme OR "Acme Cloud" OR "acme-corp" OR @AcmeSupport) -is:retweet']


def test_query_exclusions_languages_and_retweets_switch() -> None:
    b = brand("Acme", exclude=["road runner", "coyote"], languages=["en", "de"])
    assert x_queries([b]) == ['Acme -"road runner" -coyote -is:retweet (lang:en OR lang:de)']
    one = brand("Acme", languages=["fr"])
    assert x_queries([one], exclude_retweets=False) == ["Acme lang:fr"]


def test_query_split_at_512_characters_keeps_every_term_and_the_suffix() -> None:
    words = [f"product{i:03d}" for i in range(120)]
    b = brand("Acme", keywords=words, exclude=["spam"], languages=["en"])
    queries = x_queries([b])
    assert len(queries) > 1
    assert all(len(q) <= 512 for q in queries)
    assert all(q.endswith("-spam -is:retweet lang:en") for q in queries)
    joined = " ".join(queries)
    assert all(w in joined for w in words)


def test_query_brands_with_same_suffix_share_a_query_and_odd_terms_are_quoted() -> None:
    queries = x_queries([brand("Acme"), brand("Globex"), brand("Initech", exclude=["office space"])])
    assert queries == ["(Acme OR Globex) -is:retweet", 'Initech -"office space" -is:retweet']
    assert quote_term('say "hi"') == '"say hi"'
    assert quote_term("OR") == '"OR"'
    assert quote_term("#acme") == "#acme"


def test_fediverse_handles_are_left_out_of_x_queries() -> None:
    assert x_queries([brand("Acme", handles=["@acme@mastodon.social"])]) == ["Acme -is:retweet"]


# ------------------------------------------------------------- fetching


@responses.activate
def test_paginates_by_next_token_and_maps_every_field() -> None:
    page("search_page1")
    page("search_page2", next_token="b26v89c19zqg8o3fosdjdjc0b0upa1nl1w5ldqhbmhwqt")
    run = drain(collector())
    assert run.error is None
    assert run.ids == [f"18590000000000001{n:02d}" for n in (5, 4, 3, 2, 1)]
    first = params(0)
    assert first["query"] == "Acme -is:retweet"
    assert first["max_results"] == "100"
    assert first["expansions"] == "author_id"
    assert set(first["tweet.fields"].split(",")) >= {
        "created_at", "public_metrics", "lang", "conversation_id", "referenced_tweets", "author_id"}
    assert set(first["user.fields"].split(",")) == {"username", "public_metrics", "verified"}
    assert "since_id" not in first
    assert responses.calls[0].request.headers["Authorization"] == "Bearer AAAA-test-token"
    assert params(1)["next_token"] == "b26v89c19zqg8o3fosdjdjc0b0upa1nl1w5ldqhbmhwqt"

    m = run.mentions[0]
    assert (m.platform, m.author, m.author_reach) == ("x", "danareyes", 15320)
    assert m.url == "https://x.com/danareyes/status/1859000000000000105"
    e = m.engagement
    assert (e.likes, e.replies, e.reposts, e.quotes) == (3, 2, 1, 4)
    assert m.created_at == datetime(2026, 11, 22, 10, 5, tzinfo=UTC)
    assert m.language == "en" and m.in_reply_to is None
    reply = run.mentions[1]
    assert reply.author == "AcmeSupport" and reply.author_reach == 250100
    assert reply.in_reply_to == "1859000000000000101"
    assert reply.conversation_id == "1859000000000000101"
    assert reply.raw["tweet"]["id"] == "1859000000000000104"
    assert run.mentions[3].language == "de"
    q = "Acme -is:retweet"
    assert run.cursor == {"queries": {q: {"since_id": "1859000000000000105", "pending": None}}}


@responses.activate
def test_next_run_asks_only_for_newer_tweets_by_since_id() -> None:
    page("search_newer", since_id="1859000000000000105")
    cursor = {"queries": {"Acme -is:retweet": {"since_id": "1859000000000000105", "pending": None}}}
    run = drain(collector(), cursor)
    assert run.error is None
    assert params(0)["since_id"] == "1859000000000000105"
    assert run.ids == ["1859000000000000107", "1859000000000000106"]
    assert run.mentions[1].url == "https://x.com/i/web/status/1859000000000000106"  # author not included
    assert run.mentions[0].text.count("Long post continues") == 5  # note_tweet: the untruncated long post
    assert run.cursor["queries"]["Acme -is:retweet"]["since_id"] == "1859000000000000107"


@responses.activate
def test_nothing_new_keeps_since_id() -> None:
    page("search_empty")
    cursor = {"queries": {"Acme -is:retweet": {"since_id": "1859000000000000107", "pending": None}}}
    run = drain(collector(), cursor)
    assert run.ids == [] and run.error is None
    assert run.cursor == cursor


@responses.activate
def test_rate_limit_mid_walk_then_resume_loses_and_repeats_nothing() -> None:
    q = "Acme -is:retweet"
    page("search_page1")
    responses.get(SEARCH, json=payload("x", "error_429.json"), status=429,
                  headers={"x-rate-limit-reset": "1795000000", "x-rate-limit-remaining": "0"})
    first = drain(collector())
    assert isinstance(first.error, RateLimited)
    assert first.error.reset_at == datetime.fromtimestamp(1795000000, UTC)
    assert first.ids == ["1859000000000000105", "1859000000000000104", "1859000000000000103"]
    pending = first.cursor["queries"][q]
    assert pending == {"since_id": None,
                       "pending": {"newest_id": "1859000000000000105", "until_id": "1859000000000000103"}}

    responses.reset()
    page("search_page2", until_id="1859000000000000103")
    second = drain(collector(), first.cursor)
    assert second.error is None
    assert "next_token" not in params(0) and "since_id" not in params(0)
    union = first.ids + second.ids
    assert union == [f"18590000000000001{n:02d}" for n in (5, 4, 3, 2, 1)]
    assert second.cursor["queries"][q] == {"since_id": "1859000000000000105", "pending": None}

    responses.reset()
    page("search_newer", since_id="1859000000000000105")
    third = drain(collector(), second.cursor)
    assert set(third.ids).isdisjoint(union)


@responses.activate
def test_rate_limit_interrupting_an_incremental_walk_keeps_since_id_until_the_walk_ends() -> None:
    q = "Acme -is:retweet"
    old = {"queries": {q: {"since_id": "1859000000000000050", "pending": None}}}
    page("search_page1", since_id="1859000000000000050")
    responses.get(SEARCH, json=payload("x", "error_429.json"), status=429,
                  headers={"x-rate-limit-reset": "1795000000"})
    first = drain(collector(), old)
    assert isinstance(first.error, RateLimited)
    assert first.cursor["queries"][q]["since_id"] == "1859000000000000050"
    responses.reset()
    page("search_page2", since_id="1859000000000000050", until_id="1859000000000000103")
    second = drain(collector(), first.cursor)
    assert len(set(first.ids + second.ids)) == 5
    assert second.cursor["queries"][q] == {"since_id": "1859000000000000105", "pending": None}


@responses.activate
def test_page_budget_on_an_incremental_run_leaves_the_walk_pending() -> None:
    q = "Acme -is:retweet"
    page("search_page1")
    old = {"queries": {q: {"since_id": "1859000000000000050", "pending": None}}}
    run = drain(collector(max_pages=1), old)
    assert run.cursor["queries"][q]["pending"]["until_id"] == "1859000000000000103"
    assert run.cursor["queries"][q]["since_id"] == "1859000000000000050"


@responses.activate
def test_first_run_page_budget_starts_from_now() -> None:
    page("search_page1")
    run = drain(collector(max_pages=1))
    assert run.cursor["queries"]["Acme -is:retweet"] == {"since_id": "1859000000000000105", "pending": None}


@responses.activate
def test_401_names_the_bearer_token() -> None:
    page("error_401.json", status=401)
    run = drain(collector())
    assert isinstance(run.error, FatalSourceError)
    assert "401" in str(run.error) and "X_BEARER_TOKEN" in str(run.error)
    assert "invalid, expired or revoked" in str(run.error)


@responses.activate
def test_403_names_access_tier_or_project() -> None:
    page("error_403.json", status=403)
    run = drain(collector())
    assert isinstance(run.error, FatalSourceError)
    assert "access tier" in str(run.error) and "Project" in str(run.error)


@responses.activate
def test_server_errors_are_retried_then_succeed() -> None:
    responses.get(SEARCH, status=503)
    responses.get(SEARCH, status=500)
    page("search_page2")
    run = drain(collector())
    assert run.error is None and len(run.ids) == 2
    assert len(responses.calls) == 3


@responses.activate
def test_server_errors_forever_raise_retriable_and_keep_the_cursor() -> None:
    responses.get(SEARCH, status=500)
    run = drain(collector())
    assert isinstance(run.error, RetriableError)
    assert run.cursors == [] and len(responses.calls) == 3


@responses.activate
def test_a_tweet_without_created_at_takes_its_time_from_the_snowflake_id_and_bad_ones_are_rejected() -> None:
    page("search_malformed")
    run = drain(collector())
    assert run.ids == ["1859000000000000205", "1859000000000000204", "1859000000000000201"]
    no_time = run.mentions[1]
    assert no_time.created_at == snowflake_time("1859000000000000204")
    assert no_time.created_at == datetime(2024, 11, 19, 22, 25, 13, 206000, tzinfo=UTC)
    assert run.reasons == {
        "tweet 1859000000000000203": "tweet.created_at: 'yesterday' is not a time (write an ISO-8601 time, "
                                     "e.g. 2026-11-20T14:05:00Z, or epoch seconds)",
        "x query 'Acme -is:retweet', item 4 without an id": "tweet: not a mapping of fields",
    }
    assert json.loads(run.rejected[0].payload)["tweet"]["created_at"] == "yesterday"
    assert run.cursor["queries"]["Acme -is:retweet"]["since_id"] == "1859000000000000205"


def test_snowflake_time_matches_created_at_of_a_real_tweet_and_ignores_other_ids() -> None:
    # two posts from X's documentation, with the created_at X returns for them (to the second)
    for post_id, created_at in (("1228393702244134912", datetime(2020, 2, 14, 19, 0, 55, tzinfo=UTC)),
                                ("1346889436626259968", datetime(2021, 1, 6, 18, 40, 40, tzinfo=UTC))):
        assert snowflake_time(post_id).replace(microsecond=0) == created_at
    assert snowflake_time("20") is None and snowflake_time("abc") is None


@responses.activate
def test_tweet_delivered_twice_in_one_run_is_yielded_once() -> None:
    page("search_page1")
    overlap = payload("x", "search_page2")
    overlap["data"].insert(0, payload("x", "search_page1")["data"][2])  # results shifted between pages
    responses.get(SEARCH, json=overlap)
    run = drain(collector())
    assert run.ids == [f"18590000000000001{n:02d}" for n in (5, 4, 3, 2, 1)]


def test_missing_bearer_token_is_not_configured() -> None:
    c = XCollector(XSource(enabled=True), [brand()], {})
    with pytest.raises(NotConfigured, match="X_BEARER_TOKEN"):
        next(c.fetch({}))


@responses.activate
def test_cursor_older_than_seven_days_starts_afresh() -> None:
    q = "Acme -is:retweet"
    page("error_400_since_id", status=400, since_id="1850000000000000000")
    page("search_page2")
    run = drain(collector(), {"queries": {q: {"since_id": "1850000000000000000", "pending": None}}})
    assert run.error is None and len(run.ids) == 2
    assert "since_id" not in params(1)
    assert run.cursor["queries"][q] == {"since_id": "1859000000000000102", "pending": None}


@responses.activate
def test_a_query_x_rejects_is_fatal_and_named() -> None:
    responses.get(SEARCH, status=400, json={"errors": [{"message": "There were errors processing your request: "
                                                         "Ambiguous use of and as a keyword"}],
                                            "title": "Invalid Request", "type": "about:blank"})
    run = drain(collector())
    assert isinstance(run.error, FatalSourceError) and "Acme -is:retweet" in str(run.error)


@responses.activate
def test_bearer_token_never_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    page("search_empty")
    with caplog.at_level(logging.DEBUG, logger="tweepy"):
        drain(collector())
    assert "Authorization" in caplog.text and "AAAA-test-token" not in caplog.text


@responses.activate
def test_base_url_redirects_tweepy_to_another_host() -> None:
    responses.get("https://api.x.com/2/tweets/search/recent", json=payload("x", "search_page2"))
    run = drain(collector(base_url="https://api.x.com/"))
    assert run.error is None and len(run.ids) == 2
