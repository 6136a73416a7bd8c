"""The scheduler: a job per enabled source plus the pipeline jobs; clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from monitor.scheduler import build_scheduler, run_forever
from monitor.store import Mention, SourceState
from tests.conftest import write_config


def test_jobs_and_their_settings(app: Any) -> None:
    sched = build_scheduler(app, threading.Event())
    sched.start(paused=True)  # job defaults are applied when jobs are added to a started scheduler
    jobs = {j.id: j for j in sched.get_jobs()}
    sched.shutdown(wait=False)
    assert set(jobs) == {"collect:file", "score", "detect", "send-alerts"}
    for job in jobs.values():
        assert job.max_instances == 1 and job.coalesce is True
    assert jobs["collect:file"].trigger.interval.total_seconds() == 60


def test_run_forever_collects_and_stops_when_asked(app: Any, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.jsonl").write_text(
        "\n".join(json.dumps({"id": str(i), "text": f"Acme thing {i}", "created_at": "2026-11-01T00:00:00Z"})
                  for i in range(30)), encoding="utf-8")
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(app,), kwargs={"stop": stop, "install_signals": False})
    thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with Session(app.engine) as s:
            state = s.get(SourceState, "file")
            if state and state.runs:
                break
        time.sleep(0.1)
    stop.set()
    thread.join(timeout=60)
    assert not thread.is_alive()
    with Session(app.engine) as s:
        assert s.execute(select(func.count()).select_from(Mention)).scalar_one() == 30


def test_sigterm_stops_the_daemon_cleanly(tmp_path: Path) -> None:
    config = write_config(tmp_path, model={"name": str(tmp_path / "no-model-here")})
    env = {**os.environ, "MONITOR_LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "scheduler started" in line:
                break
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        lines.append(out)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = "".join(lines)
    assert proc.returncode == 0, output
    assert "received SIGTERM" in output and "scheduler stopped cleanly" in output
