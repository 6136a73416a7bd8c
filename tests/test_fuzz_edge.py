"""Fuzzing the edge: 10,000 mixed rows through the file source, and generated payloads through every parser.

0 crashes; every good row stored; every bad row in the dead-letter table with a reason naming
its field. The file is generated from a fixed seed (the same file every run); the item parsers
get hypothesis' payloads.
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import Session

from collectors.base import Mention
from collectors.edge import Rejected, check_mention, json_safe
from collectors.registry import build
from monitor.context import App
from monitor.ingest.collect import collect_source
from monitor.store import DeadLetter
from monitor.store import Mention as MentionRow

COLUMNS = ["id", "text", "created_at", "likes", "author_reach", "platform", "language", "url", "title"]
GOOD_TEXTS = ["Acme is down again", "AT&amp;T vs Acme", "Ａｃｍｅ full width", "acme, with \"quotes\", commas",
              "Acme\nover two lines", "Acme 😡 refund please", "ACME ﬁne", "Acme\x00 with a NUL", "  Acme  ",
              "Acme <b>html</b> &lt;ok&gt;", "Acme café naïve", "Acme \u202e reversed"]
GOOD_TIMES = ["2026-11-20T10:00:00Z", "2026-11-20 11:00:00", "2026-11-20T12:00:00+02:00", "1795000000",
              "1795000000000", "2019-02-28T23:59:59.999999-05:00"]
BAD = {  # kind -> (field named in the reason, the row's values)
    "time_1e20": ("created_at", {"created_at": "1e20"}),
    "time_year_one": ("created_at", {"created_at": "0001-01-01T00:00:00+14:00"}),
    "time_words": ("created_at", {"created_at": "yesterday"}),
    "time_empty": ("created_at", {"created_at": ""}),
    "time_1970": ("created_at", {"created_at": "0"}),
    "likes_1e400": ("likes", {"likes": "1e400"}),
    "likes_1e30": ("likes", {"likes": "1e30"}),
    "likes_negative": ("likes", {"likes": "-3"}),
    "likes_words": ("likes", {"likes": "lots"}),
    "likes_fraction": ("likes", {"likes": "2.5"}),
    "reach_huge": ("author_reach", {"author_reach": "3000000000"}),
    "id_empty": ("id", {"id": ""}),
    "id_nul": ("id", {"id": "a\x00b"}),
    "id_long": ("id", {"id": "9" * 200}),
    "text_empty": ("text", {"text": "  \x00 "}),
    "platform_long": ("platform", {"platform": "p" * 5000}),
    "platform_odd": ("platform", {"platform": "my platform!"}),
}
JSON_ONLY_BAD = {
    "id_list": ("id", {"id": [1, 2]}),
    "id_dict": ("id", {"id": {"a": 1}}),
    "id_true": ("id", {"id": True}),
    "text_number": ("text", {"text": 42}),
    "likes_inf": ("likes", {"likes": float("inf")}),
}
RAW_BAD = ["invalid_utf8", "huge_field", "not_json", "not_object", "unclosed_quote"]


def _good(rng: random.Random, n: int) -> dict[str, Any]:
    row: dict[str, Any] = {"id": f"g{n}", "text": rng.choice(GOOD_TEXTS) + f" #{n}",
                           "created_at": rng.choice(GOOD_TIMES)}
    if rng.random() < 0.5:
        row["likes"] = str(rng.randint(0, 10_000))
    if rng.random() < 0.3:
        row.update(language=rng.choice(["en", "pt-BR", "und", "English", ""]), url=rng.choice(
            ["https://x.com/a/status/1", "javascript:alert(1)", ""]), platform=rng.choice(["x", "Reddit", ""]))
    if rng.random() < 0.1:
        row["title"] = "Acme headline"
    return row


def generate(rng: random.Random, fmt: str, ids: range) -> tuple[bytes, set[str], dict[int, str]]:
    """A file of ``count`` mixed rows: its bytes, the good ids, and line -> the field each bad row names."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, COLUMNS, lineterminator="\n") if fmt == "csv" else None
    chunks: list[bytes] = []
    if writer:
        writer.writeheader()
        chunks.append(buf.getvalue().encode())
    line = 2 if writer else 1
    good: set[str] = set()
    bad: dict[int, str] = {}
    kinds = [*BAD, *(JSON_ONLY_BAD if fmt == "jsonl" else {}), *RAW_BAD]
    for n in ids:
        if rng.random() < 0.7:
            row = _good(rng, n)
            good.add(row["id"])
            data = _encode(row, fmt, writer, buf)
        else:
            kind = rng.choice(kinds)
            if kind in RAW_BAD:
                data, field = _raw_bad(kind, fmt, n), "huge" if (kind, fmt) == ("huge_field", "jsonl") else "row"
            else:
                field, values = {**BAD, **JSON_ONLY_BAD}[kind]
                data = _encode({**_good(rng, n), "id": f"b{n}", **values}, fmt, writer, buf)
            bad[line] = field
        chunks.append(data)
        line += data.count(b"\n")
    return b"".join(chunks), good, bad


def _encode(row: dict[str, Any], fmt: str, writer: Any, buf: io.StringIO) -> bytes:
    if fmt == "jsonl":
        return json.dumps(row).encode() + b"\n"
    buf.seek(0)
    buf.truncate()
    writer.writerow(row)
    return buf.getvalue().encode()


def _raw_bad(kind: str, fmt: str, n: int) -> bytes:
    if kind == "invalid_utf8":
        return f"b{n},Acme bad bytes ".encode() + b"\xff\xfe\xc3(" + b",2026-11-20T10:00:00Z\n"
    if kind == "huge_field":
        body = "Acme " + "x" * 140_000
        return (json.dumps({"id": f"b{n}", "text": "Acme", "created_at": 1795000000, "huge": body}) + "\n").encode() \
            if fmt == "jsonl" else f'b{n},"{body}",2026-11-20T10:00:00Z\n'.encode()
    if kind == "unclosed_quote" and fmt == "csv":
        return f'b{n},"Acme quote never closed,2026-11-20T10:00:00Z,1\n'.encode()
    if kind == "not_object" or fmt == "csv":
        return b'["Acme", 1]\n' if fmt == "jsonl" else f"b{n},Acme,2026-11-20T10:00:00Z,1,2,3,4,5,6,7,8\n".encode()
    return b'{"id": "unterminated\n'


def test_10000_mixed_rows_every_good_one_stored_every_bad_one_dead_lettered(app: App, tmp_path: Path) -> None:
    rng = random.Random(20261129)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    expected_good: set[str] = set()
    expected_bad: dict[str, str] = {}
    for fmt, ids in (("csv", range(5000)), ("jsonl", range(5000, 10_000))):
        data, good, bad = generate(rng, fmt, ids)
        path = inbox / f"mixed.{fmt}"
        path.write_bytes(data)
        expected_good |= good
        expected_bad |= {f"{path} line {line}": field for line, field in bad.items()}
    report = collect_source(app, "file")
    assert report.status == "ok", report.message
    with Session(app.engine) as s:
        stored = set(s.execute(select(MentionRow.native_id)).scalars())
        dead = {d.position: d for d in s.execute(select(DeadLetter)).scalars()}
    assert stored == expected_good
    assert len(expected_good) + len(expected_bad) == 10_000
    assert set(dead) == set(expected_bad)
    wrong = {p: (d.field, d.reason) for p, d in dead.items() if d.field != expected_bad[p]}
    assert not wrong, list(wrong.items())[:5]
    assert all(d.reason.startswith(f"{d.field}: ") for d in dead.values())
    assert not [d.reason for d in dead.values() if "unexpected" in d.reason]
    assert (report.result.stored, report.result.rejected) == (len(expected_good), len(expected_bad))


# --------------------------------------------------------------------------- item parsers

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
                    st.sampled_from(["", "2026-11-20T10:00:00Z", "1795000000", "0001-01-01T00:00:00+14:00", "1e400",
                                     "t3_abc", "1859000000000000204", "<p>Acme &amp; co</p>", "\x00", "\ud800"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=8), inner, max_size=3), max_leaves=8)


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a valid value for the field, sometimes anything at all."""
    return st.one_of(valid, valid, valid, values)


def item(required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]]) -> Any:
    """A payload with the parser's own field names: each value mostly valid; some fields missing."""
    return st.fixed_dictionaries({k: maybe(v) for k, v in required.items()},
                                 optional={k: maybe(v) for k, v in optional.items()})


snowflake = st.integers(30_000_000_000_000_000, 1_900_000_000_000_000_000).map(str)
iso = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2026, 11, 1)).map(
    lambda d: d.isoformat(timespec="milliseconds") + "Z")
epoch = st.integers(946_684_800, 1_795_000_000)
words = st.text(min_size=1, max_size=60)
html = words.map(lambda t: f"<p>{t} &amp; Acme</p>")
count_ = st.integers(0, 1_000_000)
TWEET = item({"id": snowflake, "text": words},
             {"created_at": iso, "author_id": snowflake, "lang": st.sampled_from(["en", "und", "pt-BR", "qme"]),
              "public_metrics": st.fixed_dictionaries({"like_count": count_, "retweet_count": count_}),
              "conversation_id": snowflake, "note_tweet": st.fixed_dictionaries({"text": words}),
              "referenced_tweets": st.lists(st.fixed_dictionaries({"type": st.just("replied_to"), "id": snowflake}),
                                            max_size=2)})
USER = item({}, {"username": words, "public_metrics": st.fixed_dictionaries({"followers_count": count_})})
THING = item({"id": st.from_regex(r"[a-z0-9]{6,8}", fullmatch=True), "created_utc": epoch.map(float)},
             {"name": st.from_regex(r"t[13]_[a-z0-9]{6}", fullmatch=True), "body": words, "title": words,
              "selftext": words, "permalink": st.just("/r/technology/comments/abc/x/"),
              "link_id": st.from_regex(r"t3_[a-z0-9]{6}", fullmatch=True), "subreddit": words, "author": words,
              "score": st.integers(-10_000, 100_000), "num_comments": count_, "parent_id": words})
HIT = item({"objectID": st.integers(1, 10**9).map(str)},
           {"created_at_i": epoch, "created_at": iso, "_tags": st.lists(st.sampled_from(["story", "comment"])),
            "comment_text": html, "story_text": html, "title": words, "author": words, "points": count_,
            "num_comments": count_, "story_id": st.integers(1, 10**9), "parent_id": st.integers(1, 10**9)})
STATUS = item({"id": snowflake, "created_at": iso, "content": html},
              {"uri": st.just("https://mastodon.social/users/a/statuses/1"), "url": words,
               "account": st.fixed_dictionaries({"acct": words, "followers_count": count_}),
               "spoiler_text": words, "language": st.sampled_from(["en", "de", None]), "favourites_count": count_,
               "replies_count": count_, "reblogs_count": count_, "in_reply_to_id": snowflake})
ENTRY = item({"id": words}, {"link": st.just("https://news.example.com/a"), "title": html, "summary": html,
                             "published_parsed": iso, "updated_parsed": iso, "author": words,
                             "content": st.lists(st.fixed_dictionaries({"value": html}), max_size=1)})
ROW = item({"id": st.one_of(snowflake, st.integers(1, 10**12)), "text": words, "created_at": st.one_of(iso, epoch)},
           {"platform": st.sampled_from(["x", "Reddit", "forum"]), "title": words, "author": words,
            "author_reach": count_, "url": st.just("https://x.com/a/status/1"), "language": st.just("en"),
            "likes": count_, "replies": count_, "reposts": count_, "quotes": count_, "conversation_id": snowflake,
            "in_reply_to": snowflake})
PAYLOADS: dict[str, st.SearchStrategy[Any]] = {
    "x": st.fixed_dictionaries({"tweet": maybe(TWEET), "author": maybe(USER)}),
    "reddit": st.fixed_dictionaries({"kind": st.sampled_from(["t1", "t3"]), "data": maybe(THING)}),
    "hackernews": maybe(HIT),
    "mastodon": st.fixed_dictionaries({"status": maybe(STATUS), "instance": st.just("https://mastodon.social")}),
    "rss": st.fixed_dictionaries({"entry": maybe(ENTRY), "feed_language": st.sampled_from(["en-US", None, 3])}),
    "file": maybe(ROW),
}


def check(result: Mention | Rejected) -> None:
    """A parse result the store can take as it is: a mention passing every storage rule, or a named rejection."""
    if isinstance(result, Rejected):
        assert result.reason and isinstance(result.payload, bytes)
        assert not result.reason.startswith("unexpected"), result.reason  # a parser crash caught as a reject
        return
    assert isinstance(result, Mention)
    assert check_mention(result) is None
    for value in (result.text, result.title or "", result.author):
        value.encode("utf-8")  # valid Unicode: no lone surrogates
        assert "\x00" not in value
    json.dumps(json_safe(dict(result.raw)), allow_nan=False)


def parse(source: str, payload: Any) -> Mention | Rejected:
    """``payload`` through ``source``'s item parser, as its collector runs it."""
    from collectors.edge import accept
    from collectors.file import FileRow
    from monitor.config import BrandConfig
    from monitor.config.sources import SourcesConfig

    if source == "file":
        return accept(lambda: FileRow.model_validate(payload).mention("file", payload), "row 1", b"row")
    collector = build(source, getattr(SourcesConfig(), source), [BrandConfig(name="Acme", keywords=["Acme"])], {})
    return collector.accept(payload, "item")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=st.sampled_from(sorted(PAYLOADS)), data=st.data())
def test_every_item_parser_returns_a_storable_mention_or_a_named_rejection(source: str, data: st.DataObject) -> None:
    check(parse(source, data.draw(PAYLOADS[source])))


def test_the_generated_payloads_reach_both_outcomes_for_every_parser() -> None:
    """The property above means something only if the payloads both pass and fail each parser."""
    from hypothesis import find

    for source, strategy in PAYLOADS.items():
        find(strategy, lambda p, s=source: isinstance(parse(s, p), Mention), settings=settings(max_examples=2000))
        find(strategy, lambda p, s=source: isinstance(parse(s, p), Rejected), settings=settings(max_examples=2000))
