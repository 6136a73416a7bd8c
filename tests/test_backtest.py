"""Backtest: replay a small generated file as if live and report the alerts it would have sent."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from rich.console import Console

from monitor.cli import cli
from monitor.lab.backtest import BacktestError, backtest, print_backtest
from tests.conftest import write_config
from tests.fixtures_alerts import T0, daily_weekly_rate, make_config

STORM = T0 + timedelta(days=7, hours=14)


class KeywordScorer:
    """Stands in for the model on unlabelled rows (the model is not what is tested here)."""

    version = "keywords"

    def score(self, texts: list[str]) -> list[Any]:
        out = []
        for text in texts:
            neg = 0.95 if any(w in text for w in ("late", "down", "broken")) else 0.05
            out.append(SimpleNamespace(label="negative" if neg > 0.5 else "neutral", p_negative=neg,
                                       p_neutral=1 - neg, p_positive=0.0))
        return out


def rows(days: int = 9, storm: bool = True) -> list[dict[str, Any]]:
    rng = np.random.default_rng(3)
    rate = daily_weekly_rate(3.0)
    out: list[dict[str, Any]] = []
    t = T0
    while t < T0 + timedelta(days=days):
        for label, n in (("negative", rng.poisson(rate(t))), ("neutral", rng.poisson(2 * rate(t)))):
            for off in sorted(rng.uniform(0, 3600, size=n)):
                row = {"id": f"r{len(out)}", "created_at": (t + timedelta(seconds=float(off))).isoformat() + "Z",
                       "text": "acme order late again" if label == "negative" else "acme shipped my order",
                       "author": f"u{len(out)}", "url": f"https://x.test/{len(out)}"}
                if len(out) % 10:  # one row in ten has no label: the scorer scores it
                    row["label"] = label
                out.append(row)
        t += timedelta(hours=1)
    if storm:
        for i in range(40):
            out.append({"id": f"s{i}", "created_at": (STORM + timedelta(minutes=i)).isoformat() + "Z",
                        "text": f"acme app down, checkout broken #{i}", "author": f"angry{i}",
                        "author_reach": 100 * i, "url": f"https://x.test/s{i}", "label": "negative",
                        "conversation_id": "thread-1"})
    return out


def write_jsonl(path: Path, data: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in data), encoding="utf-8")
    return path


def test_backtest_replays_a_file_and_reports_the_storm_once(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "history.jsonl", rows())
    report = backtest(path, make_config(), KeywordScorer())
    assert report.mentions == report.stored > 1000
    assert report.model_scored > 0 and report.labelled > 0
    assert report.steps >= 9 * 24
    [alert] = report.alerts
    assert alert.brand == "Acme" and alert.kind == "negative_volume"
    assert alert.window_start == STORM and STORM < alert.sent_at <= STORM + 2 * timedelta(hours=1)
    assert alert.observed >= 40 and alert.closed_at is not None
    assert any(w in term.split() for term in alert.rising_terms for w in ("down", "broken"))  # words or phrases
    monday = (STORM - timedelta(days=STORM.weekday())).date()
    assert report.per_brand_week == {("Acme", monday): 1}
    assert report.escalations >= 1  # the storm thread ("down", "broken") needs a human
    console = Console(record=True, width=160)
    print_backtest(report, console)
    text = console.export_text()
    assert "1 alert(s) that would have been sent" in text and "Acme" in text
    assert f"{alert.sent_at:%Y-%m-%d %H:%M}" in text


def test_backtest_reads_csv_and_quiet_history_sends_nothing(tmp_path: Path) -> None:
    data = [r for r in rows(days=3, storm=False) if "label" in r]
    path = tmp_path / "quiet.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "created_at", "text", "author", "url", "label"])
        writer.writeheader()
        writer.writerows(data)
    report = backtest(path, make_config(), None, bucket=timedelta(hours=2))
    assert report.bucket == timedelta(hours=2) and report.alerts == [] and report.per_brand_week == {}
    assert report.labelled == report.stored == len(data) and report.model_scored == 0
    console = Console(record=True, width=160)
    print_backtest(report, console)
    assert "No alerts" in console.export_text()


def test_unlabelled_rows_without_a_scorer_are_refused(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [{"id": "1", "text": "acme", "created_at": "2026-11-02T00:00:00Z"}])
    with pytest.raises(BacktestError, match="scorer"):
        backtest(path, make_config(), None)
    with pytest.raises(BacktestError, match="no valid mentions"):
        backtest(write_jsonl(tmp_path / "empty.jsonl", []), make_config(), None)


def test_backtest_time_is_the_files_time(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "h.jsonl", rows(days=1, storm=False))
    report = backtest(path, make_config(), KeywordScorer())
    assert report.start == datetime(2026, 11, 2, 0, 0) and report.end is not None
    assert report.end <= datetime(2026, 11, 3, 1, 0)


def test_backtest_json_lists_the_alerts_and_escalations_for_scripts(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "history.jsonl", rows())
    out = tmp_path / "result.json"
    result = CliRunner().invoke(cli, ["-c", str(write_config(tmp_path, brands=[
        {"name": "Acme", "keywords": ["acme"], "handles": ["@acme"]}])), "backtest", str(path), "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    [alert] = data["alerts"]
    assert {"brand", "kind", "sent_at", "window_start", "window_end", "observed", "expected", "severity"} <= set(alert)
    assert alert["brand"] == "Acme" and alert["window_start"] == STORM.isoformat()
    assert datetime.fromisoformat(alert["sent_at"]) <= STORM + 2 * timedelta(hours=1)
    assert alert["summary"].startswith("4") and " people; usually " in alert["summary"]
    assert data["escalations"], "the storm's thread needs a human"
    first = data["escalations"][0]
    assert set(first) == {"platform", "native_id", "brand", "severity", "priority", "reasons"}
    assert first["brand"] == "Acme" and first["platform"] == "file" and first["reasons"]
