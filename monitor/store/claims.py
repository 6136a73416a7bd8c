"""Claiming work from the store so that many workers share it: one batch, one worker, once.

A worker claims a batch with ``SELECT ... ORDER BY id LIMIT n FOR UPDATE OF mention SKIP LOCKED``
(PostgreSQL): rows another worker holds are skipped, not waited for, so N scorers take N
different batches at once; the claim is the row lock itself, held until the batch's
transaction commits, so a worker that dies (or fails) hands its batch back when its
connection ends. A batch another worker finished between this worker's snapshot and its lock
is dropped after the lock by reading the same condition again, so nothing is scored twice.
On SQLite (one writer at a time) ``FOR UPDATE`` is left out; the writes that follow
(``ON CONFLICT DO NOTHING``, :func:`monitor.store.rollups.tracking`) keep the data exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from monitor.store.engine import session_scope
from monitor.store.tables import Mention, Sentiment

SCAN_SLACK = 100_000
"""How far below the newest scored mention the search for unscored ones starts (:func:`scan_floor`)."""


def claim(session: Session, query: Select[Any], take: int, *, after: int = 0) -> tuple[list[Any], int | None]:
    """Claim up to ``take`` rows of ``query`` (its first column is the mention id) with id above ``after``.

    Returns the rows still due after the lock and the last id looked at (None when nothing
    was left: the caller stops).
    """
    stmt = (query.where(Mention.id > after).order_by(Mention.id).limit(take)
            .with_for_update(skip_locked=True, of=Mention))
    rows = list(session.execute(stmt).all())
    if not rows:
        return [], None
    last = int(rows[-1][0])
    if session.get_bind().dialect.name == "postgresql":
        ids = [r[0] for r in rows]
        due = set(session.execute(query.with_only_columns(Mention.id)
                                  .where(Mention.id.in_(ids))).scalars())  # type: ignore[union-attr]
        rows = [r for r in rows if r[0] in due]
    return rows, last


def claim_batches(engine: Engine, query: Select[Any], *, batch_size: int, limit: int | None = None,
                  after: int = 0) -> Iterator[tuple[Session, list[Any]]]:
    """Yield ``(session, rows)`` per claimed batch, oldest id first, each in its own transaction that
    commits when the caller asks for the next batch (and rolls back if the caller fails or stops).

    At most ``limit`` rows in all; stops when nothing is left to claim. Raises database errors.
    """
    done, last = 0, after
    while limit is None or done < limit:
        take = batch_size if limit is None else min(batch_size, limit - done)
        with session_scope(engine) as session:
            rows, seen = claim(session, query, take, after=last)
            if seen is None:
                return
            if rows:
                yield session, rows
        done += len(rows)
        last = seen


def scan_floor(engine: Engine) -> int:
    """An id below which every mention can be taken as scored: :data:`SCAN_SLACK` below the newest scored one.

    Scorers take the backlog oldest id first, so unscored mentions far below the newest scored
    one do not arise (a claimed batch in flight, or one handed back by a failed scorer, is
    within a few batches of it). The scheduled scoring job starts its search here instead of at
    the first mention, so an idle run costs SCAN_SLACK index steps, not one per stored mention;
    ``monitor score`` and the daemon's first run search from the start.
    """
    with Session(engine) as session:
        top = session.execute(select(func.max(Sentiment.mention_id))).scalar_one()
    return max(0, int(top or 0) - SCAN_SLACK)
