"""How early the suite's storms *could* be caught: an oracle's chance of alerting within two buckets.

The suite asks for every planted storm within two buckets of its start at no more than one false
alarm per 10 brand-weeks. Whether the data allow that depends on the storm's size against the
hour's ordinary swing, not on the detector, so the suite prints, beside what the detector did, what
an **oracle** would do with the same false-alarm budget. The oracle is given far more than any
detector has:

- the true expected number of gold negatives in every hour (the brand's rhythm, its day's level,
  any drift: everything but the hourly noise, which it knows the size of), so it estimates nothing;
- the gold labels, not the model's (no missed or spurious negatives), and one count per person
  (a storm's follow-up posts add nothing, as the detector's ``people`` counting has it).

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
from datetime import timedelta
from functools import lru_cache

import numpy as np
from scipy import stats

from monitor.lab.scenarios import HOURLY_CV, BrandPlan, Storm

BUDGET_PER_10_WEEKS = 1.0
"""The suite's false-alarm goal: at most one per 10 brand-weeks."""
TESTS_PER_BUCKET = 2
DRAWS = 20_000


def alpha_for(bucket: timedelta) -> float:
    """The per-test tail probability that spends the false-alarm budget in expectation."""
    buckets_per_week = timedelta(days=7) / bucket
    return BUDGET_PER_10_WEEKS / 10 / (TESTS_PER_BUCKET * buckets_per_week)


def _pmf(mean: float, size: int) -> np.ndarray:
    """The null count's probabilities 0..size-1: Poisson under gamma noise of CV ``HOURLY_CV``."""
    r = 1 / HOURLY_CV**2
    return stats.nbinom.pmf(np.arange(size), r, r / (r + mean))


@lru_cache(maxsize=100_000)
def _cut(means: tuple[float, ...], alpha: float) -> int:
    """The smallest count whose null tail P(sum >= count) is at most ``alpha``, for the sum of the
    hours with expected ``means`` (each negative binomial, independent)."""
    size = int(sum(means) * 4 + 60 * len(means) + 20)
    pmf = np.array([1.0])
    for m in means:
        pmf = np.convolve(pmf, _pmf(m, size))[:size]
    tail = 1.0 - np.concatenate([[0.0], np.cumsum(pmf)[:-1]])  # P(sum >= k)
    return int(np.argmax(tail <= alpha))


def _draw(mean: np.ndarray, rng: np.random.Generator, draws: int) -> np.ndarray:
    noise = rng.gamma(1 / HOURLY_CV**2, HOURLY_CV**2, size=(draws, len(mean)))
    return rng.poisson(mean * noise)


def within_two(expected: Sequence[float], extra: Sequence[float], alpha: float, *,
               rng: np.random.Generator | None = None, draws: int = DRAWS) -> float:
    """The oracle's chance of an alert at the end of the storm's first or second bucket.

    ``expected``: the three buckets' null means, the one before the storm and its first two;
    ``extra``: the storm's mean in its first two buckets.
    """
    rng = rng or np.random.default_rng(0)
    before, first, second = (round(float(x), 3) for x in expected)
    counts = _draw(np.array([before, first, second]), rng, draws)
    counts[:, 1:] += rng.poisson(np.maximum(np.asarray(extra, dtype=float), 0), size=(draws, 2))
    hit = ((counts[:, 1] >= _cut((first,), alpha))
           | (counts[:, 0] + counts[:, 1] >= _cut((before, first), alpha))
           | (counts[:, 2] >= _cut((second,), alpha))
           | (counts[:, 1] + counts[:, 2] >= _cut((first, second), alpha)))
    return float(hit.mean())


def storm_chance(plan: BrandPlan, storm: Storm, world_start: object, bucket: timedelta) -> float | None:
    """:func:`within_two` for one planted storm of ``plan`` (hourly buckets only; None otherwise or
    when the plan carries no expected rates)."""
    if plan.expected is None or plan.extra is None or bucket != timedelta(hours=1):
        return None
    a = int((storm.start - world_start) / bucket)  # type: ignore[operator]
    if a < 1 or a + 2 > len(plan.expected):
        return None
    seed = zlib.crc32(f"{plan.name} {a}".encode())  # the same draws every run
    return within_two(plan.expected[a - 1:a + 2], plan.extra[a:a + 2], alpha_for(bucket),
                      rng=np.random.default_rng(seed))
