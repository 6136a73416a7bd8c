"""Shared helpers for the collector tests: brands, recorded payloads, draining a collector.

Imported explicitly by tests/test_collectors_*.py (tests/conftest.py belongs to the core).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collectors.base import Collector, CollectorError, Mention, Rejected
from monitor.config import BrandConfig

PAYLOADS = Path(__file__).parent / "payloads"


def payload(source: str, name: str) -> Any:
    """The recorded payload tests/payloads/<source>/<name> (``.json`` when no suffix), parsed if JSON."""
    path = PAYLOADS / source / name
    if not path.suffix:
        path = path.with_suffix(".json")
    return json.loads(path.read_text("utf-8")) if path.suffix == ".json" else path.read_bytes()


def brand(name: str = "Acme", **kw: Any) -> BrandConfig:
    """A validated brand; keywords default to the name."""
    kw.setdefault("keywords", [name])
    return BrandConfig(name=name, **kw)


def fast(collector: Collector, attempts: int = 3) -> Collector:
    """The collector with retries that do not sleep (backoff multiplier 0)."""
    collector.retry_wait = 0  # type: ignore[attr-defined]
    collector.retry_attempts = attempts  # type: ignore[attr-defined]
    return collector


@dataclass
class Run:
    """What one run stored: the mentions, rejected items and cursor of every page, and the error that ended it."""

    mentions: list[Mention] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    cursors: list[dict[str, Any]] = field(default_factory=list)
    error: CollectorError | None = None

    @property
    def cursor(self) -> dict[str, Any] | None:
        return self.cursors[-1] if self.cursors else None

    @property
    def ids(self) -> list[str]:
        return [m.native_id for m in self.mentions]

    @property
    def reasons(self) -> dict[str, str]:
        """Each rejected item's position -> the reason it was rejected."""
        return {r.position: r.reason for r in self.rejected}


def drain(collector: Collector, cursor: dict[str, Any] | None = None) -> Run:
    """Run ``collector.fetch`` like the pipeline: store each page, keep its cursor, stop on error.

    Each page's cursor is round-tripped through JSON, as the database would store it.
    """
    run = Run()
    try:
        for page in collector.fetch(cursor or {}):
            run.mentions.extend(page.mentions)
            run.rejected.extend(page.rejected)
            run.cursors.append(json.loads(json.dumps(page.cursor)))
            for m in page.mentions:
                json.dumps(dict(m.raw))
                assert m.created_at.tzinfo is not None
    except CollectorError as err:
        run.error = err
    return run

