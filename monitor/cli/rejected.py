"""`monitor rejected`: the dead-letter table, listed, shown, retried after a fix, or dropped."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from monitor.cli import Ctx, MonitorGroup, pass_ctx


@click.group(cls=MonitorGroup, invoke_without_command=True)
@click.option("--source", default=None, help="Only this source's items.")
@click.option("--all", "include_resolved", is_flag=True, help="Include items already retried or dropped.")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True)
@click.pass_context
def rejected(click_ctx: click.Context, source: str | None, include_resolved: bool, limit: int) -> None:
    """Items a source delivered that could not be stored (newest first), each with its position and reason.

    Fix the cause (config.yaml, the collector, or the item itself), then `monitor rejected retry`.
    """
    if click_ctx.invoked_subcommand is not None:
        return
    from monitor.ingest.deadletter import list_rejected

    app = click_ctx.find_object(Ctx).app_with_database()
    rows = list_rejected(app.engine, source=source, include_resolved=include_resolved, limit=limit)
    if not rows:
        click.echo("no rejected items" + ("" if include_resolved else " waiting"))
        return
    for r in rows:
        state = "" if r.resolved_at is None else f" [{r.resolution} {r.resolved_at:%Y-%m-%d %H:%M}]"
        seen = f", seen {r.times_seen} times" if r.times_seen > 1 else ""
        click.echo(f"#{r.id} {r.source} {r.position}{state} (first seen {r.first_seen_at:%Y-%m-%d %H:%M} UTC{seen})")
        click.echo(f"    {r.reason}")
        preview = r.payload[:100].decode("utf-8", "backslashreplace")
        click.echo(f"    payload ({r.payload_size:,} bytes): {preview}" + ("..." if r.payload_size > 100 else ""))


rejected.monitor_command = True  # type: ignore[attr-defined]


@rejected.command("show")
@click.argument("item_id", type=int)
@pass_ctx
def show_payload(ctx: Ctx, item_id: int) -> None:
    """Write item ITEM_ID's payload to stdout, byte for byte as it was received."""
    from monitor.ingest.deadletter import get

    row = get(ctx.app_with_database().engine, item_id)
    sys.stdout.buffer.write(row.payload)
    sys.stdout.buffer.flush()


@rejected.command("retry")
@click.argument("item_ids", type=int, nargs=-1)
@click.option("--source", default=None, help="Without ids: only this source's open items.")
@click.option("--payload", "payload_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A corrected payload for the one item named (e.g. `monitor rejected show ID > row`, then edit).")
@pass_ctx
def retry_cmd(ctx: Ctx, item_ids: tuple[int, ...], source: str | None, payload_file: Path | None) -> None:
    """Parse the items again (ITEM_IDS, else every open one) and store those that now go through.

    Exits 1 when an item is still rejected.
    """
    from monitor.ingest.retry import retry

    payload = payload_file.read_bytes() if payload_file else None
    outcomes = retry(ctx.app_with_database(), item_ids, source=source, payload=payload)
    for outcome in outcomes:
        click.echo(outcome)
    still = sum(o.outcome in ("rejected", "skipped") for o in outcomes)
    click.echo(f"{len(outcomes) - still} of {len(outcomes)} item(s) went through")
    sys.exit(1 if still else 0)


@rejected.command("drop")
@click.argument("item_ids", type=int, nargs=-1, required=True)
@pass_ctx
def drop_cmd(ctx: Ctx, item_ids: tuple[int, ...]) -> None:
    """Mark items as dropped: kept in the table, no longer counted as waiting."""
    from monitor.ingest.deadletter import drop

    click.echo(f"dropped {drop(ctx.app_with_database().engine, item_ids)} item(s)")
