"""The file source: documented columns; a poison row is rejected with its line and field, never blocking the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectors.base import Page
from collectors.file import FileCollector, FileSource, RowError, read_mentions, row_to_mention

CSV = """id,text,created_at,author,author_reach,likes,platform,url,language,conversation_id
1,"Acme, again, down",2026-11-20T10:00:00Z,ann,120,3,x,https://x.com/ann/status/1,en,c1
2,Acme fine,2026-11-20 11:00:00,bob,lots,0,x,,,
3,Acme ok,2026-11-20T12:00:00+02:00,cy,5,1,reddit,,,
"""


def run(path: Path, cursor: dict | None = None) -> list[Page]:
    return list(FileCollector(FileSource(path=path), [], {}).fetch(cursor or {}))


def stored(pages: list[Page]) -> list[str]:
    return [m.native_id for p in pages for m in p.mentions]


def rejected(pages: list[Page]) -> dict[str, str]:
    """line number -> reason, for every rejected row."""
    return {r.position.rsplit(" line ", 1)[1]: r.reason for p in pages for r in p.rejected}


def test_csv_rows_become_mentions_and_a_bad_row_is_rejected_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(CSV, encoding="utf-8")
    pages = run(path)
    got = [m for p in pages for m in p.mentions]
    assert [m.native_id for m in got] == ["1", "3"]
    first = got[0]
    assert (first.text, first.author, first.author_reach, first.engagement.likes) == ("Acme, again, down", "ann", 120, 3)
    assert first.conversation_id == "c1" and first.language == "en"
    assert got[1].created_at.isoformat() == "2026-11-20T10:00:00+00:00"
    assert rejected(pages) == {"3": "author_reach: 'lots' is not a number (write a whole number from 0, or leave it empty)"}
    bad = pages[0].rejected[0]
    assert bad.field == "author_reach"
    assert bad.payload == CSV.splitlines(keepends=True)[0].encode() + CSV.splitlines(keepends=True)[2].encode()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"text": "x", "created_at": "2026-01-01"}, "id: missing"),
        ({"id": "1", "created_at": "2026-01-01"}, "text: missing"),
        ({"id": "1", "text": "   ", "created_at": "2026-01-01"}, "text: empty"),
        ({"id": "1", "text": "x"}, "created_at: missing"),
        ({"id": "1", "text": "x", "created_at": "31/12/2026"}, "created_at: '31/12/2026' is not a time"),
        ({"id": "1", "text": "x", "created_at": "2026-01-01", "likes": "many"}, "likes: 'many' is not a number"),
        ({"id": ["1"], "text": "x", "created_at": "2026-01-01"}, r"id: \['1'\] is not an id"),
        ({"id": {"a": 1}, "text": "x", "created_at": "2026-01-01"}, "id: {'a': 1} is not an id"),
        ({"id": True, "text": "x", "created_at": "2026-01-01"}, "id: True is not an id"),
        ({"id": "a\x00b", "text": "x", "created_at": "2026-01-01"}, "id: contains a control character"),
        ({"id": "1", "text": "x", "created_at": "2026-01-01", "replies": -2}, "replies: -2 is negative"),
        ({"id": "1", "text": "x", "created_at": "2026-01-01", "likes": 2.5}, "likes: 2.5 is not a whole number"),
        ({"id": "1", "text": "x", "created_at": "2026-01-01", "platform": "p" * 5000},
         "platform: 5,000 characters is not a platform name"),
        ({"id": "1", "text": "x", "created_at": 1e20}, "created_at: 1e\\+20 is out of range"),
        ({"id": "1", "text": "x", "created_at": "1970-01-01T00:00:00Z"}, "created_at: 1970-01-01 00:00 UTC is outside"),
    ],
)
def test_questionable_values_are_rejected_naming_the_field(row: dict, message: str) -> None:
    with pytest.raises(RowError, match=message):
        row_to_mention(row)


def test_values_with_a_written_rule_are_fixed() -> None:
    m = row_to_mention({"id": 1859, "text": "AT&amp;T\x00 ＡＣＭＥ ﬁne", "created_at": 1_795_000_000_000, "likes": "42.0",
                        "language": "und", "url": "javascript:alert(1)", "platform": " X "})
    assert (m.native_id, m.platform) == ("1859", "x")
    assert m.text == "AT&T ACME fine"  # entities decoded, NUL removed, NFKC
    assert m.created_at.year == 2026  # epoch milliseconds read as such
    assert (m.engagement.likes, m.language, m.url) == (42, None, "")


def test_poison_rows_never_block_good_ones_and_each_is_rejected_with_its_line(tmp_path: Path) -> None:
    good = [f"{i},Acme row {i},2026-11-20T10:00:00Z,1\n".encode() for i in range(1, 1001)]
    poison = [
        b'p1,"Acme \xff\xfe not utf-8",2026-11-20T10:00:00Z,1\n',
        b"p2,Acme far future,1e20,1\n",
        b"p3,Acme year one,0001-01-01T00:00:00+14:00,1\n",
        b"p4,Acme infinite likes,2026-11-20T10:00:00Z,1e400\n",
        b"p5,Acme huge likes,2026-11-20T10:00:00Z,1e30\n",
        b'p6,"Acme ' + b"x" * 140_000 + b'",2026-11-20T10:00:00Z,1\n',
        b'p7,"Acme quote never closed,2026-11-20T10:00:00Z,1\n',
    ]
    body = b"".join(good[:500]) + b"".join(poison) + b"".join(good[500:])
    path = tmp_path / "inbox.csv"
    path.write_bytes(b"id,text,created_at,likes\n" + body)
    pages = run(path)
    assert stored(pages) == [str(i) for i in range(1, 1001)]
    reasons = rejected(pages)
    assert set(reasons) == {str(n) for n in range(502, 509)}
    assert reasons["502"].startswith("row: not valid UTF-8 (byte 0xff")
    assert reasons["503"].startswith("created_at: '1e20' is out of range")
    assert reasons["504"].startswith("created_at: '0001-01-01T00:00:00+14:00' is out of range")
    assert reasons["505"].startswith("likes: '1e400' is not a whole number")
    assert reasons["506"].startswith("likes: '1e30' is larger than 500,000,000")
    assert reasons["507"] == "row: a field is longer than 131,072 characters; shorten it"
    assert reasons["508"].startswith("row: a quote opened on this line is never closed")
    payloads = {r.position.rsplit(" ", 1)[1]: r.payload for p in pages for r in p.rejected}
    assert payloads["502"] == b"id,text,created_at,likes\n" + poison[0]  # the bytes as received, header first
    assert pages[-1].cursor["files"][str(path.resolve())]["offset"] == path.stat().st_size


def test_jsonl_poison_rows_and_the_cursor_reads_on_from_where_it_stopped(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"id": "1", "text": "Acme", "created_at": 1795000000}\n{not json\n[1, 2]\n'
                     b'{"id": "2", "text": "Acme \xc3\x28", "created_at": 1795000000}\n'
                     b'{"id": "3", "text": "Acme", "created_at": 1795000000, "likes": 1e400}\n'
                     + b'{"id": 1' + b"0" * 5000 + b', "text": "Acme", "created_at": 1795000000}\n')
    pages = run(tmp_path)
    assert stored(pages) == ["1"]
    reasons = rejected(pages)
    assert reasons["2"] == "row: not valid JSON (Expecting property name enclosed in double quotes at column 2)"
    assert reasons["3"] == "row: not a JSON object"
    assert reasons["4"].startswith("row: not valid UTF-8")
    assert reasons["5"].startswith("likes: inf is not a whole number")
    assert reasons["6"].startswith("row: not valid JSON (ValueError: Exceeds the limit")
    cursor = pages[-1].cursor
    assert run(tmp_path, cursor) == []
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"id": "7", "text": "Acme", "created_at": 1795000060}\n')
    again = run(tmp_path, cursor)
    assert stored(again) == ["7"] and rejected(again) == {}


def test_a_cursor_from_before_byte_offsets_skips_the_rows_it_had_taken(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"id": str(i), "text": "Acme", "created_at": 1795000000}) + "\n"
                            for i in range(5)), encoding="utf-8")
    pages = run(tmp_path, {"files": {str(path.resolve()): 3}})
    assert stored(pages) == ["3", "4"]


def test_a_csv_file_without_the_required_columns_is_held_and_the_others_are_read(tmp_path: Path) -> None:
    (tmp_path / "a_bad.csv").write_text("id,body\n1,Acme\n", encoding="utf-8")
    (tmp_path / "b_good.jsonl").write_text('{"id": "1", "text": "Acme", "created_at": 1795000000}\n', encoding="utf-8")
    collector = FileCollector(FileSource(path=tmp_path), [], {})
    pages: list[Page] = []
    with pytest.raises(Exception, match=r"a_bad.csv: header: lacks column\(s\) created_at, text") as err:
        for page in collector.fetch({}):
            pages.append(page)
    assert type(err.value).__name__ == "RetriableError"
    assert stored(pages) == ["1"]
    assert all("a_bad.csv" not in key for key in pages[-1].cursor["files"])


def test_read_mentions_keeps_the_good_rows_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(CSV, encoding="utf-8")
    assert [m.native_id for m in read_mentions(path)] == ["1", "3"]
