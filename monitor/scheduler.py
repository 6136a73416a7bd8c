"""Wiring only: APScheduler 3.x runs the jobs in monitor.jobs at their intervals.

One instance of a job at a time, missed runs coalesced into one, and a clean stop on
SIGINT/SIGTERM: no new job starts, running collectors stop between pages (each page is
one transaction, so no batch is half-written), and the process waits for them.

A process runs every role or only some (``monitor run --only score``): :data:`monitor.roles.ROLES` names
them, so a deployment can run collectors, scorers, detection and delivery as separate
processes (or machines) against one PostgreSQL.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from monitor import jobs
from monitor.context import App
from monitor.roles import ROLES
from monitor.store import utcnow

log = logging.getLogger(__name__)


def build_scheduler(app: App, stop: threading.Event, roles: Sequence[str] = ROLES) -> BackgroundScheduler:
    """A scheduler with the jobs of ``roles``: a job per enabled source (collect), score, detect and
    send-alerts (deliver)."""
    sched = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        timezone="UTC",
    )
    cfg = app.config
    now = utcnow()

    def add(job_id: str, func: Callable[..., Any], every: timedelta, *args: Any, **kwargs: Any) -> None:
        sched.add_job(logged, "interval", args=(job_id, func, *args), kwargs=kwargs, id=job_id, name=job_id,
                      seconds=every.total_seconds(), next_run_time=now)

    if "collect" in roles:
        for name, source in cfg.sources.enabled().items():
            add(f"collect:{name}", jobs.collect, source.interval, app, name, stop=stop)
    if "score" in roles:
        add("score", _scoring(), cfg.model.interval, app)
    if "detect" in roles:
        add("detect", jobs.detect, cfg.spikes.interval, app)
    if "deliver" in roles:
        add("send-alerts", jobs.send_alerts, cfg.alerts.interval, app)

    def on_error(event: JobExecutionEvent) -> None:
        log.error("job %s failed: %s", event.job_id, event.exception)

    sched.add_listener(on_error, EVENT_JOB_ERROR)
    return sched


def _scoring() -> Callable[[App], int]:
    """The scoring job: its first run searches every mention for a backlog, later ones start near
    the newest scored mention (:func:`monitor.store.claims.scan_floor`)."""
    ran = threading.Event()

    def score(app: App) -> int:
        full = not ran.is_set()
        n = jobs.score(app, full=full)
        ran.set()
        return n

    return score


def logged(job_id: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one job and log its one result line (a warning when it failed); returns the result."""
    result = func(*args, **kwargs)
    failed = bool(getattr(result, "failed", False)) or getattr(result, "status", "ok") != "ok"
    line = str(result) if job_id.startswith("collect:") else f"{job_id}: {result}"
    log.log(logging.WARNING if failed else logging.INFO, "%s", line)
    return result


def run_forever(app: App, *, stop: threading.Event | None = None, install_signals: bool = True,
                roles: Sequence[str] = ROLES) -> None:
    """Start the scheduler with the jobs of ``roles`` and block until ``stop`` is set or SIGINT/SIGTERM arrives."""
    stop = stop or threading.Event()
    if install_signals:
        def handle(signum: int, _frame: Any) -> None:
            log.info("received %s: finishing running jobs, then stopping", signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGINT, handle)
        signal.signal(signal.SIGTERM, handle)
    sched = build_scheduler(app, stop, roles)
    gc.collect()
    gc.freeze()  # what start-up loaded lives as long as the process: full collections stop re-scanning it
    sched.start()
    log.info("scheduler started with jobs: %s", ", ".join(j.id for j in sched.get_jobs()))
    try:
        while not stop.wait(1.0):
            pass
    finally:
        sched.shutdown(wait=True)
        gc.unfreeze()  # a process that goes on (a test, an embedding program) collects them again
        log.info("scheduler stopped cleanly")
