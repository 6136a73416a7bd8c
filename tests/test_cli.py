"""The monitor CLI with Click's runner: exit codes and messages, on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def test_missing_config_is_exit_2_with_the_fix(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "none.yaml"), "status"])
    assert result.exit_code == 2
    assert "file not found (run `monitor init` or pass --config PATH)" in result.output


def test_disabled_collector_without_credentials_is_skipped_with_a_warning(tmp_path: Path) -> None:
    from tests.conftest import write_config

    config = write_config(tmp_path, sources={"file": {"enabled": False}, "x": {"enabled": True}})
    invoke(config, "init")
    result = CliRunner().invoke(cli, ["--config", str(config), "collect", "x"], env={"X_BEARER_TOKEN": ""})
    assert result.exit_code == 0
    assert "x: skipped" in result.output and "X_BEARER_TOKEN" in result.output


def test_csv_file_with_missing_header_column_pauses_source_with_clear_error(config_path: Path, tmp_path: Path) -> None:
    invoke(config_path, "init")
    (tmp_path / "inbox").mkdir(exist_ok=True)
    (tmp_path / "inbox" / "bad.csv").write_text("id,body\n1,Acme\n", encoding="utf-8")
    result = invoke(config_path, "collect", "file")
    assert result.exit_code == 1
    assert "header lacks column(s) created_at, text" in result.output


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
