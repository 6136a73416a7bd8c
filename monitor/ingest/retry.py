"""Retrying dead letters: parse them again after a fix, and store what now goes through.

The fix may be in the config (a new brand, a source option), in the code (a parser that
learnt a new shape) or in the item itself (``payload``: the corrected bytes of one dead
letter). ``monitor rejected retry`` drives it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from collectors.base import CollectorError
from collectors.edge import MAX_PAYLOAD, Rejected
from collectors.registry import build
from monitor.context import App
from monitor.errors import UsageError
from monitor.ingest.matching import Matcher
from monitor.ingest.pipeline import store_page
from monitor.store import DeadLetter, session_scope, utcnow


@dataclass
class RetryOutcome:
    """What retrying one dead letter did: ``outcome`` is stored, duplicate, unmatched, rejected or skipped."""

    id: int
    source: str
    position: str
    outcome: str
    reason: str = ""

    def __str__(self) -> str:
        line = f"#{self.id} {self.source} {self.position}: {self.outcome}"
        return line + (f" ({self.reason})" if self.reason else "")


def retry(app: App, ids: Sequence[int] = (), *, source: str | None = None, payload: bytes | None = None,
          now: datetime | None = None) -> list[RetryOutcome]:
    """Parse dead letters again with the source's current parser and config, storing what now goes through.

    ``ids`` picks the dead letters (else every open one, of ``source`` if given); ``payload``
    replaces the stored bytes of the one dead letter picked (a corrected row or item). A
    mention that goes through is stored (or found already stored, or matches no brand) and
    its dead letter resolved in one transaction; one still rejected keeps its row, with the
    new reason and ``retries`` + 1. Raises :class:`~monitor.errors.UsageError` for an unknown
    id, or for ``payload`` with other than one dead letter.
    """
    now = now or utcnow()
    rows = _picked(app.engine, ids, source)
    if payload is not None and len(rows) != 1:
        raise UsageError(f"--payload replaces one dead letter's bytes; {len(rows)} were picked (name one id)")
    collectors: dict[str, Any] = {}
    matcher = Matcher(app.config.brands)
    outcomes = []
    for row in rows:
        assert row.id is not None
        collector = _collector(app, row.source, collectors)
        if isinstance(collector, str):
            outcomes.append(RetryOutcome(row.id, row.source, row.position, "skipped", collector))
            continue
        data = row.payload if payload is None else payload
        parsed = collector.reparse(data, row.position)
        with session_scope(app.engine) as session:
            dead = session.get(DeadLetter, row.id)
            assert dead is not None
            dead.retries += 1
            if isinstance(parsed, Rejected):
                dead.reason, dead.field = parsed.reason, parsed.field
                outcomes.append(RetryOutcome(row.id, row.source, row.position, "rejected", parsed.reason))
                continue
            result = store_page(session, row.source, [parsed], app.config.brands, matcher=matcher)
            outcome = ("stored" if result.stored else "duplicate" if result.duplicates else
                       "unmatched" if result.unmatched else "rejected")
            if outcome != "rejected":
                dead.resolved_at, dead.resolution = now, outcome
                if payload is not None:
                    dead.payload, dead.payload_size = payload[:MAX_PAYLOAD], len(payload)
                    dead.digest = hashlib.sha1(payload).hexdigest()
            outcomes.append(RetryOutcome(row.id, row.source, row.position, outcome))
    return outcomes


def _picked(engine: Engine, ids: Sequence[int], source: str | None) -> list[DeadLetter]:
    with Session(engine, expire_on_commit=False) as session:
        if ids:
            rows = [session.get(DeadLetter, i) for i in ids]
            missing = [str(i) for i, r in zip(ids, rows, strict=True) if r is None]
            if missing:
                raise UsageError(f"no dead letter with id {', '.join(missing)} (`monitor rejected` lists them)")
            return [r for r in rows if r is not None]
        stmt = select(DeadLetter).where(DeadLetter.resolved_at.is_(None)).order_by(DeadLetter.id)  # type: ignore[union-attr]
        if source:
            stmt = stmt.where(DeadLetter.source == source)
        return list(session.execute(stmt).scalars())


def _collector(app: App, source: str, built: dict[str, Any]) -> Any:
    """The collector that parses ``source``'s items (built once), or why there is none."""
    if source not in built:
        options = getattr(app.config.sources, source, None)
        if options is None:
            built[source] = f"{source!r} is not a configured source; its items cannot be parsed again"
        else:
            try:
                built[source] = build(source, options, app.config.brands, app.env)
            except CollectorError as err:
                built[source] = str(err)
    return built[source]
