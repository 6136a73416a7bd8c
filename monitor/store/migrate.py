"""Alembic, driven from code: `monitor db upgrade` and `monitor init` call :func:`upgrade`;
the commands that only read or work on an existing database call :func:`require_schema` first."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from monitor.errors import MonitorError
from monitor.text import mask_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class NotInitialised(MonitorError):
    """The database does not exist yet, or has no tables: `monitor init` creates them (exit code 2)."""

    exit_code = 2


def alembic_config(url: str) -> AlembicConfig:
    """An Alembic config for ``url`` using the migrations shipped in this package."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision``, creating it (and its folder) if needed.

    On PostgreSQL under an advisory lock, so processes starting together migrate one at a time.
    """
    from monitor.store import make_engine
    from monitor.store.locks import lock_key

    engine = make_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # several processes starting at once migrate one after another
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key("migrate")})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    engine.dispose()


def require_schema(url: str) -> None:
    """Check the database at ``url`` has been initialised, creating nothing (not even an empty SQLite file).

    Raises :class:`NotInitialised` naming the database and `monitor init`, or :class:`MonitorError`
    when the server cannot be reached.
    """
    from monitor.store import make_engine, sqlite_path

    shown = mask_url(url)
    path = sqlite_path(url)
    if path is not None and not path.expanduser().exists():
        raise NotInitialised(f"no database at {path} yet: run `monitor init` first")
    engine = make_engine(url, create_dirs=False)
    try:
        with engine.connect() as conn:  # migrated, or made from the models directly (tests, the bench)
            ready = inspect(conn).has_table("alembic_version") or inspect(conn).has_table("mention")
    except SQLAlchemyError as err:
        reason = " ".join(str(getattr(err, "orig", None) or err).split())[:200]
        raise MonitorError(f"cannot open the database {shown} ({mask_url(reason)}); check database.url") from None
    finally:
        engine.dispose()
    if not ready:
        raise NotInitialised(f"the database {shown} has no tables yet: run `monitor init` first")
