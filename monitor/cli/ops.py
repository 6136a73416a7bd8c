"""The commands that run jobs and look after the store: init, db, check-config, run, collect, score,
rescore, detect, send-alerts, status, dashboard."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from monitor.cli import Ctx, MonitorGroup, command, pass_ctx
from monitor.config import masked_dump

console = Console()


@command("check-config")
@pass_ctx
def check_config(ctx: Ctx) -> None:
    """Validate config.yaml and print the effective config, secrets masked."""
    import yaml

    click.echo(yaml.safe_dump(masked_dump(ctx.app.config, ctx.app.env), sort_keys=False, allow_unicode=True))
    click.echo(f"# {ctx.config_path}: OK", err=True)


@click.group(cls=MonitorGroup)
def db() -> None:
    """Database schema commands."""


db.monitor_command = True  # type: ignore[attr-defined]


@db.command("upgrade")
@click.argument("revision", default="head")
@pass_ctx
def db_upgrade(ctx: Ctx, revision: str) -> None:
    """Apply Alembic migrations up to REVISION (default: head)."""
    from monitor.store.migrate import upgrade

    upgrade(ctx.app.config.database.url, revision)
    click.echo(f"database at revision {revision}")


@command()
@pass_ctx
def init(ctx: Ctx) -> None:
    """Create the database (migrations to head), the inbox and outbox folders, and the brands."""
    from monitor.ingest import sync_brands
    from monitor.store import session_scope
    from monitor.store.migrate import upgrade

    app = ctx.app
    upgrade(app.config.database.url)
    with session_scope(app.engine) as session:
        sync_brands(session, app.config.brands)
    inbox = Path(app.config.sources.file.path)
    (inbox.parent if inbox.suffix else inbox).mkdir(parents=True, exist_ok=True)
    Path(app.config.alerts.outbox_dir).mkdir(parents=True, exist_ok=True)
    click.echo(f"initialised {app.config.database.url} with {len(app.config.brands)} brand(s)")


@command()
@click.option("--once", is_flag=True, help="Run every job once, in order, then exit.")
@pass_ctx
def run(ctx: Ctx, once: bool) -> None:
    """Start the scheduler: collectors, scoring, detection and alert delivery at their intervals."""
    from monitor import jobs
    from monitor.scheduler import run_forever
    from monitor.store.migrate import upgrade

    app = ctx.app
    upgrade(app.config.database.url)
    if once:
        for name in app.config.sources.enabled():
            _print_collect(jobs.collect(app, name))
        click.echo(f"scored {jobs.score(app)} mention(s)")
        click.echo(f"detect: {jobs.detect(app)}")
        click.echo(f"send-alerts: {jobs.send_alerts(app)}")
        return
    click.echo("monitor running; Ctrl-C or SIGTERM stops it cleanly", err=True)
    run_forever(app)


def _print_collect(report: Any) -> None:
    r = report.result
    line = f"{report.source}: {report.status}, {r.stored} new, {r.duplicates} duplicate, {r.unmatched} unmatched"
    click.echo(line + (f" ({report.message})" if report.message else ""))


@command()
@click.argument("source", required=False)
@click.option("--dry-run", is_flag=True, help="Print what would be stored; store nothing.")
@pass_ctx
def collect(ctx: Ctx, source: str | None, dry_run: bool) -> None:
    """Collect once from SOURCE (default: every enabled source)."""
    from monitor import jobs
    from monitor.ingest.collect import collect_source
    from monitor.store.migrate import upgrade

    app = ctx.app
    names = [source] if source else list(app.config.sources.enabled())
    if not names:
        raise click.ClickException("no source is enabled; set sources.<name>.enabled: true in config.yaml")
    if not dry_run:
        upgrade(app.config.database.url)
    failed = False
    for name in names:
        report = collect_source(app, name, dry_run=True) if dry_run else jobs.collect(app, name, force=True)
        if dry_run:
            _print_preview(report)
        else:
            _print_collect(report)
        failed |= report.status in ("error", "paused")
    sys.exit(1 if failed else 0)


def _print_preview(report: Any) -> None:
    table = Table(title=f"{report.source}: {len(report.preview)} mention(s) would be stored")
    for col in ("created", "platform", "author", "brands", "text"):
        table.add_column(col, overflow="fold")
    for m, hit in report.preview:
        table.add_row(f"{m.created_at:%Y-%m-%d %H:%M}", m.platform, m.author,
                      ", ".join(hit), m.full_text[:200])
    console.print(table)
    if report.status != "ok":
        click.echo(f"{report.source}: {report.status}: {report.message}", err=True)


@command()
@click.option("--limit", type=int, default=None, help="Score at most this many.")
@pass_ctx
def score(ctx: Ctx, limit: int | None) -> None:
    """Score every mention that has no sentiment yet."""
    from monitor import jobs

    click.echo(f"scored {jobs.score(ctx.app, progress=True, limit=limit)} mention(s)")


@command()
@pass_ctx
def rescore(ctx: Ctx) -> None:
    """Re-score mentions scored by another model version (after a model change)."""
    from monitor.scoring import rescore as do_rescore

    app = ctx.app
    n = do_rescore(app.engine, app.scorer, batch_size=max(app.config.model.batch_size, 256), progress=True)
    click.echo(f"re-scored {n} mention(s) with {app.scorer.version}")


@command()
@pass_ctx
def detect(ctx: Ctx) -> None:
    """Run escalation rules and spike detection once."""
    from monitor import jobs

    click.echo(jobs.detect(ctx.app))


@command("send-alerts")
@pass_ctx
def send_alerts(ctx: Ctx) -> None:
    """Deliver pending alert emails once (SMTP, or the outbox folder when none is configured)."""
    from monitor import jobs

    click.echo(jobs.send_alerts(ctx.app))


@command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def status(ctx: Ctx, as_json: bool) -> None:
    """Per source: last run, last error, mentions collected; plus the unscored backlog."""
    from monitor.status import gather

    app = ctx.app
    data = gather(app)
    if as_json:
        click.echo(json.dumps(data, default=str, indent=2))
        return
    table = Table(title="Sources")
    for col in ("source", "enabled", "last run (UTC)", "last success", "collected", "last error / pause"):
        table.add_column(col, overflow="fold")
    def when(dt: Any) -> str:
        return f"{dt:%Y-%m-%d %H:%M:%S}" if dt else ""

    for s in data["sources"]:
        table.add_row(s["name"], "yes" if s["enabled"] else "no", when(s["last_run_at"]) or "never",
                      when(s["last_success_at"]) or "-", str(s["mentions_collected"]),
                      s["paused_reason"] or s["last_error"] or "")
    console.print(table)
    t = data["totals"]
    console.print(f"mentions: {t['mentions']}  unscored backlog: {t['unscored']}  "
                  f"open escalations: {t['open_escalations']}  open alerts: {t['open_alerts']}  "
                  f"undelivered alerts: {t['undelivered_alerts']}")
    e = data["escalations_7d"]

    def took(seconds: float | None) -> str:
        return "-" if seconds is None else f"{seconds / 60:.0f} min"

    console.print(f"escalations flagged in 7 days: {e['flagged']} ({e['by_status']['dismissed']} dismissed)  "
                  f"acknowledge median/p90: {took(e['time_to_acknowledge_median_s'])}/"
                  f"{took(e['time_to_acknowledge_p90_s'])}  resolve median/p90: {took(e['time_to_resolve_median_s'])}/"
                  f"{took(e['time_to_resolve_p90_s'])}")


@command()
@click.option("--port", default=8501, show_default=True)
@click.option("--address", default="127.0.0.1", show_default=True)
@pass_ctx
def dashboard(ctx: Ctx, port: int, address: str) -> None:
    """Start the Streamlit dashboard."""
    from dashboard.launch import serve

    ctx.app  # validate config before starting the server  # noqa: B018
    click.echo(f"dashboard: http://{address}:{port}")
    raise SystemExit(serve(Path(ctx.config_path), port=port, address=address))


