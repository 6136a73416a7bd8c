"""The commands that run jobs and look after the store: init, db, check-config, run, collect, score,
rescore, detect, send-alerts, status, dashboard, add-user."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from monitor.cli import Ctx, MonitorGroup, command, pass_ctx
from monitor.roles import ROLES


def table(title: str, columns: tuple[str, ...]) -> Any:
    """A rich table with ``columns`` (rich is imported when a command prints one)."""
    from rich.table import Table

    t = Table(title=title)
    for col in columns:
        t.add_column(col, overflow="fold")
    return t


def show(renderable: Any) -> None:
    """Print a rich renderable to stdout."""
    from rich.console import Console

    Console().print(renderable)


@command("check-config")
@pass_ctx
def check_config(ctx: Ctx) -> None:
    """Validate config.yaml and print the effective config, secrets and URL passwords masked."""
    import yaml

    from monitor.config import masked_dump

    click.echo(yaml.safe_dump(masked_dump(ctx.app.config, ctx.app.env), sort_keys=False, allow_unicode=True))
    click.echo(f"# {ctx.config_path}: OK", err=True)


@click.group(cls=MonitorGroup)
def db() -> None:
    """Database schema commands."""


db.monitor_command = True  # type: ignore[attr-defined]


@db.command("rebuild-rollups")
@click.option("--check", is_flag=True, help="Only compare the rollups with a recount; exit 1 if they differ.")
@pass_ctx
def db_rebuild_rollups(ctx: Ctx, check: bool) -> None:
    """Recount the rollups (the dashboard's and detection's counts) from the stored mentions.

    Safe while collectors and scorers run: they wait for the rebuild's transaction. With --check,
    print up to 20 differing rows and exit 1 if any differ, changing nothing.
    """
    import time

    from monitor.store.rollup_rebuild import differences, rebuild

    app = ctx.app_with_database()
    if check:
        found = 0
        for d in differences(app.engine):
            found += 1
            if found <= 20:
                click.echo(f"{d.table} {d.key}: stored {d.stored}, recounted {d.recounted}")
        click.echo(f"{found} rollup row(s) differ from a recount" + ("; run `monitor db rebuild-rollups`"
                                                                    if found else ""))
        sys.exit(1 if found else 0)
    started = time.perf_counter()
    written = rebuild(app.engine)
    click.echo(f"rollups rebuilt in {time.perf_counter() - started:.1f}s: "
               + ", ".join(f"{n:,} {name} rows" for name, n in written.items()))


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
    from monitor.text import mask_url

    app = ctx.app
    upgrade(app.config.database.url)
    with session_scope(app.engine) as session:
        sync_brands(session, app.config.brands)
    inbox = Path(app.config.sources.file.path)
    (inbox.parent if inbox.suffix else inbox).mkdir(parents=True, exist_ok=True)
    Path(app.config.alerts.outbox_dir).mkdir(parents=True, exist_ok=True)
    click.echo(f"initialised {mask_url(app.config.database.url)} with {len(app.config.brands)} brand(s)")


@command()
@click.option("--once", is_flag=True, help="Run every job once, in order, then exit.")
@click.option("--only", "only", multiple=True, type=click.Choice(ROLES),
              help="Run only this role (repeat for several): collect, score, detect or deliver. "
                   "Several processes may run the same role on one PostgreSQL (see README, Deployment).")
@pass_ctx
def run(ctx: Ctx, once: bool, only: tuple[str, ...]) -> None:
    """Start the scheduler: collectors, scoring, detection and alert delivery at their intervals."""
    from monitor import jobs
    from monitor.cli.console import configure_logging
    from monitor.scheduler import run_forever
    from monitor.store.migrate import upgrade

    app = ctx.app
    roles = only or ROLES
    upgrade(app.config.database.url)
    if once:
        failed = False
        if "collect" in roles:
            for name in app.config.sources.enabled():
                report = jobs.collect(app, name)
                click.echo(report)
                failed |= report.failed
        if "score" in roles:
            click.echo(f"scored {jobs.score(app)} mention(s)")
        if "detect" in roles:
            click.echo(f"detect: {jobs.detect(app)}")
        if "deliver" in roles:
            delivery = jobs.send_alerts(app)
            click.echo(f"send-alerts: {delivery}")
            failed |= bool(delivery.failed)
        sys.exit(1 if failed else 0)
    configure_logging(ctx.log_level, daemon=True)
    click.echo(f"monitor running ({', '.join(roles)}); Ctrl-C or SIGTERM stops it cleanly", err=True)
    run_forever(app, roles=roles)


@command()
@click.argument("source", required=False)
@click.option("--dry-run", is_flag=True, help="Print what would be stored; store nothing.")
@pass_ctx
def collect(ctx: Ctx, source: str | None, dry_run: bool) -> None:
    """Collect once from SOURCE (default: every enabled source).

    Exits 1 when a source failed, or when SOURCE was named and could not run (a missing
    credential, say); a rejected item is not a failure (`monitor rejected` lists them).
    """
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
            click.echo(report)
        failed |= report.failed or (source is not None and report.status != "ok")
    sys.exit(1 if failed else 0)


def _print_preview(report: Any) -> None:
    t = table(f"{report.source}: {len(report.preview)} mention(s) would be stored",
              ("created", "platform", "author", "brands", "text"))
    for m, hit in report.preview:
        t.add_row(f"{m.created_at:%Y-%m-%d %H:%M}", m.platform, m.author, ", ".join(hit), m.full_text[:200])
    show(t)
    if report.result.rejected:
        click.echo(f"{report.source}: {report.result.rejected} item(s) would be rejected", err=True)
    if report.status != "ok":
        click.echo(f"{report.source}: {report.status}: {report.message}", err=True)


@command()
@click.option("--limit", type=int, default=None, help="Score at most this many.")
@pass_ctx
def score(ctx: Ctx, limit: int | None) -> None:
    """Score every mention that has no sentiment yet."""
    from monitor import jobs

    app = ctx.app_with_database()
    click.echo(f"scored {jobs.score(app, progress=True, limit=limit)} mention(s)")


@command()
@pass_ctx
def rescore(ctx: Ctx) -> None:
    """Re-score mentions scored by another model version (after a model change)."""
    from monitor.scoring import rescore as do_rescore

    app = ctx.app_with_database()
    n = do_rescore(app.engine, app.models, batch_size=max(app.config.model.batch_size, 256), progress=True)
    click.echo(f"re-scored {n} mention(s) with {app.scorer.version}")


@command()
@pass_ctx
def detect(ctx: Ctx) -> None:
    """Run escalation rules and spike detection once."""
    from monitor import jobs

    click.echo(jobs.detect(ctx.app_with_database()))


@command("send-alerts")
@pass_ctx
def send_alerts(ctx: Ctx) -> None:
    """Deliver pending alert emails once (SMTP, or the outbox folder when none is configured).

    Exits 1 when a delivery failed (it is retried later, see `monitor status`).
    """
    from monitor import jobs

    report = jobs.send_alerts(ctx.app_with_database())
    click.echo(report)
    sys.exit(1 if report.failed else 0)


@command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def status(ctx: Ctx, as_json: bool) -> None:
    """Per source: last run, last error, mentions collected, rejected items; plus the unscored backlog."""
    from monitor.status import gather

    app = ctx.app_with_database()
    data = gather(app)
    if as_json:
        click.echo(json.dumps(data, default=str, indent=2))
        return
    t = table("Sources", ("source", "enabled", "last run (UTC)", "last success", "collected", "rejected",
                          "last error / pause"))

    def when(dt: Any) -> str:
        return f"{dt:%Y-%m-%d %H:%M:%S}" if dt else ""

    for s in data["sources"]:
        t.add_row(s["name"], "yes" if s["enabled"] else "no", when(s["last_run_at"]) or "never",
                  when(s["last_success_at"]) or "-", str(s["mentions_collected"]), str(s["rejected"]),
                  s["paused_reason"] or s["last_error"] or "")
    show(t)
    n = data["totals"]
    click.echo(f"mentions: {n['mentions']}  unscored backlog: {n['unscored']}  "
               f"open escalations: {n['open_escalations']}  open alerts: {n['open_alerts']}  "
               f"undelivered alerts: {n['undelivered_alerts']}  rejected items: {n['rejected']}"
               + ("  (see `monitor rejected`)" if n["rejected"] else ""))
    e = data["escalations_7d"]

    def took(seconds: float | None) -> str:
        return "-" if seconds is None else f"{seconds / 60:.0f} min"

    click.echo(f"escalations flagged in 7 days: {e['flagged']} ({e['by_status']['dismissed']} dismissed)  "
               f"acknowledge median/p90: {took(e['time_to_acknowledge_median_s'])}/"
               f"{took(e['time_to_acknowledge_p90_s'])}  resolve median/p90: {took(e['time_to_resolve_median_s'])}/"
               f"{took(e['time_to_resolve_p90_s'])}")


def is_loopback(address: str) -> bool:
    """Whether ``address`` only listens on this machine (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if address.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


@command()
@click.option("--port", default=8501, show_default=True)
@click.option("--address", default="127.0.0.1", show_default=True,
              help="Where to listen; anything but loopback needs dashboard.auth (login) on.")
@pass_ctx
def dashboard(ctx: Ctx, port: int, address: str) -> None:
    """Start the Streamlit dashboard (login required unless dashboard.auth.enabled is false on loopback)."""
    import os

    from dashboard.auth import load_users
    from dashboard.launch import serve
    from monitor.errors import UsageError

    auth = ctx.app.config.dashboard.auth
    if not auth.enabled and not is_loopback(address):
        raise UsageError(f"refusing to serve the dashboard on {address} without login: anyone who reaches the port "
                         "could read every mention; set dashboard.auth.enabled: true and add users with `monitor "
                         "add-user`, or serve on --address 127.0.0.1")
    if auth.enabled and not load_users(auth, os.environ):
        raise UsageError("dashboard.auth is on but no user is configured: add one with `monitor add-user NAME "
                         "--role agent` (or set dashboard.auth.enabled: false to run it on loopback only)")
    click.echo(f"dashboard: http://{address}:{port}" + ("" if auth.enabled else " (login off: this machine only)"))
    raise SystemExit(serve(Path(ctx.config_path), port=port, address=address))


@command("add-user")
@click.argument("username")
@click.option("--role", type=click.Choice(["agent", "read_only"]), default="agent", show_default=True,
              help="agent: may act on alerts, escalations and mentions; read_only: may only look.")
@click.option("--name", "display", default=None, help="The name shown in the dashboard (default: USERNAME).")
@click.option("--users-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Default: dashboard.auth.users_file from the config.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
@pass_ctx
def add_user(ctx: Ctx, username: str, role: str, display: str | None, users_file: Path | None,
             password_stdin: bool) -> None:
    """Add (or change) a dashboard user: the password is stored only as a bcrypt hash."""
    import os

    import bcrypt
    import yaml

    from dashboard.auth import parse_users
    from monitor.errors import UsageError

    path = users_file or ctx.app.config.dashboard.auth.users_file
    if path is None:
        raise UsageError("no users file: set dashboard.auth.users_file in config.yaml, or pass --users-file PATH")
    password = (sys.stdin.readline().rstrip("\n") if password_stdin
                else click.prompt("Password", hide_input=True, confirmation_prompt=True))
    if len(password) < 8:
        raise UsageError("the password is too short: use at least 8 characters")
    text = path.read_text(encoding="utf-8") if path.exists() else "users: {}\n"
    users = parse_users(text, str(path)) if path.exists() else {}
    users[username] = {"name": display or users.get(username, {}).get("name") or username, "role": role,
                       "password_hash": bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()}
    out = yaml.safe_dump({"users": users}, sort_keys=True, allow_unicode=True)
    parse_users(out, str(path))  # the username and role are checked before anything is written
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(out, encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    click.echo(f"{username} ({role}) saved in {path}")
