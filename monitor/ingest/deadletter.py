"""The dead-letter table: items a source delivered that could not become mentions.

A rejected item is written here inside the transaction that stores its page and moves the
cursor past it, so nothing a source delivers is dropped silently. The same item seen again
(same source, position and payload) only counts ``times_seen``. People list them with
``monitor rejected``, fix what was wrong (the config, the code, or the payload itself) and
retry them; the dashboard's health page shows how many are open (:func:`open_counts`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from collectors.edge import MAX_PAYLOAD, Rejected
from monitor.errors import UsageError
from monitor.store import DeadLetter, session_scope, utcnow

MAX_POSITION = 512


def _position(position: str) -> str:
    """``position`` cut to the column (its end kept: the line number or id is what matters)."""
    return position if len(position) <= MAX_POSITION else "..." + position[-(MAX_POSITION - 3):]


def _insert(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(DeadLetter)


def store_rejected(session: Session, source: str, rejected: Sequence[Rejected], now: datetime | None = None) -> int:
    """Write ``rejected`` to the dead-letter table inside the caller's transaction; returns how many.

    An item already there (same source, position and payload) gets ``times_seen`` + 1, its
    latest reason and ``last_seen_at``; it is never duplicated.
    """
    if not rejected:
        return 0
    now = now or utcnow()
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rejected:
        position, digest = _position(r.position), hashlib.sha1(r.payload).hexdigest()
        if (position, digest) in rows:
            continue
        rows[(position, digest)] = {
            "source": source, "position": position, "digest": digest, "payload": r.payload[:MAX_PAYLOAD],
            "payload_size": len(r.payload), "reason": r.reason,
            "field": (r.field or None) and r.field[:128], "first_seen_at": now, "last_seen_at": now,
            "times_seen": 1, "retries": 0,
        }
    stmt = _insert(session).values(list(rows.values()))
    stmt = stmt.on_conflict_do_update(
        index_elements=["source", "position", "digest"],
        set_={"times_seen": DeadLetter.times_seen + 1, "last_seen_at": stmt.excluded.last_seen_at,
              "reason": stmt.excluded.reason, "field": stmt.excluded.field},
    )
    session.execute(stmt)
    return len(rejected)


def open_counts(engine: Engine) -> dict[str, int]:
    """Open (unresolved) dead letters per source: what ``monitor status`` and the health page show."""
    with Session(engine) as session:
        rows = session.execute(
            select(DeadLetter.source, func.count()).where(DeadLetter.resolved_at.is_(None))  # type: ignore[union-attr]
            .group_by(DeadLetter.source)
        ).all()
    return {source: n for source, n in rows}


def list_rejected(engine: Engine, *, source: str | None = None, include_resolved: bool = False,
                  limit: int = 100) -> list[DeadLetter]:
    """Dead letters, newest first: open ones only unless ``include_resolved``, of one ``source`` if given."""
    stmt = select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)  # type: ignore[union-attr]
    if not include_resolved:
        stmt = stmt.where(DeadLetter.resolved_at.is_(None))  # type: ignore[union-attr]
    if source:
        stmt = stmt.where(DeadLetter.source == source)
    with Session(engine, expire_on_commit=False) as session:
        return list(session.execute(stmt).scalars())


def drop(engine: Engine, ids: Sequence[int], now: datetime | None = None) -> int:
    """Mark the open dead letters ``ids`` resolved as ``dropped`` (kept, no longer counted); returns how many."""
    with session_scope(engine) as session:
        rows = [r for r in (session.get(DeadLetter, i) for i in ids) if r is not None and r.resolved_at is None]
        for r in rows:
            r.resolved_at, r.resolution = now or utcnow(), "dropped"
    return len(rows)


def get(engine: Engine, item_id: int) -> DeadLetter:
    """Dead letter ``item_id``; raises :class:`~monitor.errors.UsageError` when there is none."""
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(DeadLetter, item_id)
    if row is None:
        raise UsageError(f"no dead letter with id {item_id} (`monitor rejected` lists them)")
    return row
