"""Alert delivery from the outbox: claim a row, send it, record what happened.

Every alert row is an outbox entry (healthchecks' ``sendalerts`` pattern). A sender claims
one with a conditional UPDATE that only succeeds if the row is still pending (or failed and
due again) — so two senders, threads or processes, can never both send the same alert.
Then it sends over SMTP (or, with no ``alerts.smtp`` configured, writes an ``.eml`` file to
``alerts.outbox_dir``) and marks the row sent, or failed with ``attempts``, ``last_error``
and ``next_attempt_at`` set for a retry.

Retry backoff is a plain formula: 1 minute after the first failure, doubling each time, at
most an hour (1, 2, 4, ..., 32, 60, 60 minutes); after ``alerts.max_attempts`` attempts the
row stays failed and is not tried again.

Stale claims: a sender that dies between claiming and marking leaves the row ``claimed``.
After ``CLAIM_TIMEOUT`` (well beyond the SMTP timeout) another sender may claim it again.
The trade-off: if the dead sender had already handed the message to the SMTP server, the
recipients get it twice (with the same Message-ID, so most clients show one); the
alternative, never re-claiming, would lose the alert. Errors are recorded as the exception
type and message; credentials are never logged or stored.
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

from monitor.alerts.channels import TransportError
from monitor.alerts.email import EmailChannel
from monitor.config import AlertsConfig, Config
from monitor.store import Alert, Brand, DeliveryStatus, session_scope, utcnow

log = logging.getLogger(__name__)
D = DeliveryStatus
CLAIM_TIMEOUT = timedelta(minutes=15)
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)


@dataclass
class DeliveryReport:
    """One :func:`send_pending` run: ids sent, failed (with the error), and skipped (claimed elsewhere)."""

    sent: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    skipped: list[int] = field(default_factory=list)
    outbox_dir: Path | None = None
    """Where the .eml files went when no SMTP server is configured."""
    files: list[Path] = field(default_factory=list)

    def __str__(self) -> str:
        where = f" (written to {self.outbox_dir})" if self.outbox_dir is not None and self.sent else ""
        failed = "; ".join(f"#{i}: {e}" for i, e in self.failed.items())
        return (f"{len(self.sent)} sent{where}, {len(self.failed)} failed"
                + (f" ({failed})" if failed else "") + (f", {len(self.skipped)} taken by another sender"
                                                         if self.skipped else ""))


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed tries: 1 min doubling, capped at 1 hour."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def _due(now: datetime, max_attempts: int) -> ColumnElement[bool]:
    return and_(
        col(Alert.attempts) < max_attempts,
        or_(
            and_(col(Alert.delivery_status).in_([D.pending, D.failed]), col(Alert.next_attempt_at) <= now),
            and_(col(Alert.delivery_status) == D.claimed, col(Alert.claimed_at) < now - CLAIM_TIMEOUT),
        ),
    )


def claim(engine: Engine, alert_id: int, sender_id: str, now: datetime, max_attempts: int) -> bool:
    """Atomically take alert ``alert_id`` for sending; returns False if another sender has it or it is not due."""
    stmt = (
        update(Alert)
        .where(col(Alert.id) == alert_id, _due(now, max_attempts))
        .values(delivery_status=D.claimed, claimed_by=sender_id, claimed_at=now, attempts=Alert.attempts + 1)
    )
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def _finish(engine: Engine, alert_id: int, sender_id: str, **values: object) -> bool:
    stmt = (
        update(Alert)
        .where(col(Alert.id) == alert_id, col(Alert.claimed_by) == sender_id,
               col(Alert.delivery_status) == D.claimed)
        .values(**values)
    )
    with engine.begin() as conn:
        done = conn.execute(stmt).rowcount == 1
    if not done:
        log.warning("alert %s: claim was taken over by another sender before it was marked", alert_id)
    return done


def send_pending(
    engine: Engine,
    config: Config | AlertsConfig,
    env: Mapping[str, str] | None = None,
    *,
    now: datetime | None = None,
    sender_id: str | None = None,
) -> DeliveryReport:
    """Deliver every alert that is pending, failed and due again, or stuck in a stale claim.

    Returns a :class:`DeliveryReport`. A send failure (SMTP down, refused login, no
    recipients, unwritable outbox) is recorded on the row and in the report, never raised;
    database errors propagate.
    """
    cfg = config.alerts if isinstance(config, Config) else config
    env = os.environ if env is None else env
    now = now or utcnow()
    sender_id = sender_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    report = DeliveryReport(outbox_dir=cfg.outbox_dir if cfg.smtp is None else None)
    channel = EmailChannel(cfg, env, now=now)
    with session_scope(engine) as session:
        ids = session.exec(
            select(Alert.id).where(_due(now, cfg.max_attempts))
            .order_by(col(Alert.severity).desc(), col(Alert.id))
        ).all()
    for alert_id in ids:
        assert alert_id is not None
        if not claim(engine, alert_id, sender_id, now, cfg.max_attempts):
            report.skipped.append(alert_id)
            continue
        with session_scope(engine) as session:
            alert = session.get(Alert, alert_id)
            assert alert is not None
            brand = session.get(Brand, alert.brand_id)
        try:
            where = channel.notify(alert, brand.name if brand else f"brand {alert.brand_id}")
            if cfg.smtp is None:
                report.files.append(Path(where))
        except TransportError as err:
            cause = err.__cause__ if err.__cause__ is not None else err
            error = f"{type(cause).__name__}: {cause}"[:500]
            gave_up = alert.attempts >= cfg.max_attempts
            if gave_up:
                error = f"gave up after {alert.attempts} attempts; last: {error}"[:500]
            log.warning("alert %s: delivery attempt %d failed: %s", alert_id, alert.attempts, error)
            _finish(engine, alert_id, sender_id, delivery_status=D.failed, last_error=error,
                    next_attempt_at=now + backoff(alert.attempts))
            report.failed[alert_id] = error
            continue
        if _finish(engine, alert_id, sender_id, delivery_status=D.sent, sent_at=now):
            report.sent.append(alert_id)
    return report
