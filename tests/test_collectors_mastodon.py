"""Mastodon collector: real requests against faked instances (responses)."""

from __future__ import annotations

from pathlib import Path

import pytest
import responses
from responses import matchers

from collectors.base import FatalSourceError, NotConfigured, RateLimited, RetriableError
from collectors.mastodon import MastodonCollector, MastodonSource
from tests.conftest_collectors import brand, drain, fast, payload

SOCIAL = "https://mastodon.social"
TAG = f"{SOCIAL}/api/v1/timelines/tag/acme"
SEARCH = f"{SOCIAL}/api/v2/search"
KEY = f"{SOCIAL}|tag:acme"


def collector(env: dict[str, str] | None = None, **opts: object) -> MastodonCollector:
    opts.setdefault("hashtags", ["#acme"])
    source = MastodonSource(enabled=True, limit=3, **opts)
    return fast(MastodonCollector(source, [brand("Acme")], env or {}))  # type: ignore[return-value]


def timeline(name: str, url: str = TAG, next_max: str | None = None, **match: str) -> None:
    headers = {}
    if next_max:
        headers["Link"] = (f'<{url}?limit=3&max_id={next_max}>; rel="next", '
                           f'<{url}?limit=3&min_id=113500000000000005>; rel="prev"')
    kw = {"match": [matchers.query_param_matcher(match, strict_match=False)]} if match else {}
    responses.get(url, json=payload("mastodon", name), headers=headers, **kw)


def params(i: int) -> dict[str, str]:
    return dict(responses.calls[i].request.params)


@responses.activate
def test_hashtag_timeline_follows_link_header_and_maps_fields() -> None:
    timeline("tag_page1", next_max="113500000000000003")
    timeline("tag_page2", max_id="113500000000000003")
    responses.get(TAG, json=[], match=[matchers.query_param_matcher({"max_id": "113500000000000001"},
                                                                    strict_match=False)])
    run = drain(collector())
    assert run.error is None
    assert len(run.ids) == 5
    assert params(0) == {"limit": "3"}
    assert "Authorization" not in responses.calls[0].request.headers
    m = run.mentions[0]
    assert m.native_id == "https://mastodon.social/users/dana/statuses/113500000000000005"
    assert m.url == "https://mastodon.social/@dana/113500000000000005"
    assert m.text == "Our #Acme printer jammed again & again\nNever buying again."
    assert (m.author, m.author_reach, m.language) == ("dana@mastodon.social", 52000, "en")
    assert (m.engagement.likes, m.engagement.replies, m.engagement.reposts) == (40, 2, 1)
    assert m.created_at.isoformat() == "2026-11-22T10:05:00+00:00"
    assert m.raw["id"] == "113500000000000005"
    reply = run.mentions[1]
    assert reply.author == "lee@fosstodon.org" and reply.in_reply_to == "113500000000000001"
    assert run.cursor == {"streams": {KEY: {"since_id": "113500000000000005", "pending": None}}}


@responses.activate
def test_next_run_passes_since_id() -> None:
    timeline("tag_newer", since_id="113500000000000005")
    run = drain(collector(), {"streams": {KEY: {"since_id": "113500000000000005", "pending": None}}})
    assert params(0)["since_id"] == "113500000000000005"
    assert run.ids == ["https://mastodon.social/users/dana/statuses/113500000000000007"]
    assert run.cursor["streams"][KEY]["since_id"] == "113500000000000007"


@responses.activate
def test_rate_limit_mid_walk_then_resume_by_max_id_is_complete() -> None:
    timeline("tag_page1", next_max="113500000000000003")
    responses.get(TAG, status=429, json=payload("mastodon", "error_429"),
                  headers={"X-RateLimit-Reset": "2026-11-22T10:10:00.000Z", "X-RateLimit-Remaining": "0"})
    first = drain(collector())
    assert isinstance(first.error, RateLimited)
    assert first.error.reset_at is not None
    assert first.error.reset_at.isoformat() == "2026-11-22T10:10:00+00:00"
    assert len(first.ids) == 3
    responses.reset()
    timeline("tag_page2", max_id="113500000000000003")
    second = drain(collector(), first.cursor)
    assert params(0)["max_id"] == "113500000000000003"
    union = first.ids + second.ids
    assert len(union) == len(set(union)) == 5
    assert second.cursor["streams"][KEY] == {"since_id": "113500000000000005", "pending": None}


@responses.activate
def test_search_needs_the_token_and_sends_it() -> None:
    timeline("tag_newer")
    responses.get(SEARCH, json=payload("mastodon", "search_statuses"),
                  match=[matchers.query_param_matcher({"q": "Acme", "type": "statuses"}, strict_match=False)])
    run = drain(collector({"MASTODON_ACCESS_TOKEN": "tok"}))
    assert run.error is None
    search_call = responses.calls[1]
    assert search_call.request.headers["Authorization"] == "Bearer tok"
    # the status seen through the timeline and through search is one mention
    assert len(run.ids) == len(set(run.ids)) == 3
    assert set(run.cursor["streams"]) == {KEY, f"{SOCIAL}|search:Acme"}


@responses.activate
def test_the_token_can_come_from_a_file(tmp_path: Path) -> None:
    token = tmp_path / "mastodon-token"
    token.write_text("tok-from-file\n", encoding="utf-8")
    timeline("tag_newer")
    responses.get(SEARCH, json=payload("mastodon", "search_statuses"))
    run = drain(collector({"MASTODON_ACCESS_TOKEN_FILE": str(token)}))
    assert run.error is None
    assert responses.calls[1].request.headers["Authorization"] == "Bearer tok-from-file"


@responses.activate
def test_bad_token_is_fatal_with_the_variable_named() -> None:
    responses.get(TAG, status=401, json=payload("mastodon", "error_401"))
    run = drain(collector({"MASTODON_ACCESS_TOKEN": "expired"}))
    assert isinstance(run.error, FatalSourceError)
    assert "MASTODON_ACCESS_TOKEN" in str(run.error) and "401" in str(run.error)


def test_no_hashtags_and_no_token_is_not_configured() -> None:
    c = MastodonCollector(MastodonSource(enabled=True), [brand("Acme Cloud", keywords=["!!!"])], {})
    with pytest.raises(NotConfigured, match="MASTODON_ACCESS_TOKEN"):
        next(c.fetch({}))


def test_hashtags_default_to_the_brand_terms() -> None:
    c = MastodonCollector(MastodonSource(enabled=True), [brand("Acme", aliases=["Acme Cloud"])], {})
    assert c.hashtags == ["acme", "acmecloud"]


@responses.activate
def test_malformed_statuses_are_rejected_naming_the_field() -> None:
    timeline("tag_malformed")
    run = drain(collector())
    assert [i.rsplit("/", 1)[1] for i in run.ids] == ["113500000000000012", "113500000000000009"]
    assert run.reasons == {
        "status 113500000000000011": "status.created_at: missing",
        "status 113500000000000010": "status.created_at: 'not a date' is not a time (write an ISO-8601 time, "
                                    "e.g. 2026-11-20T14:05:00Z, or epoch seconds)",
    }
    assert run.cursor["streams"][KEY]["since_id"] == "113500000000000012"


@responses.activate
def test_one_instance_failing_does_not_stop_the_others() -> None:
    other = "https://fosstodon.org/api/v1/timelines/tag/acme"
    responses.get(TAG, status=503)
    timeline("tag_newer", url=other)
    run = drain(collector(instances=[SOCIAL, "https://fosstodon.org"]))
    assert isinstance(run.error, RetriableError)
    assert len(run.ids) == 1
    assert set(run.cursor["streams"]) == {KEY, "https://fosstodon.org|tag:acme"}
    assert run.cursor["streams"][KEY] == {}


@responses.activate
def test_the_token_is_sent_only_to_its_home_instance() -> None:
    other = "https://fosstodon.org/api/v1/timelines/tag/acme"
    timeline("tag_newer")
    timeline("tag_newer", url=other)
    responses.get(SEARCH, json=payload("mastodon", "search_statuses"))
    drain(collector({"MASTODON_ACCESS_TOKEN": "tok"}, instances=[SOCIAL, "https://fosstodon.org"]))
    sent = {c.request.url.split("/api/")[0]: c.request.headers.get("Authorization") for c in responses.calls}
    assert sent == {SOCIAL: "Bearer tok", "https://fosstodon.org": None}
