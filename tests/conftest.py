"""Fixtures shared by the whole suite: a config on a real SQLite file, an App over it."""

from __future__ import annotations

import copy
import os
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
    from monitor.migrate import upgrade

    application = App.from_file(config_path, env={})
    upgrade(application.config.database.url)
    yield application
    application.engine.dispose()


@pytest.fixture
def shared_data() -> Path:
    """../shared/data; the suite fails (never skips) when it is missing."""
    assert SHARED_DATA.is_dir(), f"{SHARED_DATA} is missing: the model tests need ../shared/data"
    return SHARED_DATA
