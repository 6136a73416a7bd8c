"""What people do to escalations: move one through its states, assign it.

Every function takes an engine, does one transaction and returns the updated row. Bad
input raises :class:`~monitor.errors.WorkflowError` with a message fit to show the user as it is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from monitor.errors import WorkflowError
from monitor.store import Escalation, EscalationStatus, session_scope, utcnow

S = EscalationStatus
_ALLOWED: dict[str, set[str]] = {
    S.open: {S.acknowledged, S.resolved, S.dismissed},
    S.acknowledged: {S.resolved, S.dismissed, S.open},
    S.resolved: {S.open},
    S.dismissed: {S.open},
}


def transition(
    engine: Engine,
    escalation_id: int,
    to: str,
    *,
    by: str = "",
    assignee: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Escalation:
    """Move an escalation to status ``to``, stamping the time; returns the updated row.

    open -> acknowledged -> resolved | dismissed (open may go straight to resolved or
    dismissed, which also stamps acknowledged_at); resolved or dismissed may be reopened.
    Raises :class:`WorkflowError` for an unknown id, status or forbidden move.
    """
    try:
        target = S(to)
    except ValueError:
        raise WorkflowError(f"unknown status {to!r}; use one of {', '.join(S)}") from None
    now = now or utcnow()
    with session_scope(engine) as session:
        esc = session.get(Escalation, escalation_id)
        if esc is None:
            raise WorkflowError(f"escalation {escalation_id} does not exist")
        if target == esc.status:
            return esc
        if target not in _ALLOWED[S(esc.status)]:
            raise WorkflowError(f"escalation {escalation_id} is {esc.status}; it cannot become {target}")
        if target in (S.acknowledged, S.resolved, S.dismissed) and esc.acknowledged_at is None:
            esc.acknowledged_at = now
        if target in (S.resolved, S.dismissed):
            esc.resolved_at = now
        if target == S.open:
            esc.resolved_at = None
        if assignee is not None:
            esc.assignee = assignee.strip() or None
        elif target == S.acknowledged and by and not esc.assignee:
            esc.assignee = by
        if note:
            esc.note = note
        esc.status = target
        esc.updated_at = now
        session.add(esc)
    return esc


def assign(engine: Engine, escalation_id: int, assignee: str, *, now: datetime | None = None) -> Escalation:
    """Set (or with an empty string, clear) the assignee; returns the row.

    Raises :class:`WorkflowError` for an unknown id.
    """
    with session_scope(engine) as session:
        esc = session.get(Escalation, escalation_id)
        if esc is None:
            raise WorkflowError(f"escalation {escalation_id} does not exist")
        esc.assignee = assignee.strip() or None
        esc.updated_at = now or utcnow()
        session.add(esc)
    return esc
