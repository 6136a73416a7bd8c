"""The detection job: escalation rules, then spike detection, in one call the scheduler and CLI share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine

from monitor.config import Config
from monitor.db import Alert, utcnow
from monitor.escalations import flag_escalations
from monitor.spikes import detect_spikes


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
    now = now or utcnow()
    report = DetectReport(ran_at=now)
    report.new_escalations = flag_escalations(engine, config, now=now)
    for alert in detect_spikes(engine, config, now=now):
        (report.new_alerts if alert.created_at == now else report.updated_alerts).append(alert)
    return report
