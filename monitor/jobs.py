"""The scheduled jobs as plain functions: each runs once from the CLI or from the scheduler.

Each returns a short summary line and raises nothing it can handle: the scheduler logs
what it returns, the CLI prints it.
"""

from __future__ import annotations

import logging
import threading

from monitor.collect import CollectReport, collect_source, paused
from monitor.context import App

log = logging.getLogger(__name__)


def collect(app: App, source: str, *, stop: threading.Event | None = None, force: bool = False) -> CollectReport:
    """Collect from ``source`` unless it is paused (``force`` runs it anyway)."""
    reason = None if force else paused(app, source)
    if reason:
        log.info("collect %s: skipped, paused: %s", source, reason)
        return CollectReport(source=source, status="paused", message=reason)
    report = collect_source(app, source, stop=stop)
    r = report.result
    log.info("collect %s: %s, %d new, %d duplicate, %d unmatched", source, report.status,
             r.stored, r.duplicates, r.unmatched)
    return report


def score(app: App, *, progress: bool = False, limit: int | None = None) -> int:
    """Score every mention without a score; returns how many were scored."""
    from monitor.scoring import score_pending

    n = score_pending(app.engine, app.scorer, batch_size=max(app.config.model.batch_size, 256),
                      limit=limit, progress=progress)
    log.info("score: %d mentions scored with %s", n, app.scorer.version)
    return n


def detect(app: App) -> str:
    """Run escalation rules and spike detection; returns a summary line."""
    from monitor.detect import run_detection

    report = run_detection(app.engine, app.config)
    log.info("detect: %s", report)
    return str(report)


def send_alerts(app: App) -> str:
    """Deliver pending alert emails; returns a summary line."""
    from monitor.delivery import send_pending

    report = send_pending(app.engine, app.config, app.env)
    log.info("send-alerts: %s", report)
    return str(report)
