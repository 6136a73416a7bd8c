"""What people do to escalations: move one through its states, assign it, add a note; one or many at once.

Every action names who acts (``by``; an empty name is refused) and is written to the audit
trail (``escalation_event``) in the same transaction as the change. An action may name the
``version`` of the row its author saw: when someone else changed the escalation since, the
action is refused with a message saying who changed it and when, and nothing is written
(optimistic concurrency; the write itself is a conditional UPDATE, so two people clicking at
the same instant cannot both win). Bad input raises :class:`~monitor.errors.WorkflowError`
with a message fit to show the user as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from monitor.errors import WorkflowError
from monitor.store import Escalation, EscalationEvent, EscalationStatus, session_scope, utcnow

S = EscalationStatus
_ALLOWED: dict[str, set[str]] = {
    S.open: {S.acknowledged, S.resolved, S.dismissed},
    S.acknowledged: {S.resolved, S.dismissed, S.open},
    S.resolved: {S.open},
    S.dismissed: {S.open},
}
MAX_NAME = 128


class ConflictError(WorkflowError):
    """Someone else changed the escalation after the person acting loaded it; nothing was written.

    ``version`` is the escalation's version now (what the person has just been told about).
    """

    def __init__(self, message: str, version: int) -> None:
        super().__init__(message)
        self.version = version


@dataclass
class BulkResult:
    """What a bulk action did: the version each changed escalation has now, and for each refused id the reason."""

    versions: dict[int, int] = field(default_factory=dict)
    refused: dict[int, str] = field(default_factory=dict)

    @property
    def done(self) -> list[int]:
        """The ids changed, in the order they were acted on."""
        return list(self.versions)


def actor(by: str | None) -> str:
    """``by`` trimmed; raises :class:`WorkflowError` when it is empty or too long."""
    name = (by or "").strip()
    if not name:
        raise WorkflowError("say who is acting: enter your name before acting on an escalation "
                            "(every action is recorded under a name)")
    if len(name) > MAX_NAME:
        raise WorkflowError(f"the name is {len(name)} characters; use at most {MAX_NAME}")
    return name


def _load(session: Session, escalation_id: int, version: int | None) -> Escalation:
    esc = session.get(Escalation, escalation_id)
    if esc is None:
        raise WorkflowError(f"escalation {escalation_id} does not exist")
    if version is not None and esc.version != version:
        raise _conflict(esc)
    return esc


def _conflict(esc: Escalation) -> ConflictError:
    who = esc.updated_by or "someone"
    return ConflictError(f"escalation {esc.id} was changed by {who} at {esc.updated_at:%Y-%m-%d %H:%M} UTC "
                         f"(it is now {esc.status}) after you opened it; nothing was saved. Look at it again, "
                         "then act", esc.version)


def _write(session: Session, esc: Escalation, changes: dict[str, Any], event: EscalationEvent) -> Escalation:
    """Apply ``changes`` with a conditional UPDATE on the version read; record ``event``; return the row."""
    seen = esc.version
    values = {**changes, "version": seen + 1}
    result = session.execute(update(Escalation).where(col(Escalation.id) == esc.id, col(Escalation.version) == seen)
                             .values(**values))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(esc)
        raise _conflict(esc)
    session.add(event)
    session.flush()
    session.refresh(esc)
    return esc


def transition(engine: Engine, escalation_id: int, to: str, *, by: str, version: int | None = None,
               assignee: str | None = None, note: str | None = None, now: datetime | None = None) -> Escalation:
    """Move an escalation to status ``to``, stamping the time; returns the updated row.

    open -> acknowledged -> resolved | dismissed (open may go straight to resolved or
    dismissed, which also stamps acknowledged_at); resolved or dismissed may be reopened.
    Acknowledging an unassigned escalation assigns it to ``by``. Raises
    :class:`WorkflowError` for an empty name, an unknown id or status, a forbidden move, and
    :class:`ConflictError` when ``version`` is no longer the row's.
    """
    who = actor(by)
    try:
        target = S(to)
    except ValueError:
        raise WorkflowError(f"unknown status {to!r}; use one of {', '.join(S)}") from None
    now = now or utcnow()
    with session_scope(engine) as session:
        esc = _load(session, escalation_id, version)
        if target == esc.status and assignee is None and not note:
            return esc
        if target != esc.status and target not in _ALLOWED[S(esc.status)]:
            raise WorkflowError(f"escalation {escalation_id} is {esc.status}; it cannot become {target}")
        changes: dict[str, Any] = {"status": target, "updated_at": now, "updated_by": who}
        if target in (S.acknowledged, S.resolved, S.dismissed) and esc.acknowledged_at is None:
            changes["acknowledged_at"] = now
        if target in (S.resolved, S.dismissed) and target != esc.status:
            changes["resolved_at"] = now
        if target == S.open:
            changes["resolved_at"] = None
        details = []
        if assignee is not None:
            changes["assignee"] = assignee.strip() or None
            details.append(f"assigned to {changes['assignee'] or 'nobody'}")
        elif target == S.acknowledged and not esc.assignee:
            changes["assignee"] = who
        if note and note.strip():
            changes["note"] = note.strip()
            details.append(note.strip())
        action = "reopened" if target == S.open else str(target)
        event = EscalationEvent(escalation_id=escalation_id, at=now, actor=who, action=action,
                                from_status=esc.status, to_status=target, detail="; ".join(details) or None)
        return _write(session, esc, changes, event)


def assign(engine: Engine, escalation_id: int, assignee: str, *, by: str, version: int | None = None,
           now: datetime | None = None) -> Escalation:
    """Set (or with an empty string, clear) the assignee; returns the row.

    Raises :class:`WorkflowError` for an empty ``by`` or an unknown id, :class:`ConflictError`
    when ``version`` is no longer the row's.
    """
    who = actor(by)
    now = now or utcnow()
    with session_scope(engine) as session:
        esc = _load(session, escalation_id, version)
        name = assignee.strip() or None
        event = EscalationEvent(escalation_id=escalation_id, at=now, actor=who, action="assigned",
                                from_status=esc.status, to_status=esc.status, detail=name or "nobody")
        return _write(session, esc, {"assignee": name, "updated_at": now, "updated_by": who}, event)


def add_note(engine: Engine, escalation_id: int, text: str, *, by: str, version: int | None = None,
             now: datetime | None = None) -> Escalation:
    """Add a note (kept in the audit trail; the row shows the latest); returns the row.

    Raises :class:`WorkflowError` for an empty note or name or an unknown id,
    :class:`ConflictError` when ``version`` is no longer the row's.
    """
    who = actor(by)
    body = (text or "").strip()
    if not body:
        raise WorkflowError("the note is empty; write what was done or what is needed")
    now = now or utcnow()
    with session_scope(engine) as session:
        esc = _load(session, escalation_id, version)
        event = EscalationEvent(escalation_id=escalation_id, at=now, actor=who, action="note",
                                from_status=esc.status, to_status=esc.status, detail=body)
        return _write(session, esc, {"note": body, "updated_at": now, "updated_by": who}, event)


def bulk(engine: Engine, seen: Mapping[int, int | None], action: str, *, by: str, assignee: str | None = None,
         now: datetime | None = None) -> BulkResult:
    """Apply one action to many escalations, each in its own transaction; returns a :class:`BulkResult`.

    ``seen`` maps each id to the version its author saw (None: whatever it is now).
    ``action`` is ``assign`` (to ``assignee``) or a status (``acknowledged``, ``dismissed``, ...).
    One refused escalation (changed meanwhile, a forbidden move) never blocks the others.
    Raises :class:`WorkflowError` only for an empty name.
    """
    actor(by)
    result = BulkResult()
    for escalation_id, version in seen.items():
        try:
            if action == "assign":
                row = assign(engine, escalation_id, assignee or "", by=by, version=version, now=now)
            else:
                row = transition(engine, escalation_id, action, by=by, version=version, now=now)
        except WorkflowError as err:
            result.refused[escalation_id] = str(err)
        else:
            result.versions[escalation_id] = int(row.version)
    return result
