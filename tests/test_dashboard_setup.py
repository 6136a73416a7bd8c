"""The dashboard before there is anything to show, and the SQL behind its numbers."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

from dashboard import queries
from dashboard.sql import MB, MentionFilter, bucket_expr
from dashboard.ui import WINDOWS, Window, config_path
from monitor.store import make_engine, utcnow
from tests.fixtures_dashboard import HOSTILE_TEXT, open_app, seed, write_config

PAGES = ["trends", "share_of_voice", "mentions", "escalations", "alerts", "health"]


def test_bad_config_is_explained_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("brands:\n  - name: Acme\n    keywords: [acme]\ndashboard:\n  refresh: soon\n")
    at = open_app(path, monkeypatch)
    assert "configuration" in at.error[0].value
    assert "dashboard.refresh" in at.code[0].value
    assert not at.metric


def test_missing_config_file_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(tmp_path / "nope.yaml", monkeypatch)
    assert "file not found" in at.code[0].value


def test_missing_database_is_explained_and_not_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "data" / "monitor.db"
    at = open_app(write_config(tmp_path, f"sqlite:///{db}"), monkeypatch)
    assert at.error[0].value == "The dashboard has no data to show yet."
    assert "does not exist yet" in at.info[0].value and "monitor init" in at.info[0].value
    assert not db.exists()


def test_database_without_tables_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "monitor.db").touch()
    at = open_app(write_config(tmp_path, f"sqlite:///{tmp_path / 'monitor.db'}"), monkeypatch)
    assert "no monitor tables" in at.info[0].value
    assert "monitor init" in at.info[0].value


def test_every_page_opens_on_an_empty_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    SQLModel.metadata.create_all(make_engine(url))
    at = open_app(write_config(tmp_path, url), monkeypatch)
    assert "No brands" in at.info[0].value
    for page in PAGES:
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, page


def test_config_path_from_argument_then_environment_then_default() -> None:
    assert config_path(["--config", "a.yaml"], {"MONITOR_CONFIG": "b.yaml"}) == Path("a.yaml")
    assert config_path([], {"MONITOR_CONFIG": "b.yaml"}) == Path("b.yaml")
    assert config_path([], {}) == Path("config.yaml")


def test_bucket_size_follows_the_window() -> None:
    end = datetime(2026, 11, 20)
    assert Window(end - WINDOWS["24h"], end, "").bucket_seconds == 3600
    assert Window(end - timedelta(days=3), end, "").bucket_seconds == 3600
    assert Window(end - WINDOWS["7d"], end, "").bucket_seconds == 6 * 3600
    assert Window(end - WINDOWS["30d"], end, "").bucket_seconds == 86400


def test_postgres_buckets_use_date_bin() -> None:
    sql = str(select(bucket_expr("postgresql", MB.c.created_at, 3600)).compile(dialect=postgresql.dialect()))
    assert "date_bin(interval '3600 seconds', mention_brand.created_at" in sql


def test_sqlite_buckets_and_csv_export_agree_with_the_seed(tmp_path: Path) -> None:
    data = seed(tmp_path / "monitor.db", utcnow())
    src = queries.Source(data.url, 0.5)
    start, end = data.now - timedelta(hours=24), data.now + timedelta(minutes=1)
    series = queries.brand_series(src, start, end, 3600)
    assert int(series["mentions"].sum()) == sum(len(m.brands) for m in data.mentions if m.created_at >= start)
    assert (series["bucket"].dt.minute == 0).all() and (series["bucket"].dt.second == 0).all()
    for bucket, n in series.groupby("bucket")["mentions"].sum().items():
        expect = sum(len(m.brands) for m in data.mentions
                     if m.created_at >= start and m.created_at.replace(minute=0, second=0, microsecond=0) == bucket)
        assert n == expect
    rows = list(csv.reader(io.TextIOWrapper(queries.mentions_csv(src, MentionFilter(start, end)), "utf-8")))
    assert rows[0][:3] == ["id", "created_at", "platform"]
    assert len(rows) - 1 == data.count(start)
    assert rows[1][5] == HOSTILE_TEXT  # text as it is; the CSV is never rendered


def test_csv_cells_cannot_run_as_spreadsheet_formulas(tmp_path: Path) -> None:
    data = seed(tmp_path / "monitor.db", utcnow())
    with make_engine(data.url).begin() as conn:
        conn.exec_driver_sql("UPDATE mention SET text = '=HYPERLINK(\"http://x\")' WHERE id = 2")
    src = queries.Source(data.url, 0.5)
    out = queries.mentions_csv(src, MentionFilter(data.now - timedelta(days=1), data.now + timedelta(minutes=1)))
    rows = list(csv.reader(io.TextIOWrapper(out, "utf-8")))
    assert rows[2][5] == "'=HYPERLINK(\"http://x\")"


def test_a_database_that_stops_answering_is_a_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = seed(tmp_path / "monitor.db", utcnow())

    def locked(*_: object, **__: object) -> None:
        raise OperationalError("SELECT ...", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(queries, "brand_totals", locked)
    at = open_app(write_config(tmp_path, data.url), monkeypatch)
    assert any(e.value.startswith("The database did not answer (OperationalError)") for e in at.error)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://monitor:s3cret-pw@127.0.0.1:1/monitor", "Cannot connect to the database"),
        ("postgresql+nodriver://monitor:s3cret-pw@127.0.0.1:1/monitor", "not a URL SQLAlchemy can use"),
    ],
)
def test_unreachable_database_is_explained_without_the_password(
    url: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(write_config(tmp_path, url), monkeypatch)
    assert expected in at.info[0].value
    shown = " ".join(str(getattr(e, "value", "")) for e in [*at.main, *at.sidebar])
    assert "s3cret-pw" not in shown
