"""The scenario suite, short: one seeded world of real tweets, scored by the shipped model, replayed
through the real detector on a frozen clock that steps bucket by bucket (``monitor backtest
--suite`` runs five such worlds and prints the figures).

Each case family gets its own verdict: planted storms are caught while they last, with one
alert each; artefacts (a brand or source whose collection just started, a one-author
thread, a collection outage, a slow drift, a regular daily peak) page nobody. The world's
brands run at 20-30 negatives an hour, where a doubling is statistically visible within
hours; the full suite reports how quieter brands fare.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.lab.scenario_run import CaseResult, SuiteReport, replay, score_world, suite_json
from monitor.lab.scenario_texts import ScenarioDataError, TextPool, scored_pool
from monitor.lab.scenarios import FAMILIES, STORM_FAMILIES, generate_world, model_sight
from monitor.spikes import detect_spikes
from tests.fixtures_alerts import make_config

pytestmark = pytest.mark.slow

SEED = 10
PER_LABEL = 150


class CountingScorer:
    """The real shipped model, counting the texts it is asked to score."""

    def __init__(self) -> None:
        from models.inference import load_scorer

        self.model = load_scorer()
        self.version = self.model.version
        self.scored = 0

    def score(self, texts: list[str]) -> list[Any]:
        self.scored += len(texts)
        return self.model.score(texts)


@pytest.fixture(scope="module")
def scorer() -> CountingScorer:
    return CountingScorer()


@pytest.fixture(scope="module")
def pool(scorer: CountingScorer, tmp_path_factory: pytest.TempPathFactory) -> TextPool:
    from tests.conftest import SHARED_DATA

    assert SHARED_DATA.is_dir(), f"{SHARED_DATA} is missing: the scenario suite needs ../shared/data"
    return scored_pool(SHARED_DATA, scorer, per_label=PER_LABEL, cache=tmp_path_factory.mktemp("scores"))


@pytest.fixture(scope="module")
def cases(pool: TextPool) -> dict[str, list[CaseResult]]:
    config = make_config()
    world = generate_world(SEED, pool, history_days=10, volume=(20.0, 30.0))
    out: dict[str, list[CaseResult]] = {}
    for case in score_world(world, replay(world, pool, config, detect_spikes), config, model_sight(pool)):
        out.setdefault(case.plan.family, []).append(case)
    return out


def test_the_pool_is_real_tweets_scored_once_by_the_model(pool: TextPool, scorer: CountingScorer,
                                                          tmp_path: Path) -> None:
    from tests.conftest import SHARED_DATA

    assert len(pool.texts) == 3 * PER_LABEL and scorer.scored == 3 * PER_LABEL
    assert 0.5 < pool.recall() < 0.95 and pool.false_negative_rate() < 0.3  # the model errs, as it does live
    again = scored_pool(SHARED_DATA, scorer, per_label=PER_LABEL, cache=tmp_path)
    first = scorer.scored
    cached = scored_pool(SHARED_DATA, scorer, per_label=PER_LABEL, cache=tmp_path)
    assert scorer.scored == first and list(cached.model_label) == list(again.model_label)


def test_missing_data_says_where_it_was_looked_for(scorer: CountingScorer, tmp_path: Path) -> None:
    with pytest.raises(ScenarioDataError, match=r"brand_sentiment.*--data"):
        scored_pool(tmp_path, scorer)


@pytest.mark.parametrize("family", sorted(STORM_FAMILIES))
def test_a_planted_storm_is_caught_with_one_alert(cases: dict[str, list[CaseResult]], family: str) -> None:
    [case] = cases[family]
    [delay] = case.delays
    assert delay is not None, f"{case.plan.name} missed"
    assert case.alerts_per_storm == [1] and case.false == []
    if family == "spike6x":
        assert delay <= 1
    elif family.startswith("rise3x") or family == "young":
        assert delay <= 4


@pytest.mark.parametrize("family", sorted(set(FAMILIES) - STORM_FAMILIES))
def test_an_artefact_or_an_ordinary_week_pages_nobody(cases: dict[str, list[CaseResult]], family: str) -> None:
    for case in cases[family]:
        assert case.alerts == [], [a.summary for a in case.alerts]


def test_alerts_say_why_in_plain_words(cases: dict[str, list[CaseResult]]) -> None:
    summaries = [a.summary for family in cases.values() for c in family for a in c.alerts]
    assert summaries and all(" negative mentions in the " in s and " people; usually " in s for s in summaries)


def test_suite_json_lists_every_storm_and_false_alarm(pool: TextPool, cases: dict[str, list[CaseResult]]) -> None:
    report = SuiteReport([c for family in cases.values() for c in family], 1, 0, 0.0, pool.model_version,
                         pool.recall(), pool.false_negative_rate())
    data = json.loads(json.dumps(suite_json(report)))
    overall = data["families"][-1]
    assert overall["family"] == "all" and overall["storms"] == len(STORM_FAMILIES) == len(data["storms"])
    assert overall["caught"] == sum(s["delay_buckets"] is not None for s in data["storms"])
    assert all(0 <= s["model_oracle_within_2"] <= s["rhythm_oracle_within_2"] + 0.05 <= s["oracle_within_2"] + 0.1
               <= 1.1 for s in data["storms"])  # each oracle knows less than the one before
    assert overall["oracle_within_2"] == pytest.approx(sum(s["oracle_within_2"] for s in data["storms"]))
    assert data["false_alarms"] == [] and overall["false_alarms_per_10"] == 0


def test_backtest_command_needs_a_file_or_the_suite(tmp_path: Path) -> None:
    from tests.conftest import write_config

    result = CliRunner().invoke(cli, ["-c", str(write_config(tmp_path)), "backtest"])
    assert result.exit_code == 2 and "give a FILE to replay, or --suite" in result.output
    result = CliRunner().invoke(cli, ["-c", str(write_config(tmp_path)), "backtest", "--suite", "--detector",
                                      "no.such:thing"])
    assert result.exit_code == 2 and "--detector 'no.such:thing' cannot be imported" in result.output
    assert "scoring the text pool" not in result.output  # refused before the model loads
