"""How early the suite's storms *could* be caught: an oracle's chance of alerting within two buckets.

The suite asks for every planted storm within two buckets of its start at no more than one false
alarm per 10 brand-weeks. Whether the data allow that depends on the storm's size against the
hour's ordinary swing, not on the detector, so the suite prints, beside what the detector did, what
an **oracle** would do with the same false-alarm budget. The oracle is given far more than any
detector has:

- the true expected number of gold negatives in every hour (the brand's rhythm, its day's level,
  any drift: everything but the hourly noise, which it knows the size of), so it estimates nothing;
  a second, blinder oracle knows the rhythm but not the day's level (the generator's gamma level
  per day, which a detector can only learn as the day goes), and allows for it in its null;
- the gold labels, not the model's (no missed or spurious negatives), and one count per person
  (a storm's follow-up posts add nothing, as the detector's ``people`` counting has it); a third
  oracle knows the rhythm only and counts the model's negatives, as the detector does, so the three
  side by side split what is lost to not knowing the day, to the model, and to the detector.

At the end of each bucket it tests the last bucket's count and the last two buckets' count, each
against its exact null distribution (negative binomial: Poisson under the generator's gamma noise;
the two-bucket sum by convolution), at a tail probability ``alpha`` chosen so that its expected
number of exceedances in a quiet brand-week equals the budget: ``0.1 / (2 x 168)`` for 1-hour
buckets. It catches a storm within two buckets when any test ending in the storm's first or second
bucket exceeds. The chance of that is computed by drawing the hours many times
(:func:`within_two`); the suite adds the chances up into the number of storms the oracle is
expected to catch in time.

This is a ceiling for count tests, not a proof about every possible detector: a test that weights
hours by the storm's known shape could do a little better. But the oracle's advantages (no
estimation error, no model error) are worth far more than that, so a detector's figure near the
ceiling has little left to gain, and a goal above the ceiling is a goal the data do not allow.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
from scipy import stats

from monitor.lab.scenarios import DAILY_CV, HOURLY_CV, BrandPlan, Storm

BUDGET_PER_10_WEEKS = 1.0
"""The suite's false-alarm goal: at most one per 10 brand-weeks."""
TESTS_PER_BUCKET = 2
DRAWS = 20_000
LEVEL_POINTS = 121


def alpha_for(bucket: timedelta) -> float:
    """The per-test tail probability that spends the false-alarm budget in expectation."""
    buckets_per_week = timedelta(days=7) / bucket
    return BUDGET_PER_10_WEEKS / 10 / (TESTS_PER_BUCKET * buckets_per_week)


def _pmf(mean: float, size: int) -> np.ndarray:
    """One hour's null count, probabilities 0..size-1: Poisson under gamma noise of CV ``HOURLY_CV``."""
    r = 1 / HOURLY_CV**2
    return stats.nbinom.pmf(np.arange(size), r, r / (r + mean))


def _sum_pmf(means: Sequence[float], size: int) -> np.ndarray:
    pmf = np.array([1.0])
    for m in means:
        pmf = np.convolve(pmf, _pmf(m, size))[:size]
    return pmf


@lru_cache(maxsize=1)
def _level_grid() -> tuple[np.ndarray, np.ndarray]:
    """Quadrature for a day's level (gamma, mean 1, CV ``DAILY_CV``): points and weights."""
    shape = 1 / DAILY_CV**2
    level = stats.gamma(shape, scale=1 / shape)
    points = np.linspace(level.ppf(1e-9), level.ppf(1 - 1e-9), LEVEL_POINTS)
    weights = level.pdf(points)
    return points, weights / weights.sum()


@lru_cache(maxsize=100_000)
def _cut(days: tuple[tuple[float, ...], ...], alpha: float, known: bool = True) -> int:
    """The smallest count whose null tail P(sum >= count) is at most ``alpha``, for a window's hours
    grouped by day (``days``: each day's hourly means). With ``known`` the means are exact; else each
    day's level is unknown (gamma, CV ``DAILY_CV``, shared by that day's hours)."""
    means = [m for day in days for m in day]
    size = int(sum(means) * (4 if known else 6) + 60 * len(means) + 20)
    pmf = np.array([1.0])
    for day in days:
        if known:
            part = _sum_pmf(day, size)
        else:
            points, weights = _level_grid()
            part = sum(w * _sum_pmf([m * d for m in day], size) for d, w in zip(points, weights, strict=True))
        pmf = np.convolve(pmf, part)[:size]
    tail = 1.0 - np.concatenate([[0.0], np.cumsum(pmf)[:-1]])  # P(sum >= k)
    return int(np.argmax(tail <= alpha))


def within_two(expected: Sequence[float], extra: Sequence[float], alpha: float, *,
               days: Sequence[int] | None = None, rng: np.random.Generator | None = None,
               draws: int = DRAWS) -> float:
    """The oracle's chance of an alert at the end of the storm's first or second bucket.

    ``expected``: the three buckets' null means, the one before the storm and its first two;
    ``extra``: the storm's mean in its first two buckets. With ``days`` (each bucket's day), the
    means leave out the day's level, which the oracle does not know: it is drawn (gamma, CV
    ``DAILY_CV``, one per day), as the scenario generator draws it.
    """
    rng = rng or np.random.default_rng(0)
    mean = np.array([round(float(x), 3) for x in expected])
    hourly = rng.gamma(1 / HOURLY_CV**2, HOURLY_CV**2, size=(draws, 3))
    if days is not None:
        shape = 1 / DAILY_CV**2
        level = {d: rng.gamma(shape, 1 / shape, size=draws) for d in dict.fromkeys(days)}
        hourly = hourly * np.stack([level[d] for d in days], axis=1)
    counts = rng.poisson(mean * hourly)
    counts[:, 1:] += rng.poisson(np.maximum(np.asarray(extra, dtype=float), 0), size=(draws, 2))
    known = days is None
    group = list(days) if days is not None else [0, 0, 0]

    def cut(*hours: int) -> int:
        by_day: dict[int, list[float]] = {}
        for h in hours:
            by_day.setdefault(group[h], []).append(float(mean[h]))
        return _cut(tuple(tuple(v) for v in by_day.values()), alpha, known)

    hit = ((counts[:, 1] >= cut(1)) | (counts[:, 0] + counts[:, 1] >= cut(0, 1))
           | (counts[:, 2] >= cut(2)) | (counts[:, 1] + counts[:, 2] >= cut(1, 2)))
    return float(hit.mean())


def storm_chance(plan: BrandPlan, storm: Storm, world_start: datetime, bucket: timedelta, *,
                 knows_day: bool = True, seen: tuple[float, float] | None = None) -> float | None:
    """:func:`within_two` for one planted storm of ``plan``: the oracle knows each hour's expected negatives
    (``knows_day``) or only the brand's rhythm, not the day's level. With ``seen`` = (the model's recall on
    gold negatives, the share of the other mentions it calls negative), it counts the model's negatives
    instead of the gold ones (each hour still one negative binomial: the model's few false negatives add
    their own noise, which the oracle's null overstates a little). Hourly buckets only; None otherwise or
    when the plan carries no expected rates."""
    if (plan.expected is None or plan.extra is None or plan.day_level is None or plan.other_expected is None
            or bucket != timedelta(hours=1)):
        return None
    a = int((storm.start - world_start) / bucket)
    if a < 1 or a + 2 > len(plan.expected):
        return None
    seed = zlib.crc32(f"{plan.name} {a}".encode())  # the same draws every run
    hours = slice(a - 1, a + 2)
    expected, extra = plan.expected[hours], plan.extra[a:a + 2]
    if seen is not None:
        recall, false_rate = seen
        expected, extra = recall * expected + false_rate * plan.other_expected[hours], recall * extra
    if knows_day:
        return within_two(expected, extra, alpha_for(bucket), rng=np.random.default_rng(seed))
    return within_two(expected / plan.day_level[hours], extra, alpha_for(bucket),
                      days=[h // 24 for h in range(a - 1, a + 2)], rng=np.random.default_rng(seed))
