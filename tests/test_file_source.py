"""The file source: documented columns, one bad row skipped with a message naming the field."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from collectors.file import FileCollector, FileSource, RowError, read_mentions, row_to_mention

CSV = """id,text,created_at,author,author_reach,likes,platform,url,language,conversation_id
1,"Acme, again, down",2026-11-20T10:00:00Z,ann,120,3,x,https://x.com/ann/status/1,en,c1
2,Acme fine,2026-11-20 11:00:00,bob,lots,0,x,,,
3,Acme ok,2026-11-20T12:00:00+02:00,cy,5,1,reddit,,,
"""


def test_csv_rows_become_mentions_and_bad_rows_are_named(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "m.csv"
    path.write_text(CSV, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        got = list(read_mentions(path))
    assert [m.native_id for m in got] == ["1", "3"]
    first = got[0]
    assert (first.text, first.author, first.author_reach, first.engagement.likes) == ("Acme, again, down", "ann", 120, 3)
    assert first.conversation_id == "c1" and first.language == "en"
    assert got[1].created_at.isoformat() == "2026-11-20T10:00:00+00:00"
    assert "line 3 skipped: author_reach 'lots' is not a whole number" in caplog.text


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"text": "x", "created_at": "2026-01-01"}, "id is missing"),
        ({"id": "1", "created_at": "2026-01-01"}, "text is missing or empty"),
        ({"id": "1", "text": "x"}, "created_at is empty"),
        ({"id": "1", "text": "x", "created_at": "31/12/2026"}, "created_at '31/12/2026' is not an ISO-8601 time"),
        ({"id": "1", "text": "x", "created_at": "2026-01-01", "likes": "many"}, "likes 'many' is not a whole number"),
    ],
)
def test_row_errors_name_the_field(row: dict[str, str], message: str) -> None:
    with pytest.raises(RowError, match=message):
        row_to_mention(row)


def test_jsonl_cursor_reads_on_from_where_it_stopped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "1", "text": "Acme", "created_at": 0}\n{not json\n', encoding="utf-8")
    collector = FileCollector(FileSource(path=tmp_path), [], {})
    pages = list(collector.fetch({}))
    assert [m.native_id for p in pages for m in p.mentions] == ["1"]
    assert "line 2 skipped: not valid JSON" in caplog.text
    cursor = pages[-1].cursor
    assert list(collector.fetch(cursor)) == []
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"id": "2", "text": "Acme", "created_at": 60}\n')
    assert [m.native_id for p in collector.fetch(cursor) for m in p.mentions] == ["2"]
