"""The escalation lab on real tweets scored by the shipped model: before and after, same data, same run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import parse_config
from monitor.lab.escalation_data import LabDataError, brand_config, build
from monitor.lab.escalation_lab import legacy_verdict, measure_queue, score_mentions

HANDLES = ["@acme"]


@pytest.fixture(scope="module")
def scorer() -> Any:
    from models.inference import load_scorer

    return load_scorer()


def test_the_old_rule_is_kept_as_it_was_for_comparison() -> None:
    assert legacy_verdict("@acme where is my refund", 0.75, "negative", 300, 0, None, HANDLES) == 2
    assert legacy_verdict("@acme where is my refund", 0.744, "negative", 300, 0, None, HANDLES) is None  # the cliff
    assert legacy_verdict("@acme my lawyer will call", 0.5, "negative", 0, 0, None, HANDLES) == 3
    grandma = "@acme thank you for leaving my grandma stranded. I will never fly you again"
    assert legacy_verdict(grandma, 0.09, "positive", 300, 0, None, HANDLES) is None  # sarcasm hid it


def test_a_short_run_on_real_tweets_shows_what_priorities_change(shared_data: Path, scorer: Any) -> None:
    mentions = build(shared_data, mix="care", limit=600)
    assert sum(m.gold.planted is None for m in mentions) == 600
    tune = [m for m in mentions if m.gold.part == "tune"]  # this test checks; only the report part is quoted
    scores = score_mentions(tune, scorer)
    config = parse_config({"brands": brand_config()})
    before, after = measure_queue(tune, scores, config, with_missed=True)
    assert (before.rule, after.rule) == ("before", "after")
    assert before.planted == after.planted == 280 and after.controls == 30  # sets A to E
    # the old rule misses most sarcastic complaints; the new one catches most planted complaints
    assert before.sarcastic_caught <= before.sarcastic // 2 < after.sarcastic_caught
    assert after.coverage is not None and after.coverage >= 0.85 and after.planted_caught > before.planted_caught
    assert len(after.missed) == after.planted - after.planted_caught
    # and the queue stays trustworthy and workable
    assert after.precision is not None and after.precision >= 0.85
    # (this short queue is about two thirds planted complaints, so its urgent tier is larger than a real queue's:
    # the full lab's report part measures the real one)
    assert after.top_tier_share is not None and after.top_tier_share <= 0.25 and before.top_tier <= 2
    assert after.escalated == sum(after.tiers.values()) == len(after.priorities) and before.priorities == []
    assert after.priorities == sorted(after.priorities) and after.priorities[0] >= 0
    assert after.per_day == pytest.approx(after.escalated / after.days, abs=0.1)


def test_the_command_prints_before_and_after_and_writes_json(shared_data: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"brands": [{"name": "Acme", "keywords": ["acme"]}],
                                      "database": {"url": f"sqlite:///{tmp_path / 'm.db'}"}}), encoding="utf-8")
    out = tmp_path / "lab.json"
    result = CliRunner().invoke(cli, ["-c", str(config), "escalation-lab", "--data", str(shared_data),
                                      "--mix", "care", "--limit", "120", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "Escalation queue, care mix, report part" in result.output and "goals: precision >= 0.90" in result.output
    figures = json.loads(out.read_text(encoding="utf-8"))["results"]["care"]
    assert [f["rule"] for f in figures] == ["before", "after"] and figures[1]["planted"] == 168  # sets F, G and H
    args = ["-c", str(config), "escalation-lab", "--data", str(shared_data), "--mix", "care", "--limit", "120"]
    result = CliRunner().invoke(cli, [*args, "--set", "h", "--json", str(out)])  # one set, as it was measured
    assert result.exit_code == 0, result.output
    one = json.loads(out.read_text(encoding="utf-8"))["results"]["care"]
    assert one[1]["planted"] == 56 and one[1]["mentions"] == figures[1]["mentions"] - 124  # F and G left out
    result = CliRunner().invoke(cli, [*args, "--set", "B"])
    assert result.exit_code == 2 and "--set" in result.output and "B is not a set of the report part; use F, G, H" \
        in " ".join(result.output.split())


def test_missing_data_is_a_clear_error_not_a_skip(tmp_path: Path) -> None:
    with pytest.raises(LabDataError, match=r"tweeteval_sentiment/val_text\.txt is missing"):
        build(tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"brands": [{"name": "Acme", "keywords": ["acme"]}]}), encoding="utf-8")
    result = CliRunner().invoke(cli, ["-c", str(config), "escalation-lab", "--data", str(tmp_path)])
    assert result.exit_code == 1 and "val_text.txt is missing" in result.output
