"""The detection statistics on plain arrays: baseline, accumulated evidence, coverage, judgement.

No database: counts are drawn from known rates, so every assertion compares the detector
with the truth it was given.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import pytest

from monitor.spikes.baseline import HOLDOUT_DAYS, PRIOR_ALPHA, PRIOR_DAYS, Rhythm, calendar, fit, rhythm
from monitor.spikes.coverage import UnitCounts, brand_view, unit_gaps
from monitor.spikes.details import duration_words, summary
from monitor.spikes.evidence import NO_SCAN, scan, upper_tail
from monitor.spikes.judgement import judge
from tests.fixtures_alerts import make_config

HOUR = timedelta(hours=1)
MONDAY = datetime(2026, 11, 2)
FIRST = int((MONDAY - datetime(1970, 1, 1)) / HOUR)  # bucket number of Monday 00:00 UTC


def daily_shape(n: int, first: int = FIRST, peak: float = 18.0) -> np.ndarray:
    """Quiet nights, an evening peak about four times the night; mean 1."""
    hour = (np.arange(first, first + n) % 24).astype(float)
    shape = 0.35 + 1.3 * np.exp(-((hour - peak) ** 2) / 8) + 0.5 * np.exp(-((hour - 10) ** 2) / 6)
    return shape / shape.mean()


def pooled_prior(n: int, rng: np.random.Generator, days: int = 21) -> tuple[Rhythm, object]:
    """The rhythm learnt from a busy pool of brands (50 mentions an hour on average)."""
    cal = calendar(FIRST, n, HOUR)
    pool = rng.poisson(50 * daily_shape(n)).astype(float)
    usable = np.zeros(n, dtype=bool)
    usable[: days * 24] = True
    return rhythm(pool, usable, cal, Rhythm.flat(cal), weekly=True, day_noise=0), cal


def test_calendar_handles_bucket_sizes_that_do_not_divide_a_day() -> None:
    hourly = calendar(FIRST, 48, HOUR)
    assert hourly.slots == 24 and hourly.per_day == 24
    assert list(hourly.slot[:3]) == [0, 1, 2] and hourly.weekday[0] == 0 and hourly.weekday[24] == 1  # Monday, Tuesday
    odd = calendar(int((MONDAY - datetime(1970, 1, 1)) / timedelta(hours=7)), 20, timedelta(hours=7))
    assert odd.slots == 4 and odd.slot.max() < 4 and odd.per_day == 3
    minutes = calendar(0, 100, timedelta(minutes=50))
    assert minutes.slots == math.ceil(1440 / 50) and minutes.slot.max() < minutes.slots
    daily = calendar(0, 10, timedelta(days=2))
    assert daily.slots == 1 and set(daily.slot) == {0}


def test_a_brand_seen_for_thirty_hours_borrows_the_daily_rhythm_of_all_brands() -> None:
    rng = np.random.default_rng(4)
    n = 24 * 24
    prior, cal = pooled_prior(n, rng)
    truth = 6 * daily_shape(n)
    y = np.full(n, np.nan)
    start = 21 * 24 + 6  # collection began at 06:00 on day 22
    y[start:] = rng.poisson(truth[start:])
    usable = ~np.isnan(y)
    end = start + 30
    baseline = fit(y, np.ones(n), usable, end, cal, prior, seasonal_min_days=7)
    assert baseline is not None and baseline.history_days == pytest.approx(30 / 24)
    day = np.arange(end, end + 24)
    mu = baseline.expected(cal, day, np.ones(n))
    assert mu.max() > 2.5 * mu.min()  # evenings busier than nights, though this brand never showed a whole day
    assert np.corrcoef(mu, truth[day])[0, 1] > 0.9
    assert mu.sum() == pytest.approx(truth[day].sum(), rel=0.25)


def test_a_regular_daily_peak_of_the_brand_is_learnt_not_alerted() -> None:
    rng = np.random.default_rng(5)
    n = 21 * 24
    prior, cal = pooled_prior(n, rng)
    hour = np.arange(FIRST, FIRST + n) % 24
    truth = 5 * daily_shape(n) * (1 + 2 * np.exp(-((hour - 12) ** 2) / (2 * 0.7**2)))  # 3x at lunch, every day
    y = rng.poisson(truth).astype(float)
    units = {("x", "x"): _unit(np.round(y * 3), y)}
    cfg = make_config().spikes
    fired = []
    for t in range(14 * 24, n):
        view = brand_view(units, {}, t, warmup=24, people=True, per_day=24)
        verdict = judge(cfg, view, cal, prior, t, fit_usable=view.usable, start=MONDAY + HOUR * t)
        assert verdict is not None
        fired += [t] if verdict.fired else []
    assert fired == []
    lunch = np.flatnonzero(hour[14 * 24:] == 12)[0] + 14 * 24
    baseline = fit(y, np.ones(n), np.ones(n, dtype=bool), lunch - 5, cal, prior, seasonal_min_days=7)
    assert baseline is not None
    assert baseline.expected(cal, np.array([lunch]), np.ones(n))[0] > 2 * prior.at(cal, np.array([lunch]))[0] * 5


def test_the_level_follows_a_slow_drift() -> None:
    rng = np.random.default_rng(6)
    n = 21 * 24
    prior, cal = pooled_prior(n, rng)
    drift = 1 + 0.5 * np.clip((np.arange(n) - 14 * 24) / (7 * 24), 0, 1)  # +50% over the last week
    truth = 8 * daily_shape(n) * drift
    ratios = []
    for seed in range(5):
        y = np.random.default_rng(seed).poisson(truth).astype(float)
        for end in range(18 * 24, 21 * 24, 7):
            baseline = fit(y, np.ones(n), np.ones(n, dtype=bool), end - 5, cal, prior, seasonal_min_days=7)
            assert baseline is not None
            ratios.append(truth[end] / baseline.expected(cal, np.array([end]), np.ones(n))[0])
    assert 0.9 < float(np.mean(ratios)) < 1.12


def test_overdispersion_is_measured_out_of_sample() -> None:
    rng = np.random.default_rng(7)
    n = 21 * 24
    prior, cal = pooled_prior(n, rng)
    truth = 12 * daily_shape(n)
    poisson = rng.poisson(truth).astype(float)
    noisy = rng.poisson(truth * rng.gamma(1 / 0.3**2, 0.3**2, size=n)).astype(float)  # alpha = 0.09
    fits = [fit(y, np.ones(n), np.ones(n, dtype=bool), n, cal, prior, seasonal_min_days=7) for y in (poisson, noisy)]
    assert fits[0] is not None and fits[1] is not None
    assert fits[0].alpha < 0.05 < fits[1].alpha
    assert fits[1].dispersion(12.0) > fits[0].dispersion(12.0) > 1.0


def test_three_calm_days_do_not_make_a_busy_brand_poisson() -> None:
    """However busy the brand, its overdispersion rests on three held-out days: half of it stays the prior's."""
    rng = np.random.default_rng(3)
    n = 21 * 24
    prior, cal = pooled_prior(n, rng)
    busy = rng.poisson(100 * daily_shape(n)).astype(float)  # Poisson: no day-to-day swing at all in these days
    found = fit(busy, np.ones(n), np.ones(n, dtype=bool), n, cal, prior, seasonal_min_days=7)
    assert found is not None
    assert PRIOR_ALPHA * PRIOR_DAYS / (HOLDOUT_DAYS + PRIOR_DAYS) * 0.8 < found.alpha < PRIOR_ALPHA


def test_evidence_accumulates_over_buckets_and_resets_below_expectation() -> None:
    mu = np.full(6, 10.0)
    one = scan(np.array([18.0]), mu[:1], 0.03, 0.002)
    three = scan(np.array([18.0, 18.0, 18.0]), mu[:3], 0.03, 0.002)
    assert three.statistic > 2 * one.statistic and three.first == 0 and three.observed == 54
    late = scan(np.array([10.0, 9.0, 19.0, 20.0]), mu[:4], 0.03, 0.002)
    assert late.first == 2 and late.ratio == pytest.approx(39 / 20)  # the window starts where the rise did
    assert scan(np.array([9.0, 10.0]), mu[:2], 0.03, 0.002) is NO_SCAN
    noisy = scan(np.array([18.0, 18.0, 18.0]), mu[:3], 0.3, 0.002)
    assert noisy.statistic < three.statistic  # more overdispersion asks for more
    assert upper_tail(30, 4.0, 1.0) < 1e-9 < upper_tail(30, 4.0, 6.0) < 0.01


def _unit(total: np.ndarray, negative: np.ndarray, *, first: int | None = 0, late: np.ndarray | None = None,
          people: np.ndarray | None = None) -> UnitCounts:
    return UnitCounts(total, total.copy(), negative, negative.copy() if people is None else people, total.copy(),
                      np.zeros_like(total) if late is None else late, first)


def test_a_long_empty_run_on_a_busy_source_is_a_gap_a_quiet_source_is_not() -> None:
    n, factor = 7 * 24, np.ones(7 * 24)
    busy = np.full(n, 20.0)
    busy[100:106] = 0
    assert unit_gaps(busy, np.zeros(n), factor, 0, 24)[100:106].all()
    quiet = np.zeros(n)
    quiet[::30] = 1
    assert not unit_gaps(quiet, np.zeros(n), factor, 0, 24).any()
    late = np.zeros(n)
    late[50:53] = 20  # a collector that came back and fetched three hours of backlog
    assert unit_gaps(busy, late, factor, 0, 24)[50:53].all()
    assert unit_gaps(busy, np.zeros(n), factor, 30, 24)[:30].all()  # before its first collection: backfill


def test_a_new_source_warms_up_and_history_before_it_is_scaled_not_read_as_quiet() -> None:
    n = 10 * 24
    x_total = np.full(n, 30.0)
    new_total = np.zeros(n)
    new_total[6 * 24:] = 30.0  # a second source, as big as the first, from day 7
    units = {("x", "x"): _unit(x_total, x_total / 3), ("reddit", "reddit"): _unit(new_total, new_total / 3, first=6 * 24)}
    warming = brand_view(units, {}, 6 * 24 + 10, warmup=24, people=True, per_day=24)
    assert warming.included == [("x", "x")] and warming.warming == [("reddit", "reddit")]
    assert warming.series[6 * 24 + 5] == 10  # the new source's mentions do not count yet
    ready = brand_view(units, {}, 8 * 24, warmup=24, people=True, per_day=24)
    assert ready.included == [("reddit", "reddit"), ("x", "x")]
    assert ready.series[7 * 24] == 20 and ready.coverage[7 * 24] == pytest.approx(1.0)
    assert ready.coverage[3 * 24] == pytest.approx(0.5, abs=0.05)  # the old days had half the sources
    brand_new = brand_view({("x", "x"): _unit(x_total, x_total / 3, first=9 * 24)}, {}, 9 * 24 + 5, warmup=24,
                           people=True, per_day=24)
    assert brand_new.warming_up and brand_new.ready_at == 10 * 24


def test_one_author_thread_counts_once_when_counting_people() -> None:
    n = 8 * 24
    total = np.full(n, 12.0)
    negative, people = np.full(n, 4.0), np.full(n, 4.0)
    negative[-1], people[-1] = 24.0, 5.0  # twenty complaints, one of them wrote them all
    units = {("x", "x"): _unit(total, negative, people=people)}
    cfg = make_config().spikes
    cal = calendar(FIRST, n, HOUR)
    by_people = brand_view(units, {}, n - 1, warmup=24, people=True, per_day=24)
    by_mentions = brand_view(units, {}, n - 1, warmup=24, people=False, per_day=24)
    args = {"fit_usable": by_people.usable, "start": MONDAY + HOUR * (n - 1)}
    assert not judge(cfg, by_people, cal, Rhythm.flat(cal), n - 1, **args).fired
    assert judge(cfg, by_mentions, cal, Rhythm.flat(cal), n - 1, **args).spike_fired


def test_a_sustained_rise_fires_where_no_single_bucket_would() -> None:
    rng = np.random.default_rng(11)
    n = 15 * 24
    prior, cal = pooled_prior(n, rng, days=14)
    truth = 30 * daily_shape(n)
    y = rng.poisson(truth).astype(float)
    t = n - 9  # 15:00 on a Monday
    y[t - 3:t + 1] = np.round(truth[t - 3:t + 1] * 1.9)  # four buckets at 1.9 times the usual: none doubles
    units = {("x", "x"): _unit(y * 3, y)}
    view = brand_view(units, {}, t, warmup=24, people=True, per_day=24)
    verdict = judge(make_config().spikes, view, cal, prior, t, fit_usable=view.usable, start=MONDAY + HOUR * t)
    assert verdict is not None and verdict.sustained_fired and not verdict.spike_fired
    assert verdict.storm_start == MONDAY + HOUR * (t - 3) and verdict.scan.ratio > 1.5


def test_nothing_to_judge_without_history_or_coverage() -> None:
    n = 48
    cal = calendar(FIRST, n, HOUR)
    cfg = make_config().spikes
    empty = brand_view({}, {}, 10, warmup=24, people=True, per_day=24)
    assert empty.warming_up and judge(cfg, empty, cal, Rhythm.flat(cal), 10, fit_usable=empty.usable,
                                      start=MONDAY) is None
    only_now = np.zeros(n)
    only_now[-1] = 30
    view = brand_view({("x", "x"): _unit(only_now * 2, only_now, first=None)}, {}, n - 1, warmup=0, people=True,
                      per_day=24)
    assert judge(cfg, view, cal, Rhythm.flat(cal), 0, fit_usable=view.usable, start=MONDAY) is None


def test_the_alert_says_why_in_plain_words() -> None:
    start = datetime(2026, 11, 23, 13)
    assert summary("negative_volume", mentions=62, people=48, expected=15.2, start=start, end=start + 3 * HOUR,
                   ongoing=True) == "62 negative mentions in the last 3 hours from 48 people; usually about 15"
    assert summary("negative_volume", mentions=20, people=1, expected=0.4, start=start, end=start + HOUR,
                   ongoing=False) == "20 negative mentions in the hour from Mon 13:00 UTC from 1 person; usually fewer than one"
    assert summary("negative_share", mentions=18, people=18, expected=9, start=start, end=start + HOUR, ongoing=True,
                   share=(0.45, 0.2, 40)) == "45% of 40 people's mentions were negative in the last hour; usually 20%"
    assert [duration_words(timedelta(minutes=m)) for m in (50, 60, 90, 2880)] == [
        "50 minutes", "hour", "1.5 hours", "2 days"]
