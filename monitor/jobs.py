"""The scheduled jobs as plain functions: each runs once from the CLI or from the scheduler.

Each returns its result, whose ``str`` is one summary line, and raises nothing it can
handle: the scheduler logs that line, the CLI prints it (neither both, so each result is
shown once).

Several instances may run the same jobs (``monitor run --only ...`` on several machines
sharing one PostgreSQL): scoring shares the backlog batch by batch (:mod:`monitor.store.claims`);
each source, detection and delivery take a lock of their own (:func:`monitor.store.locks.exclusive`)
and are skipped, with a line saying so, where another instance holds it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from monitor.config import Config
from monitor.context import App
from monitor.ingest.collect import CollectReport, collect_source, paused
from monitor.store import Alert, utcnow
from monitor.store.locks import exclusive

if TYPE_CHECKING:
    from monitor.alerts import DeliveryReport

log = logging.getLogger(__name__)


def collect(app: App, source: str, *, stop: threading.Event | None = None, force: bool = False) -> CollectReport:
    """Collect from ``source`` unless it is paused (``force`` runs it anyway) or another instance is
    collecting it (then the report's status is ``skipped``)."""
    reason = None if force else paused(app, source)
    if reason:
        return CollectReport(source=source, status="paused", message=f"not run, paused: {reason}")
    with exclusive(app.engine, f"collect:{source}") as mine:
        if not mine:
            return CollectReport(source=source, status="skipped", message="another instance is collecting it")
        return collect_source(app, source, stop=stop)


def score(app: App, *, progress: bool = False, limit: int | None = None, full: bool = True) -> int:
    """Score every mention without a score; returns how many were scored. ``full=False`` searches from
    near the newest scored mention (the daemon's runs after its first; :func:`monitor.store.claims.scan_floor`)."""
    from monitor.scoring import score_pending

    return score_pending(app.engine, app.models, batch_size=max(app.config.model.batch_size, 256),
                         limit=limit, progress=progress, full=full)


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
    """Run escalation rules and spike detection, unless another instance is; returns a summary line."""
    with exclusive(app.engine, "detect") as mine:
        if not mine:
            return "not run: another instance is detecting"
        return str(run_detection(app.engine, app.config))


def send_alerts(app: App) -> DeliveryReport:
    """Deliver pending alert emails, unless another instance is; returns the report (``failed`` names
    each failed delivery)."""
    from monitor.alerts import DeliveryReport, send_pending

    with exclusive(app.engine, "deliver") as mine:
        if not mine:
            return DeliveryReport(held_elsewhere=True)
        return send_pending(app.engine, app.config, app.env)
