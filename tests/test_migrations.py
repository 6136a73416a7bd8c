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
