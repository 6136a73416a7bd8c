"""Alert delivery from the outbox: one row per alert and channel; claim it, send it, record what happened.

Every alert gets one ``alert_delivery`` row for each channel that wants it (the email channel
always; an ``alerts.channels`` entry when the brand and ``min_severity`` match). The row is
written once (a unique alert-and-channel key, inserted with "on conflict do nothing"), so a
channel gets an alert exactly once however many senders run. A sender then claims a row with a
conditional UPDATE that only succeeds if the row is still pending (or failed and due again),
as healthchecks' ``sendalerts`` does, so two senders can never both send it; it calls the
channel and marks the row sent, or failed with ``attempts``, ``last_error`` and
``next_attempt_at`` set for a retry. One channel failing never holds back another.

Rows are made for alerts changed in the last :data:`NEW_ALERT_HORIZON` and not resolved, so a
channel added today does not post last month's storms; an alert whose severity rises later
reaches the channels whose ``min_severity`` it now meets.

Retry backoff is a plain formula: 1 minute after the first failure, doubling each time, at
most an hour (1, 2, 4, ..., 32, 60, 60 minutes); after ``alerts.max_attempts`` attempts the
row stays failed and is not tried again.

Stale claims: a sender that dies between claiming and marking leaves the row ``claimed``.
After ``CLAIM_TIMEOUT`` (well beyond the SMTP timeout) another sender may claim it again.
The trade-off: if the dead sender had already handed the message over, the channel gets it
twice (an email with the same Message-ID, so most clients show one); the alternative, never
re-claiming, would lose the alert. Errors are recorded as the exception type and message;
credentials and channel URLs are never logged or stored.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, and_, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from monitor.alerts.channels import EMAIL, Channel, TransportError, build_channels
from monitor.config import Config
from monitor.store import Alert, AlertDelivery, Brand, DeliveryStatus, session_scope, utcnow

log = logging.getLogger(__name__)
D = DeliveryStatus
CLAIM_TIMEOUT = timedelta(minutes=15)
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
NEW_ALERT_HORIZON = timedelta(days=1)


@dataclass
class DeliveryReport:
    """One :func:`send_pending` run: (alert id, channel) pairs sent, failed (with the error), and
    skipped (claimed by another sender)."""

    sent: list[tuple[int, str]] = field(default_factory=list)
    failed: dict[tuple[int, str], str] = field(default_factory=dict)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    outbox_dir: Path | None = None
    """Where the .eml files went when no SMTP server is configured."""
    files: list[Path] = field(default_factory=list)
    held_elsewhere: bool = False
    """Not run: another instance holds the delivery lock (:func:`monitor.store.locks.exclusive`)."""

    def __str__(self) -> str:
        if self.held_elsewhere:
            return "not run: another instance is delivering alerts"
        emails = sum(1 for _, c in self.sent if c == EMAIL)
        where = f" (emails written to {self.outbox_dir})" if self.outbox_dir is not None and emails else ""
        failed = "; ".join(f"#{i} {c}: {e}" for (i, c), e in self.failed.items())
        return (f"{len(self.sent)} sent{where}, {len(self.failed)} failed"
                + (f" ({failed})" if failed else "") + (f", {len(self.skipped)} taken by another sender"
                                                         if self.skipped else ""))


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed tries: 1 min doubling, capped at 1 hour."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def _due(now: datetime, max_attempts: int) -> ColumnElement[bool]:
    R = AlertDelivery
    return and_(
        col(R.attempts) < max_attempts,
        or_(
            and_(col(R.status).in_([D.pending, D.failed]), col(R.next_attempt_at) <= now),
            and_(col(R.status) == D.claimed, col(R.claimed_at) < now - CLAIM_TIMEOUT),
        ),
    )


def claim(engine: Engine, delivery_id: int, sender_id: str, now: datetime, max_attempts: int) -> bool:
    """Atomically take delivery row ``delivery_id``; returns False if another sender has it or it is not due."""
    stmt = (
        update(AlertDelivery)
        .where(col(AlertDelivery.id) == delivery_id, _due(now, max_attempts))
        .values(status=D.claimed, claimed_by=sender_id, claimed_at=now, attempts=AlertDelivery.attempts + 1)
    )
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def _finish(engine: Engine, delivery_id: int, sender_id: str, **values: object) -> bool:
    stmt = (
        update(AlertDelivery)
        .where(col(AlertDelivery.id) == delivery_id, col(AlertDelivery.claimed_by) == sender_id,
               col(AlertDelivery.status) == D.claimed)
        .values(**values)
    )
    with engine.begin() as conn:
        done = conn.execute(stmt).rowcount == 1
    if not done:
        log.warning("delivery %s: claim was taken over by another sender before it was marked", delivery_id)
    return done


def _insert_ignoring_duplicates(engine: Engine, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    stmt = dialect_insert(AlertDelivery).on_conflict_do_nothing(index_elements=["alert_id", "channel"])
    with engine.begin() as conn:
        conn.execute(stmt, rows)


def ensure_deliveries(engine: Engine, channels: list[Channel], now: datetime) -> int:
    """Write the missing delivery rows for recent unresolved alerts; returns how many rows are new.

    Raises database errors unchanged.
    """
    with session_scope(engine) as session:
        recent = session.exec(
            select(Alert.id, Alert.severity, Brand.name).join(Brand, col(Brand.id) == col(Alert.brand_id))
            .where(col(Alert.updated_at) >= now - NEW_ALERT_HORIZON, col(Alert.resolved_at).is_(None))
        ).all()
        have = {(a, c) for a, c in session.exec(
            select(AlertDelivery.alert_id, AlertDelivery.channel)
            .where(col(AlertDelivery.alert_id).in_([r[0] for r in recent]))).all()}
    rows: list[dict[str, object]] = [
        {"alert_id": alert_id, "channel": ch.name, "status": D.pending, "attempts": 0,
         "next_attempt_at": now, "created_at": now}
        for alert_id, severity, brand in recent for ch in channels
        if (alert_id, ch.name) not in have and ch.wants(brand, severity)
    ]
    _insert_ignoring_duplicates(engine, rows)
    return len(rows)


def send_pending(
    engine: Engine,
    config: Config,
    env: Mapping[str, str] | None = None,
    *,
    now: datetime | None = None,
    sender_id: str | None = None,
) -> DeliveryReport:
    """Deliver every delivery row that is pending, failed and due again, or stuck in a stale claim.

    Returns a :class:`DeliveryReport`. A send failure (SMTP or a chat service down, refused
    login, no recipients, a channel URL variable unset) is recorded on the row and in the
    report, never raised; database errors propagate.
    """
    cfg = config.alerts
    env = os.environ if env is None else env
    now = now or utcnow()
    sender_id = sender_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    report = DeliveryReport(outbox_dir=cfg.outbox_dir if cfg.smtp is None else None)
    channels = {c.name: c for c in build_channels(config, env, now=now)}
    ensure_deliveries(engine, list(channels.values()), now)
    with session_scope(engine) as session:
        due = session.exec(
            select(AlertDelivery.id, AlertDelivery.alert_id, AlertDelivery.channel)
            .join(Alert, col(Alert.id) == col(AlertDelivery.alert_id))
            .where(_due(now, cfg.max_attempts), col(AlertDelivery.channel).in_(list(channels)))
            .order_by(col(Alert.severity).desc(), col(AlertDelivery.alert_id), col(AlertDelivery.id))
        ).all()
    for delivery_id, alert_id, name in due:
        assert delivery_id is not None
        key = (alert_id, name)
        if not claim(engine, delivery_id, sender_id, now, cfg.max_attempts):
            report.skipped.append(key)
            continue
        with session_scope(engine) as session:
            alert = session.get(Alert, alert_id)
            row = session.get(AlertDelivery, delivery_id)
            assert alert is not None and row is not None
            brand = session.get(Brand, alert.brand_id)
        try:
            where = channels[name].notify(alert, brand.name if brand else f"brand {alert.brand_id}")
        except TransportError as err:
            cause = err.__cause__ if err.__cause__ is not None else err
            error = f"{type(cause).__name__}: {cause}"[:500]
            if row.attempts >= cfg.max_attempts:
                error = f"gave up after {row.attempts} attempts; last: {error}"[:500]
            log.warning("alert %s to %s: delivery attempt %d failed: %s", alert_id, name, row.attempts, error)
            _finish(engine, delivery_id, sender_id, status=D.failed, last_error=error,
                    next_attempt_at=now + backoff(row.attempts))
            report.failed[key] = error
            continue
        if name == EMAIL and cfg.smtp is None:
            report.files.append(Path(where))
        if _finish(engine, delivery_id, sender_id, status=D.sent, sent_at=now, target=where[:200]):
            report.sent.append(key)
    return report
