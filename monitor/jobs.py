"""The scheduled jobs as plain functions: each runs once from the CLI or from the scheduler.

Each returns a short summary line and raises nothing it can handle: the scheduler logs
what it returns, the CLI prints it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine

from monitor.config import Config
from monitor.context import App
from monitor.ingest.collect import CollectReport, collect_source, paused
from monitor.store import Alert, utcnow

log = logging.getLogger(__name__)


def collect(app: App, source: str, *, stop: threading.Event | None = None, force: bool = False) -> CollectReport:
    """Collect from ``source`` unless it is paused (``force`` runs it anyway)."""
    reason = None if force else paused(app, source)
    if reason:
        log.info("collect %s: skipped, paused: %s", source, reason)
        return CollectReport(source=source, status="paused", message=reason)
    report = collect_source(app, source, stop=stop)
    r = report.result
    log.info("collect %s: %s, %d new, %d duplicate, %d unmatched, %d dropped for language", source,
             report.status, r.stored, r.duplicates, r.unmatched, r.language_dropped)
    return report


def score(app: App, *, progress: bool = False, limit: int | None = None) -> int:
    """Score every mention without a score; returns how many were scored."""
    from monitor.scoring import score_pending

    n = score_pending(app.engine, app.scorer, batch_size=max(app.config.model.batch_size, 256),
                      limit=limit, progress=progress)
    log.info("score: %d mentions scored with %s", n, app.scorer.version)
    return n


@dataclass
class DetectReport:
    """What one detection run did: new escalations, and alerts created (new) or changed (updated)."""

    ran_at: datetime
    new_escalations: int = 0
    new_alerts: list[Alert] = field(default_factory=list)
    updated_alerts: list[Alert] = field(default_factory=list)

    @property
    def alerts(self) -> list[Alert]:
        return [*self.new_alerts, *self.updated_alerts]

    def __str__(self) -> str:
        closed = sum(1 for a in self.updated_alerts if not a.is_open)
        return (f"{self.new_escalations} new escalation(s), {len(self.new_alerts)} new alert(s), "
                f"{len(self.updated_alerts) - closed} updated, {closed} closed")


def run_detection(engine: Engine, config: Config, *, now: datetime | None = None) -> DetectReport:
    """Flag escalations, then detect spikes, both as of ``now``; returns a :class:`DetectReport`.

    An alert counts as new when this run created it (it is then pending delivery). Database
    errors propagate; each step commits on its own, so a failed spike step keeps the
    escalations already flagged.
    """
    from monitor.escalations import flag_escalations
    from monitor.spikes import detect_spikes

    now = now or utcnow()
    report = DetectReport(ran_at=now)
    report.new_escalations = flag_escalations(engine, config, now=now)
    for alert in detect_spikes(engine, config, now=now):
        (report.new_alerts if alert.created_at == now else report.updated_alerts).append(alert)
    return report


def detect(app: App) -> str:
    """Run escalation rules and spike detection; returns a summary line."""
    report = run_detection(app.engine, app.config)
    log.info("detect: %s", report)
    return str(report)


def send_alerts(app: App) -> str:
    """Deliver pending alert emails; returns a summary line."""
    from monitor.alerts import send_pending

    report = send_pending(app.engine, app.config, app.env)
    log.info("send-alerts: %s", report)
    return str(report)
