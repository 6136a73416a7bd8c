"""The lab's commands: `monitor demo`, `monitor bench`, `monitor backtest`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from monitor.cli import command


def _console() -> Any:
    """rich's console, imported when a command prints (so `monitor --help` stays fast)."""
    from rich.console import Console

    return Console()


@command()
@click.option("--workspace", type=click.Path(file_okay=False, path_type=Path), default=Path("demo"),
              show_default=True, help="Folder for the demo's config, database and outbox.")
@click.option("--port", default=8501, show_default=True, help="Dashboard port.")
@click.option("--days", default=28, show_default=True, type=click.IntRange(3, 90),
              help="Days of history to generate (a new workspace only).")
@click.option("--no-dashboard", is_flag=True, help="Prepare the workspace, then exit.")
def demo(workspace: Path, port: int, days: int, no_dashboard: bool) -> None:
    """Four weeks of demo history, scored, flagged and alerted; then the dashboard."""
    from monitor.lab.demo import prepare

    console = _console()
    result = prepare(workspace.resolve(), console, days=days, port=port)
    emails = sorted(result.outbox.glob("*.eml"))
    console.print(f"demo: {'reused' if result.reused else 'created'} workspace {workspace}: "
                  f"{result.mentions:,} mentions, {result.escalations} escalations, {result.alerts} alert(s)")
    for eml in emails:
        console.print(f"demo: alert email written to {eml}")
    if no_dashboard:
        return
    console.print(f"demo: dashboard at http://127.0.0.1:{port}  (login off: this machine only; Ctrl-C stops it)")
    from dashboard.launch import serve

    raise SystemExit(serve(result.config_path, port=port, address="127.0.0.1"))


@command()
@click.option("--quick", is_flag=True, help="Small sizes, to check the command works (figures not comparable).")
@click.option("--million-db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to keep the 1,000,000-mention database between runs (default: a temp file).")
@click.option("--ten-million-db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to keep the 10,000,000-mention database between runs (default: a temp file; about 6 GB).")
@click.option("--pg-url", default=None, metavar="URL",
              help="A PostgreSQL database to measure ingest and scorer processes on; its public schema is dropped "
                   "and refilled. Without it those figures are left out.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the figures to this JSON file.")
def bench(quick: bool, million_db: Path | None, ten_million_db: Path | None, pg_url: str | None,
          json_out: Path | None) -> None:
    """Print scoring, ingest, dashboard-query, worker, alert-latency and memory figures for this machine."""
    from datetime import UTC, datetime

    from rich.table import Table

    from monitor.lab.bench import load, machine, run_all

    console = _console()
    started, at_start = datetime.now(UTC), load()
    rows = run_all(million_db=million_db, ten_million_db=ten_million_db, pg_url=pg_url, quick=quick)
    at_end = load()
    table = Table(title=f"monitor bench, {started:%Y-%m-%d %H:%M} UTC, {machine()}; at the start: {at_start}"
                  + (" (quick: not comparable)" if quick else ""), caption=f"at the end: {at_end}")
    for col in ("measure", "batch", "value", "unit"):
        table.add_column(col, justify="right" if col in ("batch", "value") else "left")
    for r in rows:
        value = "n/a" if r["value"] is None else f"{r['value']:,.1f}"
        table.add_row(r["what"], str(r["batch"]), value, r["unit"])
    console.print(table)
    if json_out:
        json_out.write_text(json.dumps({"machine": machine(), "date": started.isoformat(), "load_at_start": at_start,
                                        "load_at_end": at_end, "rows": rows}, indent=2), encoding="utf-8")


@command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the alerts and escalations (or, with --suite, the suite's figures) to this file.")
@click.option("--suite", is_flag=True, help="Run the scenario suite instead of replaying FILE.")
@click.option("--worlds", default=5, show_default=True, type=click.IntRange(1, 100),
              help="--suite: how many worlds (15 brand-weeks each).")
@click.option("--seed", default=1000, show_default=True,
              help="--suite: the first world's seed (worlds use seed, seed+1, ...).")
@click.option("--history-days", default=14, show_default=True, type=click.IntRange(3, 60),
              help="--suite: days of history before each world's evaluation week.")
@click.option("--detector", default=None, metavar="MODULE:FUNCTION",
              help="--suite: another detector to score on the same worlds (default monitor.spikes:detect_spikes).")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="--suite: the shared data folder (default ../shared/data).")
@click.pass_obj
def backtest(ctx: object, file: Path | None, json_out: Path | None, suite: bool, worlds: int, seed: int,
             history_days: int, detector: str | None, data_dir: Path | None) -> None:
    """Replay a timestamped mention file through scoring and detection as if live; print every alert.

    With --suite, generate synthetic weeks of real tweets with planted storms and artefacts
    and print detection rate, delay and false alarms per case family.
    """
    from rich.console import Console

    app = ctx.app  # type: ignore[attr-defined]  # the model loads only when something needs scoring
    console = _console()
    if suite:
        from monitor.lab.scenario_run import load_detector, print_suite, run_suite, suite_json
        from monitor.lab.scenario_texts import scored_pool

        if data_dir is None:
            from models.data import shared_data_dir

            data_dir = shared_data_dir()
        found = load_detector(detector)
        console.print(f"suite: scoring the text pool with {app.config.model.name!r} (cached after the first run) ...")
        pool = scored_pool(data_dir, app.scorer)
        report = run_suite(pool, app.config, range(seed, seed + worlds), history_days=history_days,
                           detector=found, console=console)
        print_suite(report, Console(width=max(console.width, 140)))
        if json_out:
            json_out.write_text(json.dumps(suite_json(report), indent=2) + "\n", encoding="utf-8")
        return
    if file is None:
        raise click.UsageError("give a FILE to replay, or --suite")
    from monitor.lab.backtest import backtest as run_backtest
    from monitor.lab.backtest import print_backtest, write_json

    report = run_backtest(file, app)
    print_backtest(report, console)
    if json_out:
        write_json(report, json_out)
