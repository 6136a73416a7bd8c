"""Fixtures shared by the whole suite: a config on a real SQLite file, an App over it."""

from __future__ import annotations

import copy
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"

BRANDS: list[dict[str, Any]] = [
    {"name": "Acme", "keywords": ["Acme", "Acme Cloud"], "aliases": ["AcmeCorp"],
     "handles": ["@acme", "@acmesupport"], "exclude": ["acme anvil"], "competitors": ["Globex"]},
    {"name": "Globex", "keywords": ["Globex"], "handles": ["@globex"], "is_own": False},
]


def config_dict(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """A valid config mapping whose database, inbox and outbox live under ``tmp_path``."""
    data: dict[str, Any] = {
        "brands": copy.deepcopy(BRANDS),
        "database": {"url": f"sqlite:///{tmp_path / 'monitor.db'}"},
        "sources": {"file": {"enabled": True, "interval": "1m", "path": str(tmp_path / "inbox")}},
        "alerts": {"outbox_dir": str(tmp_path / "outbox")},
    }
    for key, value in overrides.items():
        data[key] = value
    return data


def write_config(tmp_path: Path, **overrides: Any) -> Path:
    """Write :func:`config_dict` to ``tmp_path/config.yaml`` and return its path."""
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config_dict(tmp_path, **overrides)), encoding="utf-8")
    return path


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def app(config_path: Path) -> Any:
    """An App on a migrated SQLite file in tmp_path (real Alembic upgrade)."""
    from monitor.context import App
    from monitor.store.migrate import upgrade

    application = App.from_file(config_path, env={})
    upgrade(application.config.database.url)
    yield application
    application.engine.dispose()


@pytest.fixture
def shared_data() -> Path:
    """../shared/data; the suite fails (never skips) when it is missing."""
    assert SHARED_DATA.is_dir(), f"{SHARED_DATA} is missing: the model tests need ../shared/data"
    return SHARED_DATA


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    assert found[-1], f"PostgreSQL's {name} is missing: install Debian's postgresql package (.ci/run does)"
    return found[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL server on loopback for the session; its admin URL (user monitor, trust auth)."""
    root = Path(tempfile.mkdtemp(prefix="monitor-pg-"))  # pytest's tmp is private to root; postgres must enter
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        os.chmod(root, 0o755)
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run([*as_user, _pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "monitor", "--no-sync"],
                   check=True, capture_output=True)
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*as_user, _pg_bin("pg_ctl"), "-D", str(data), "-o", opts, "-w", "-l", str(root / "log"), "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql://monitor@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, _pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def pg_database_of_its_own(pg_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database on the throwaway PostgreSQL server, dropped when the block ends; its URL."""
    import uuid

    from sqlalchemy import create_engine, make_url, text

    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_app(pg_url: str, tmp_path: Path) -> Iterator[Any]:
    """An App on the throwaway PostgreSQL server's own database, its public schema emptied and migrated."""
    from sqlalchemy import text

    from monitor.config import parse_config
    from monitor.context import App
    from monitor.store.migrate import upgrade

    app = App(config=parse_config(config_dict(tmp_path, database={"url": pg_url})), env={})
    with app.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(pg_url)
    yield app
    app.engine.dispose()
