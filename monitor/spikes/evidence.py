"""How surprising a count is: the single-bucket tail test and the accumulating scan.

Pure numbers, no database.

* :func:`upper_tail` is the sudden-spike test (a Shewhart chart): the probability of a
  bucket at least this high under a negative binomial with the baseline's mean and
  dispersion.
* :func:`scan` accumulates evidence over consecutive buckets: the largest quasi-Poisson
  log-likelihood ratio ``X*ln(X/M) - (X - M)`` (divided by the dispersion) over the windows
  that end at the newest bucket and start within the last few buckets, where ``X`` and
  ``M`` are the window's observed and expected totals. This is the moving-window
  generalised-likelihood-ratio CUSUM for counts of Höhle and Paul (2008) (R ``surveillance``
  ``algo.glrnb``), with the rise estimated from the data (``X/M``) instead of fixed; being
  recomputed from the counts each run it needs no stored state, a late mention simply
  changes the sums, and it resets when it is told where the last alert ended. A CUSUM on
  model-based expectations is what Fricker, Hegler and Dunfee (Stat. Med. 2008) found
  better than CDC's EARS C1-C3 on every scenario they tried; EARS's C2/C3 guard band
  survives here as the rule that the baseline is fitted only on buckets before the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from monitor.spikes.baseline import MIN_EXPECTED


def upper_tail(observed: float, expected: float, dispersion: float) -> float:
    """P(X >= observed) for a count with mean ``expected`` and variance ``expected * dispersion``."""
    if observed <= 0:
        return 1.0
    expected = max(expected, 1e-9)
    k = math.ceil(observed) - 1
    if dispersion <= 1.0001:
        return float(stats.poisson.sf(k, expected))
    n = expected / (dispersion - 1.0)
    return float(stats.nbinom.sf(k, n, 1.0 / dispersion))


def share_tail(negative: int, total: int, baseline_share: float) -> float:
    """P(at least ``negative`` of ``total`` are negative) when the usual share is ``baseline_share``."""
    if total <= 0 or negative <= 0:
        return 1.0
    return float(stats.binom.sf(negative - 1, total, min(max(baseline_share, 1e-3), 0.999)))


@dataclass(frozen=True)
class Scan:
    """The strongest window ending at the newest bucket: its first offset, totals and statistic."""

    statistic: float
    first: int
    observed: float
    expected: float

    @property
    def ratio(self) -> float:
        return self.observed / max(self.expected, MIN_EXPECTED)


NO_SCAN = Scan(0.0, 0, 0.0, 0.0)
DAY_ALPHA = 0.01
"""Squared relative swing of a day's level that the recent level cannot know yet (10%)."""


def scan(observed: np.ndarray, expected: np.ndarray, alpha: float, rel_var: float) -> Scan:
    """The accumulated evidence that the last buckets run above ``expected``.

    ``observed``/``expected`` cover the candidate window, oldest first (the newest bucket
    last). For each start ``s`` the window ``[s, end]`` scores ``(X ln(X/M) - (X - M)) / phi``:
    the Poisson likelihood ratio for a rise of ``X/M``, deflated by the window's variance
    over mean ``phi = 1 + alpha * sum(mu^2)/M + (rel_var + DAY_ALPHA) * M`` (each bucket's own
    overdispersion, plus the level's uncertainty and a day's unexplained swing, which do not
    average out over a window). Returns the best window (the latest start on ties), or
    ``NO_SCAN`` when no window runs above expectation.
    """
    if len(observed) == 0:
        return NO_SCAN
    mu = np.maximum(np.asarray(expected, dtype=float)[::-1], 1e-9)
    x = np.cumsum(np.asarray(observed, dtype=float)[::-1])
    m = np.cumsum(mu)
    phi = 1.0 + alpha * np.cumsum(mu**2) / m + (rel_var + DAY_ALPHA) * m
    with np.errstate(divide="ignore", invalid="ignore"):
        llr = np.where(x > m, x * np.log(np.where(x > 0, x / m, 1.0)) - (x - m), 0.0)
    stat = llr / phi
    best = int(np.argmax(stat))  # first maximum from the newest end: the latest start on ties
    if stat[best] <= 0:
        return NO_SCAN
    return Scan(float(stat[best]), len(observed) - 1 - best, float(x[best]), float(m[best]))


def volume_severity(observed: float, expected: float, min_count: int) -> int:
    """1-4: the mean (rounded up) of a ratio level and a size level.

    Ratio observed/expected: under 3x, 3-5x, 5-10x, 10x and more. Size, the excess over
    expected: under 2, 2-4, 4-8, 8 and more times ``min_count``. So a dozen mentions at
    night, where zero is usual, is not rated like a hundred at noon.
    """
    ratio = observed / max(expected, MIN_EXPECTED)
    by_ratio = 1 + (ratio >= 3) + (ratio >= 5) + (ratio >= 10)
    excess = (observed - expected) / max(min_count, 1)
    by_size = 1 + (excess >= 2) + (excess >= 4) + (excess >= 8)
    return math.ceil((by_ratio + by_size) / 2)


def share_severity(rise: float) -> int:
    """1-4 from the rise in negative share (absolute): under 0.25, 0.25-0.4, 0.4-0.6, 0.6 and more."""
    return int(1 + (rise >= 0.25) + (rise >= 0.4) + (rise >= 0.6))
