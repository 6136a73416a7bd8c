"""The monitor CLI with Click's runner: exit codes and messages, on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlmodel import Session

from monitor.cli import cli
from monitor.store import Brand, Mention

ROWS = [
    {"platform": "x", "id": "1", "text": "Acme support is useless, refund please @acme",
     "created_at": "2026-11-22T10:00:00Z", "author": "bob", "author_reach": 50000},
    {"platform": "x", "id": "2", "text": "deltaic landforms", "created_at": "2026-11-22T10:01:00Z"},
    {"platform": "x", "id": "3", "text": "Acme rocks", "created_at": "yesterday"},
    {"platform": "reddit", "id": "t3_x", "text": "Globex vs Acme?", "created_at": "2026-11-22T11:00:00+01:00"},
]


def invoke(config: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def drop(tmp_path: Path, rows: list[dict[str, Any]], name: str = "batch.jsonl") -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    path = inbox / name
    with path.open("a", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
    return path


def mentions(config: Path) -> int:
    from monitor.context import App

    app = App.from_file(config, env={})
    with Session(app.engine) as s:
        n = s.execute(select(func.count()).select_from(Mention)).scalar_one()
    app.engine.dispose()
    return n


def test_init_creates_database_and_brands(config_path: Path, tmp_path: Path) -> None:
    result = invoke(config_path, "init")
    assert result.exit_code == 0
    assert "initialised" in result.output and "2 brand(s)" in result.output
    assert (tmp_path / "monitor.db").exists() and (tmp_path / "inbox").is_dir() and (tmp_path / "outbox").is_dir()
    from monitor.context import App

    app = App.from_file(config_path, env={})
    with Session(app.engine) as s:
        assert sorted(b.name for b in s.execute(select(Brand)).scalars()) == ["Acme", "Globex"]


def test_collect_file_then_status(config_path: Path, tmp_path: Path) -> None:
    invoke(config_path, "init")
    drop(tmp_path, ROWS)
    first = invoke(config_path, "collect", "file")
    assert first.exit_code == 0
    assert "file: ok, 2 new, 0 duplicate, 1 unmatched" in first.output
    assert invoke(config_path, "collect").output.startswith("file: ok, 0 new")
    drop(tmp_path, [{**ROWS[0], "id": "9"}])  # the file grows: only the new row is read
    assert "file: ok, 1 new" in invoke(config_path, "collect", "file").output
    status = invoke(config_path, "status")
    assert status.exit_code == 0
    assert "unscored backlog: 3" in status.output
    data = json.loads(invoke(config_path, "status", "--json").output)
    file_state = next(s for s in data["sources"] if s["name"] == "file")
    assert file_state["mentions_collected"] == 3 and file_state["last_error"] is None


def test_dry_run_prints_and_stores_nothing(config_path: Path, tmp_path: Path) -> None:
    invoke(config_path, "init")
    drop(tmp_path, ROWS)
    result = invoke(config_path, "collect", "file", "--dry-run")
    assert result.exit_code == 0
    assert "2 mention(s) would be stored" in result.output
    assert "Globex vs Acme?" in result.output
    assert mentions(config_path) == 0


def test_unknown_source_is_a_usage_error(config_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(config_path), "collect", "myspace"])
    assert result.exit_code == 2
    assert "unknown source 'myspace'" in result.output


@pytest.mark.parametrize("command", ["status", "init"])
def test_missing_config_is_exit_2_and_says_what_to_write(tmp_path: Path, command: str) -> None:
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "none.yaml"), command])
    assert result.exit_code == 2
    assert "none.yaml: file not found; write one (README, 'config.yaml': at least one brand" in result.output
    assert "run `monitor init`" not in result.output and "Traceback" not in result.output


def test_a_named_source_that_is_skipped_for_a_missing_credential_exits_1(tmp_path: Path) -> None:
    from tests.conftest import write_config

    config = write_config(tmp_path, sources={"file": {"enabled": False}, "x": {"enabled": True}})
    invoke(config, "init")
    result = CliRunner().invoke(cli, ["--config", str(config), "collect", "x"], env={"X_BEARER_TOKEN": ""})
    assert result.exit_code == 1
    assert result.output.count("X_BEARER_TOKEN") == 1  # one line: the result, not also a log line
    assert result.output.startswith("x: skipped, 0 new")
    every = CliRunner().invoke(cli, ["--config", str(config), "collect"], env={"X_BEARER_TOKEN": ""})
    assert every.exit_code == 0 and "x: skipped" in every.output  # not named: a warning, not a failure


@pytest.mark.parametrize("command", [["status"], ["status", "--json"], ["score"], ["detect"], ["send-alerts"],
                                     ["rejected"]])
def test_commands_before_init_say_so_and_create_no_database(config_path: Path, tmp_path: Path,
                                                            command: list[str]) -> None:
    result = CliRunner().invoke(cli, ["--config", str(config_path), *command])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"Error: no database at {tmp_path / 'monitor.db'} yet: run `monitor init` first"
    assert not (tmp_path / "monitor.db").exists()


def test_a_database_file_without_tables_is_not_initialised(config_path: Path, tmp_path: Path) -> None:
    (tmp_path / "monitor.db").write_bytes(b"")
    result = CliRunner().invoke(cli, ["--config", str(config_path), "status"])
    assert result.exit_code == 2 and "has no tables yet: run `monitor init` first" in result.output


def test_send_alerts_exits_1_when_a_delivery_failed(tmp_path: Path) -> None:
    import socket
    from datetime import timedelta

    from monitor.context import App
    from monitor.store import Alert, session_scope, utcnow
    from tests.conftest import write_config

    with socket.socket() as s:  # a port nothing listens on: the SMTP server is down
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    config = write_config(tmp_path, alerts={"recipients": ["care@acme.test"], "outbox_dir": str(tmp_path / "out"),
                                            "smtp": {"host": "127.0.0.1", "port": closed, "security": "none",
                                                     "username_env": None, "password_env": None, "timeout": 2}})
    assert invoke(config, "init").exit_code == 0
    assert invoke(config, "send-alerts").exit_code == 0  # nothing to deliver
    app = App.from_file(config, env={})
    now = utcnow()
    with session_scope(app.engine) as s:
        brand = s.execute(select(Brand)).scalars().first()
        s.add(Alert(brand_id=brand.id, kind="negative_volume", window_start=now - timedelta(hours=1),
                    window_end=now, observed=30, expected=3, next_attempt_at=now - timedelta(minutes=1)))
    app.engine.dispose()
    result = invoke(config, "send-alerts")
    assert result.exit_code == 1
    assert "0 sent, 1 failed" in result.output


def test_a_successful_run_clears_the_last_error(config_path: Path, tmp_path: Path) -> None:
    invoke(config_path, "init")
    (tmp_path / "inbox").mkdir(exist_ok=True)
    bad = tmp_path / "inbox" / "bad.csv"
    bad.write_text("id,body\n1,Acme\n", encoding="utf-8")
    assert invoke(config_path, "collect", "file").exit_code == 1
    state = json.loads(invoke(config_path, "status", "--json").output)["sources"][0]
    assert "header: lacks column(s) created_at, text" in state["last_error"]
    bad.unlink()
    assert invoke(config_path, "collect", "file").exit_code == 0
    state = json.loads(invoke(config_path, "status", "--json").output)["sources"][0]
    assert state["last_error"] is None and state["last_success_at"] is not None


def test_each_job_prints_one_result_line_and_no_library_logs(config_path: Path, tmp_path: Path) -> None:
    init = invoke(config_path, "init")
    assert init.output.splitlines() == [f"initialised sqlite:///{tmp_path / 'monitor.db'} with 2 brand(s)"]
    drop(tmp_path, ROWS)
    result = invoke(config_path, "collect")
    assert result.output.splitlines() == [
        "file: ok, 2 new, 0 duplicate, 1 unmatched, 1 rejected (see `monitor rejected`)"]
    upgrade = invoke(config_path, "db", "upgrade")
    assert upgrade.output.splitlines() == ["database at revision head"]  # no alembic INFO lines


def test_csv_file_with_missing_header_column_is_a_clear_error_and_the_other_files_are_read(
        config_path: Path, tmp_path: Path) -> None:
    invoke(config_path, "init")
    (tmp_path / "inbox").mkdir(exist_ok=True)
    (tmp_path / "inbox" / "bad.csv").write_text("id,body\n1,Acme\n", encoding="utf-8")
    drop(tmp_path, ROWS[:1])
    result = invoke(config_path, "collect", "file")
    assert result.exit_code == 1
    assert "bad.csv: header: lacks column(s) created_at, text" in result.output
    assert mentions(config_path) == 1


def test_backtest_replays_a_labelled_file_and_prints_the_alert(tmp_path: Path) -> None:
    from monitor.lab import demodata
    from tests.conftest import write_config

    plan = demodata.generate(days=10)
    history = demodata.write_jsonl(plan.rows, tmp_path / "history.jsonl")
    config = write_config(tmp_path, brands=demodata.brand_config(), model={"name": str(tmp_path / "no-model")})
    result = CliRunner().invoke(cli, ["--config", str(config), "backtest", str(history)])
    assert result.exit_code == 0, result.output
    assert "1 alert(s) that would have been sent" in result.output
    assert "Nimbus" in result.output and "Alerts per brand-week" in result.output


def test_backtest_with_unlabelled_rows_and_no_model_is_a_clear_error(tmp_path: Path) -> None:
    from monitor.lab import demodata
    from tests.conftest import write_config

    rows = [{k: v for k, v in r.items() if k != "label"} for r in demodata.generate(days=3).rows[:50]]
    history = demodata.write_jsonl(rows, tmp_path / "unlabelled.jsonl")
    config = write_config(tmp_path, brands=demodata.brand_config(), model={"name": str(tmp_path / "no-model")})
    result = CliRunner().invoke(cli, ["--config", str(config), "backtest", str(history)])
    assert result.exit_code == 1
    assert "no-model" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
