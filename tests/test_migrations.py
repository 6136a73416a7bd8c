"""Alembic owns the schema: migrating an empty database gives exactly the models' tables."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import monitor.store  # noqa: F401  (registers the tables)
from monitor.store import make_engine
from monitor.store.migrate import upgrade


def test_upgrade_creates_the_models_schema_and_is_repeatable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    upgrade(url)  # running it again is a no-op
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert diff == [], f"models and migrations differ; add a migration: {diff}"
        assert "alembic_version" in inspect(conn).get_table_names()
    engine.dispose()


def test_times_bulk_ingest_stored_without_a_fraction_are_rewritten_in_the_compared_format(tmp_path: Path) -> None:
    import sqlite3

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0017")
    with sqlite3.connect(tmp_path / "old.db") as conn:  # what bulk ingest wrote before 0018
        conn.execute("INSERT INTO brand (id, name, is_own, created_at) VALUES (1, 'Acme', 1, '2026-11-01 00:00:00.000000')")
        conn.execute("INSERT INTO mention (id, platform, native_id, source, text, author, author_reach, likes, replies, "
                     "reposts, quotes, engagement, url, created_at, collected_at, raw) VALUES "
                     "(1, 'x', '1', 'x', 'Acme', '', 0, 0, 0, 0, 0, 0, '', '2026-11-20 13:00:00', "
                     "'2026-11-20 13:05:00.250000', '{}')")
        conn.execute("INSERT INTO mention_brand VALUES (1, 1, '2026-11-20 13:00:00', '[]')")
    upgrade(url)
    with sqlite3.connect(tmp_path / "old.db") as conn:
        assert conn.execute("SELECT created_at, collected_at FROM mention").fetchone() == (
            "2026-11-20 13:00:00.000000", "2026-11-20 13:05:00.250000")
        assert conn.execute("SELECT created_at FROM mention_brand").fetchone() == ("2026-11-20 13:00:00.000000",)
