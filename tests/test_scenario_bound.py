"""The oracle ceiling the scenario suite prints beside the detector: its null cuts are exact, it spends the
false-alarm budget and no more, and its chance grows with the storm as it must."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from scipy import stats

from monitor.lab.scenario_bound import _cut, alpha_for, storm_chance, within_two
from monitor.lab.scenario_texts import TextPool
from monitor.lab.scenarios import DAILY_CV, HOURLY_CV, generate_world

HOUR = timedelta(hours=1)
R = 1 / HOURLY_CV**2


def test_the_budget_is_one_false_alarm_per_ten_brand_weeks_over_two_tests_a_bucket() -> None:
    assert alpha_for(HOUR) == pytest.approx(0.1 / (2 * 168))
    assert alpha_for(timedelta(hours=2)) == pytest.approx(2 * alpha_for(HOUR))


@pytest.mark.parametrize("mean", [0.5, 3.0, 8.0, 25.0])
@pytest.mark.parametrize("alpha", [0.01, alpha_for(HOUR)])
def test_a_one_bucket_cut_is_the_first_count_whose_null_tail_fits_alpha(mean: float, alpha: float) -> None:
    cut = _cut(((mean,),), alpha)
    tail = stats.nbinom(R, R / (R + mean)).sf  # P(X > k)
    assert tail(cut - 1) <= alpha < tail(cut - 2)


@pytest.mark.parametrize("known", [True, False])
def test_a_two_bucket_cut_matches_drawn_sums(known: bool) -> None:
    rng = np.random.default_rng(1)
    means, n = (4.0, 9.0), 400_000
    level = 1.0 if known else rng.gamma(1 / DAILY_CV**2, DAILY_CV**2, size=n)  # one day: both hours share it
    draws = sum(rng.poisson(m * level * rng.gamma(R, 1 / R, size=n)) for m in means)
    cut = _cut((means,), 0.01, known)
    assert np.mean(draws >= cut) <= 0.0115 and np.mean(draws >= cut - 1) > 0.0085


def test_an_unknown_day_level_raises_the_cut_and_hours_of_two_days_share_none() -> None:
    alpha = alpha_for(HOUR)
    assert _cut(((8.0, 8.0),), alpha, False) > _cut(((8.0, 8.0),), alpha, True)
    assert _cut(((8.0,), (8.0,)), alpha, False) < _cut(((8.0, 8.0),), alpha, False)  # two levels average out


def test_without_a_storm_the_oracle_spends_only_its_budget() -> None:
    alpha = alpha_for(HOUR)
    chance = within_two([6.0, 6.0, 6.0], [0.0, 0.0], alpha, draws=400_000)
    assert chance <= 4 * alpha * 1.3  # four tests end in the two buckets, each at most alpha


def test_a_bigger_storm_is_likelier_caught_and_a_doubling_of_a_quiet_hour_mostly_is_not() -> None:
    alpha = alpha_for(HOUR)
    chances = [within_two([5.0, 5.0, 5.0], [0.6 * e, e], alpha) for e in (2.5, 5.0, 10.0, 30.0)]
    assert chances == sorted(chances) and chances[-1] > 0.99
    assert chances[1] < 0.5  # twice a 5-an-hour brand: the data cannot tell it within two hours, mostly
    blind = within_two([5.0, 5.0, 5.0], [6.0, 10.0], alpha, days=[0, 0, 0])
    assert blind < within_two([5.0, 5.0, 5.0], [6.0, 10.0], alpha)  # not knowing the day's level costs


def test_without_a_storm_an_oracle_blind_to_the_day_spends_only_its_budget() -> None:
    alpha = alpha_for(HOUR)
    chance = within_two([6.0, 6.0, 6.0], [0.0, 0.0], alpha, days=[0, 0, 1], draws=400_000)
    assert chance <= 4 * alpha * 1.3


def test_every_planted_storm_of_a_world_gets_a_chance() -> None:
    n = 300
    pool = TextPool([f"t{i}" for i in range(n)], np.arange(n) % 3, np.array(["neutral"] * n), np.zeros(n), "x")
    world = generate_world(7, pool, history_days=7)
    storms = [(p, s) for p in world.brands for s in p.storms]
    assert storms
    for plan, storm in storms:
        assert plan.expected is not None and plan.extra is not None
        at = int((storm.start - world.start) / HOUR)
        assert plan.extra[at] > 0 and plan.extra[at - 1] == 0  # the storm's extra starts where it starts
        chance = storm_chance(plan, storm, world.start, HOUR)
        assert chance is not None and 0.0 <= chance <= 1.0
        assert storm_chance(plan, storm, world.start, HOUR) == chance  # the same draws every run
        assert storm_chance(plan, storm, world.start, 2 * HOUR) is None
        rhythm_only = storm_chance(plan, storm, world.start, HOUR, knows_day=False)
        assert rhythm_only is not None and 0.0 <= rhythm_only <= 1.0
        blind = storm_chance(plan, storm, world.start, HOUR, knows_day=False, seen=(0.0, 0.05))
        assert blind is not None and blind < 0.01  # a model that sees no negative sees no storm
        assert storm_chance(plan, storm, world.start, HOUR, knows_day=False, seen=(1.0, 0.0)) == rhythm_only
    quiet = next(p for p in world.brands if p.family == "quiet")
    assert quiet.expected is not None
    assert quiet.expected.mean() == pytest.approx(quiet.mean_negative, rel=0.25)  # rhythm and day levels average out
