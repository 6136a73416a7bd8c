"""Shared collector helpers: HTML to text, rate-limit reset headers, the retry wrapper."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from collectors.base import RetriableError
from collectors.text import jsonable, short_id, strip_html
from collectors.web import RetryPolicy, Transient, reset_time, with_retries
from monitor.text import normalise_text

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_strip_html_keeps_paragraphs_and_leaves_entities_to_the_one_normalisation() -> None:
    stripped = strip_html("<p>A &amp; B</p><p>line<br>two&nbsp;x &#8220;q&#x201d; AT&T &amp;amp;</p>")
    assert stripped == "A &amp; B\nline\ntwo x &#8220;q&#x201d; AT&T &amp;amp;"
    assert normalise_text(stripped) == "A & B\nline\ntwo x \u201cq\u201d AT&T &amp;"  # decoded once, never twice
    assert strip_html(None) == "" and strip_html("plain") == "plain"


@pytest.mark.parametrize(("headers", "expected"), [
    ({"x-rate-limit-reset": "1795000000"}, datetime.fromtimestamp(1795000000, UTC)),
    ({"x-ratelimit-reset": "120"}, NOW + timedelta(seconds=120)),
    ({"x-ratelimit-reset": "2026-11-22T10:05:00.000Z"}, NOW + timedelta(minutes=5)),
    ({"retry-after": "30"}, NOW + timedelta(seconds=30)),
    ({"retry-after": "Sun, 22 Nov 2026 10:01:00 GMT"}, NOW + timedelta(minutes=1)),
    ({}, None),
])
def test_reset_time_reads_every_header_style(headers: dict[str, str], expected: datetime | None) -> None:
    assert reset_time(headers, now=NOW) == expected


def test_with_retries_gives_up_with_retriable_error() -> None:
    policy = RetryPolicy()
    policy.retry_wait, policy.retry_attempts = 0, 4
    calls = []

    def flaky() -> None:
        calls.append(1)
        raise Transient("HTTP 503")

    with pytest.raises(RetriableError, match="after 4 attempts"):
        with_retries(policy, flaky, source="demo", what="polling")
    assert len(calls) == 4


def test_jsonable_converts_struct_time_and_unknown_objects() -> None:
    assert jsonable({"t": NOW.timetuple(), "o": object, "l": (1, "a")})["t"] == "2026-11-22T10:00:00+00:00"


def test_ids_longer_than_the_store_column_become_stable_digests() -> None:
    long = "https://news.example.com/" + "a" * 200
    assert short_id("t3_abc") == "t3_abc"
    assert short_id(long) == short_id(long) and short_id(long).startswith("sha1:") and len(short_id(long)) <= 128
