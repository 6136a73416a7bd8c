"""`monitor demo` builds a working, alerted workspace and reuses it; `monitor bench` prints every figure."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli

pytestmark = pytest.mark.slow


def test_demo_builds_then_reuses_its_workspace(tmp_path: Path) -> None:
    ws = tmp_path / "demo"
    runner = CliRunner()
    first = runner.invoke(cli, ["demo", "--workspace", str(ws), "--days", "10", "--no-dashboard"])
    assert first.exit_code == 0, first.output
    assert "created workspace" in first.output and "1 alert(s)" in first.output
    emails = sorted((ws / "outbox").glob("*.eml"))
    assert len(emails) == 1
    msg = email.message_from_bytes(emails[0].read_bytes(), policy=email.policy.default)
    assert msg["Subject"].startswith("[Nimbus] Negative storm")
    escalations = int(first.output.split(" escalations")[0].rsplit(" ", 1)[-1])
    assert escalations >= 3
    again = runner.invoke(cli, ["demo", "--workspace", str(ws), "--no-dashboard"])
    assert again.exit_code == 0, again.output
    assert "reused workspace" in again.output and "generated" not in again.output
    assert f"{escalations} escalations, 1 alert(s)" in again.output
    assert len(list((ws / "outbox").glob("*.eml"))) == 1  # the alert is not sent twice


def test_bench_quick_prints_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(cli, ["bench", "--quick", "--json", str(out)])
    assert result.exit_code == 0, result.output
    import json

    rows = json.loads(out.read_text())["rows"]
    names = [r["what"] for r in rows]
    for expected in ("scoring, torch", "ingest, new", "ingest, all duplicates", "dashboard overview",
                     "dashboard trends", "arrival to alert row", "peak memory", "  SQLite ingest step: rollups",
                     "daemon `monitor run --only score`"):
        assert any(n.startswith(expected) for n in names), (expected, names)
    for size in ("5k", "20k"):  # both database sizes, the queries as they were and on the rollups
        for how in ("before (raw)", "rollups"):
            assert any(f", {size}, {how}, p95" in n for n in names), (size, how, names)
    assert all(r["value"] is not None and r["value"] > 0 for r in rows if not r["what"].startswith("scoring"))
    assert any(n.startswith("arrival to alert row") and n.endswith("alerts: 1)") for n in names), names
