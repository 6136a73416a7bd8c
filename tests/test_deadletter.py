"""The dead-letter table: every rejected item kept with its position, bytes and reason; listed and retried.

On a real SQLite file and on PostgreSQL; the CLI through Click's runner.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import responses
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlmodel import Session

from collectors.edge import Rejected
from monitor.cli import cli
from monitor.config import parse_config
from monitor.context import App
from monitor.ingest import ingest_mentions, load_cursor
from monitor.ingest.collect import collect_source
from monitor.ingest.retry import retry
from monitor.status import gather, rejected_counts
from monitor.store import DeadLetter, Mention
from monitor.store.migrate import upgrade
from tests.conftest import config_dict, write_config
from tests.conftest_collectors import payload

GOOD = {"id": "g1", "text": "Acme works fine", "created_at": "2026-11-20T10:00:00Z"}
BAD_LIKES = {"id": "b1", "text": "Acme is down", "created_at": "2026-11-20T10:00:00Z", "likes": -4}


def inbox(tmp_path: Path, lines: list[bytes], name: str = "a.jsonl") -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def dead_letters(app: App) -> list[DeadLetter]:
    with Session(app.engine) as s:
        return list(s.execute(select(DeadLetter).order_by(DeadLetter.id)).scalars())


def count(app: App) -> int:
    with Session(app.engine) as s:
        return s.execute(select(func.count()).select_from(Mention)).scalar_one()


def test_a_rejected_row_is_kept_with_position_bytes_and_reason_and_counted(app: App, tmp_path: Path) -> None:
    path = inbox(tmp_path, [json.dumps(GOOD).encode(), json.dumps(BAD_LIKES).encode(), b"\xff\xfe{not utf-8"])
    report = collect_source(app, "file")
    assert (report.status, report.result.stored, report.result.rejected) == ("ok", 1, 2)
    assert str(report) == "file: ok, 1 new, 0 duplicate, 0 unmatched, 2 rejected (see `monitor rejected`)"
    likes, binary = dead_letters(app)
    assert (likes.source, likes.position, likes.field) == ("file", f"{path} line 2", "likes")
    assert likes.reason == "likes: -4 is negative (write a whole number from 0, or leave it empty)"
    assert json.loads(likes.payload) == BAD_LIKES
    assert binary.payload == b"\xff\xfe{not utf-8" and binary.reason.startswith("row: not valid UTF-8 (byte 0xff")
    assert rejected_counts(app.engine) == {"file": 2}
    status = gather(app)
    assert status["totals"]["rejected"] == 2
    assert next(s for s in status["sources"] if s["name"] == "file")["rejected"] == 2


def test_the_cursor_moves_past_a_rejected_item_only_together_with_its_dead_letter(
        app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox(tmp_path, [json.dumps(GOOD).encode(), json.dumps(BAD_LIKES).encode()])
    import monitor.ingest.pipeline as pipeline

    def disk_full(*_args: Any, **_kw: Any) -> int:
        raise OSError("disk full while writing the dead letter")

    monkeypatch.setattr(pipeline, "store_rejected", disk_full)
    failed = collect_source(app, "file")
    assert failed.status == "error" and "disk full" in failed.message
    assert load_cursor(app.engine, "file") == {} and count(app) == 0  # nothing of the page, cursor unmoved
    monkeypatch.undo()
    again = collect_source(app, "file")
    assert (again.result.stored, again.result.rejected) == (1, 1)
    assert load_cursor(app.engine, "file") != {}


def test_the_same_item_seen_again_is_counted_not_stored_twice(app: App) -> None:
    item = Rejected("tweet 42", b'{"tweet": {"id": "42"}}', "tweet.text: missing", "tweet.text")
    for _ in range(3):
        ingest_mentions(app.engine, "x", [], app.config.brands, rejected=[item])
    [row] = dead_letters(app)
    assert (row.times_seen, row.reason) == (3, "tweet.text: missing")


def test_monitor_rejected_lists_shows_retries_a_corrected_payload_and_drops(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(cli, ["--config", str(config), *args], catch_exceptions=False)

    assert run("init").exit_code == 0
    inbox(tmp_path, [json.dumps(GOOD).encode(), json.dumps(BAD_LIKES).encode(), b'{"id": "x"}'])
    assert run("collect").exit_code == 0
    listed = run("rejected")
    assert listed.exit_code == 0
    assert "likes: -4 is negative" in listed.output and "text: missing" in listed.output
    assert "rejected items: 2  (see `monitor rejected`)" in run("status").output
    first = dead_letters(App.from_file(config, env={}))[0]
    shown = run("rejected", "show", str(first.id))
    assert shown.stdout_bytes == first.payload  # byte for byte
    still = run("rejected", "retry", str(first.id))  # nothing fixed yet
    assert still.exit_code == 1 and "rejected (likes: -4 is negative" in still.output
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps({**BAD_LIKES, "likes": 4}), encoding="utf-8")
    done = run("rejected", "retry", str(first.id), "--payload", str(fixed))
    assert done.exit_code == 0, done.output
    assert f"#{first.id} file {first.position}: stored" in done.output
    app = App.from_file(config, env={})
    with Session(app.engine) as s:
        stored = s.execute(select(Mention).where(Mention.native_id == "b1")).scalar_one()
    assert stored.likes == 4
    second = dead_letters(app)[1]
    assert run("rejected", "drop", str(second.id)).output.strip() == "dropped 1 item(s)"
    assert run("rejected").output.strip() == "no rejected items waiting"
    everything = run("rejected", "--all").output
    assert "[stored " in everything and "[dropped " in everything
    assert json.loads(run("status", "--json").output)["totals"]["rejected"] == 0
    app.engine.dispose()


def test_retry_after_fixing_the_config_stores_every_row_it_had_rejected(tmp_path: Path) -> None:
    data = config_dict(tmp_path)
    data["sources"]["file"]["platform"] = "Our Forum!"  # not a platform name: every row without one is rejected
    app = App(config=parse_config(data), env={})
    upgrade(app.config.database.url)
    inbox(tmp_path, [json.dumps({**GOOD, "id": f"r{i}"}).encode() for i in range(3)])
    assert collect_source(app, "file").result.rejected == 3
    data["sources"]["file"]["platform"] = "forum"
    fixed = App(config=parse_config(data), env={})
    outcomes = retry(fixed)
    assert [o.outcome for o in outcomes] == ["stored"] * 3
    assert count(fixed) == 3 and rejected_counts(fixed.engine) == {}
    assert retry(fixed) == []  # nothing open any more
    app.engine.dispose()


@responses.activate
def test_a_rejected_tweet_is_kept_as_json_and_goes_through_once_corrected(app: App) -> None:
    from collectors.x import XCollector, XSource
    from tests.conftest_collectors import drain, fast

    responses.get("https://api.twitter.com/2/tweets/search/recent", json=payload("x", "search_malformed"))
    run = drain(fast(XCollector(XSource(enabled=True), app.config.brands, {"X_BEARER_TOKEN": "t"})))
    ingest_mentions(app.engine, "x", run.mentions, app.config.brands, rejected=run.rejected)
    bad_time = next(d for d in dead_letters(app) if d.position == "tweet 1859000000000000203")
    item = json.loads(bad_time.payload)
    item["tweet"]["created_at"] = "2026-11-22T12:03:00.000Z"
    [outcome] = retry(app, [bad_time.id], payload=json.dumps(item).encode())
    assert outcome.outcome == "stored"
    with Session(app.engine) as s:
        assert s.execute(select(Mention).where(Mention.native_id == "1859000000000000203")).scalar_one()


def test_on_postgres_payload_bytes_and_odd_raw_values_are_stored_safely(pg_app: App, tmp_path: Path) -> None:
    inbox(tmp_path, [b'{"id": "1", "text": "Acme \\u0000 ok \\ud800", "created_at": 1795000000, "extra": 1e400,'
                     b' "nul\\u0000key": "v\\u0000"}', b"\xff\x00\xfe binary row"])
    report = collect_source(pg_app, "file")
    assert (report.status, report.result.stored, report.result.rejected) == ("ok", 1, 1), report.message
    [binary] = dead_letters(pg_app)
    assert binary.payload == b"\xff\x00\xfe binary row"
    with Session(pg_app.engine) as s:
        row = s.execute(select(Mention)).scalar_one()
    assert row.text == "Acme  ok \ufffd"
    assert row.raw["extra"] == "inf" and row.raw["nulkey"] == "v"
    again = Rejected("item 1", b"\xff\x00", "id: missing", "id")
    ingest_mentions(pg_app.engine, "x", [], pg_app.config.brands, rejected=[again, again])
    ingest_mentions(pg_app.engine, "x", [], pg_app.config.brands, rejected=[again])
    assert [d.times_seen for d in dead_letters(pg_app) if d.source == "x"] == [2]
