"""What people do to an alert: acknowledge it (someone is on it) and resolve it (the storm is handled).

Each stamps who and when with a conditional UPDATE, so two people acting at once get a clear
message instead of silently overwriting each other. Bad input raises
:class:`~monitor.errors.WorkflowError` with a message fit to show as it is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col

from monitor.errors import WorkflowError
from monitor.store import Alert, session_scope, utcnow


def _who(by: str) -> str:
    name = (by or "").strip()
    if not name:
        raise WorkflowError("sign in (or enter your name) first: every action on an alert is recorded under a name")
    return name[:128]


def _current(engine: Engine, alert_id: int) -> Alert:
    with session_scope(engine) as session:
        alert = session.get(Alert, alert_id)
    if alert is None:
        raise WorkflowError(f"alert {alert_id} does not exist")
    return alert


def acknowledge(engine: Engine, alert_id: int, *, by: str, now: datetime | None = None) -> Alert:
    """Record that ``by`` is on alert ``alert_id``; returns the updated alert.

    Raises :class:`WorkflowError` for an empty name, an unknown alert, or one already
    acknowledged or resolved by someone (the message says who and when).
    """
    name, now = _who(by), now or utcnow()
    stmt = (update(Alert).where(col(Alert.id) == alert_id, col(Alert.acknowledged_at).is_(None),
                                col(Alert.resolved_at).is_(None))
            .values(acknowledged_by=name, acknowledged_at=now))
    with engine.begin() as conn:
        changed = conn.execute(stmt).rowcount == 1
    alert = _current(engine, alert_id)
    if not changed:
        if alert.resolved_at is not None:
            raise WorkflowError(f"alert {alert_id} was already resolved by {alert.resolved_by} "
                                f"at {alert.resolved_at:%Y-%m-%d %H:%M} UTC")
        raise WorkflowError(f"alert {alert_id} was already acknowledged by {alert.acknowledged_by} "
                            f"at {alert.acknowledged_at:%Y-%m-%d %H:%M} UTC")
    return alert


def resolve(engine: Engine, alert_id: int, *, by: str, now: datetime | None = None) -> Alert:
    """Record that ``by`` handled alert ``alert_id`` (acknowledging it too if nobody had); returns it.

    Raises :class:`WorkflowError` for an empty name, an unknown alert, or one already resolved.
    """
    name, now = _who(by), now or utcnow()
    alert = _current(engine, alert_id)
    values: dict[str, object] = {"resolved_by": name, "resolved_at": now}
    if alert.acknowledged_at is None:
        values |= {"acknowledged_by": name, "acknowledged_at": now}
    stmt = update(Alert).where(col(Alert.id) == alert_id, col(Alert.resolved_at).is_(None)).values(**values)
    with engine.begin() as conn:
        changed = conn.execute(stmt).rowcount == 1
    alert = _current(engine, alert_id)
    if not changed:
        raise WorkflowError(f"alert {alert_id} was already resolved by {alert.resolved_by} "
                            f"at {alert.resolved_at:%Y-%m-%d %H:%M} UTC")
    return alert


def reopen(engine: Engine, alert_id: int, *, by: str) -> Alert:
    """Clear the resolution of alert ``alert_id`` (``by`` must be named); returns it.

    Raises :class:`WorkflowError` for an empty name or an unknown alert.
    """
    _who(by)
    stmt = update(Alert).where(col(Alert.id) == alert_id).values(resolved_by=None, resolved_at=None)
    with engine.begin() as conn:
        conn.execute(stmt)
    return _current(engine, alert_id)
