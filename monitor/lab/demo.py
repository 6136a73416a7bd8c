"""`monitor demo`: a workspace with four weeks of history, scored, flagged and alerted, then the dashboard.

Run twice, it reuses the workspace (the history is generated and scored once).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import yaml
from rich.console import Console
from sqlalchemy import func, select
from sqlmodel import Session

from monitor.context import App
from monitor.lab import demodata
from monitor.store import Alert, Escalation, Mention

log = logging.getLogger(__name__)


@dataclass
class DemoResult:
    """Where the workspace is and what the run found in it."""

    config_path: Path
    mentions: int
    escalations: int
    alerts: int
    outbox: Path
    reused: bool


def write_demo_config(workspace: Path, port: int = 8501) -> Path:
    """The demo's config.yaml (SQLite file, file source, no SMTP: emails go to the outbox folder, login off
    because the demo dashboard listens on loopback only)."""
    workspace.mkdir(parents=True, exist_ok=True)
    data = {
        "brands": demodata.brand_config(),
        "sources": {"file": {"enabled": True, "interval": "1m", "path": str(workspace / "inbox")}},
        "database": {"url": f"sqlite:///{workspace / 'monitor.db'}"},
        "alerts": {"recipients": ["social-team@example.com"], "outbox_dir": str(workspace / "outbox"),
                   "dashboard_url": f"http://127.0.0.1:{port}"},
        # login off: the demo serves on loopback only (`monitor dashboard` refuses any other address)
        "dashboard": {"time_zone": "Europe/London", "auth": {"enabled": False}},
    }
    path = workspace / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _count(app: App, model: type) -> int:
    with Session(app.engine) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def prepare(workspace: Path, console: Console | None = None, *, days: int = 28, port: int = 8501) -> DemoResult:
    """Create (or reuse) the workspace, ingest and score its history, detect and write the alert email.

    Returns counts. Raises ``models`` load errors when the scorer cannot be loaded.
    """
    from monitor import jobs
    from monitor.store.migrate import upgrade

    console = console or Console(stderr=True)
    config_path = workspace / "config.yaml"
    reused = config_path.exists() and (workspace / "monitor.db").exists()
    write_demo_config(workspace, port)  # always: an older workspace gets today's keys
    app = App.from_file(config_path)
    upgrade(app.config.database.url)
    if not reused or _count(app, Mention) == 0:
        plan = demodata.generate(days=days)
        demodata.write_jsonl(plan.rows, workspace / "inbox" / "history.jsonl")
        console.print(f"demo: generated {len(plan.rows):,} mentions over {days} days; a storm hits "
                      f"{plan.storm_brand} from {plan.storm_start:%Y-%m-%d %H:%M} UTC")
        report = jobs.collect(app, "file", force=True)
        demodata.collected_as_written(app.engine)
        console.print(f"demo: stored {report.result.stored:,} mentions")
    console.print("demo: scoring with the default model ...")
    scored = jobs.score(app, progress=True)
    console.print(f"demo: scored {scored:,} mentions")
    console.print(f"demo: detection: {jobs.detect(app)}")
    console.print(f"demo: alerts: {jobs.send_alerts(app)}")
    result = DemoResult(config_path, _count(app, Mention), _count(app, Escalation), _count(app, Alert),
                        Path(app.config.alerts.outbox_dir), reused)
    app.engine.dispose()
    return result
