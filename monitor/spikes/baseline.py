"""What a bucket's negative volume should have been, and how surprising the observed one is.

Pure numbers, no database. A series holds one count per time bucket, oldest first, with NaN
for buckets that must not teach the baseline (before the brand's first mention, and inside
past alert windows, so a storm never raises its own expectation).

The expected value comes from the best method the history allows:

* ``hour-of-week`` (at least ``seasonal_min_days`` of history): the same bucket in each of
  the past weeks (each smoothed with its neighbours, then a winsorised mean across weeks),
  times the recent level (the last two days' counts over what the same method predicted
  for them, outliers capped, clipped to 0.5-2), so a slow trend is followed;
* ``hour-of-day`` (two days or more): the same with daily lags;
* ``trailing-median`` (one day or more): the median of the last day, with the spread (MAD).

The dispersion (variance over mean) is measured from how well the method predicted the
last week, so a noisy baseline asks for a bigger excess: the tail probability is negative
binomial with that variance (Poisson when the fit is as good as Poisson allows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

MIN_EXPECTED = 0.25
"""Floor for the expected count, so a bucket that is usually empty is not infinitely surprising."""
LEVEL_CLIP = (0.5, 2.0)
LEVEL_DAYS = 2
LEVEL_PRIOR = 5.0
UNCERTAINTY_Z = 1.0
"""Pseudo-count that pulls a level measured on few mentions towards 1."""
MAX_DISPERSION = 8.0


@dataclass(frozen=True)
class Expectation:
    """The expected count for one bucket, the dispersion (variance/mean, >= 1) and the method.

    ``upper`` is the expected count plus one standard error of its own estimate: the
    significance test uses it, so a baseline that happens to come out low on few data does
    not make an ordinary bucket look extreme.
    """

    expected: float
    dispersion: float
    method: str
    history_days: float
    upper: float


KERNEL = ((-1, 0.25), (0, 0.5), (1, 0.25))
"""Each lagged value is smoothed with its neighbours: four times less noise, peaks kept."""


def _lagged(series: np.ndarray, positions: np.ndarray, step: int, count: int) -> np.ndarray:
    """For each position, the smoothed values ``step, 2*step, .., count*step`` buckets before it.

    NaN where a lag has no data; neighbours without data are left out of the smoothing.
    """
    lags = positions[:, None] - step * np.arange(1, count + 1)[None, :]
    total = np.zeros(lags.shape)
    weight = np.zeros(lags.shape)
    limit = positions[:, None]
    for offset, w in KERNEL:
        idx = lags + offset
        ok = (idx >= 0) & (idx < limit)
        vals = np.full(lags.shape, np.nan)
        vals[ok] = series[idx[ok]]
        has = ~np.isnan(vals)
        total[has] += w * vals[has]
        weight[has] += w
    centre = np.full(lags.shape, np.nan)
    ok = lags >= 0
    centre[ok] = series[lags[ok]]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.isnan(centre), np.nan, total / weight)


def _reference(series: np.ndarray, positions: np.ndarray, step: int, count: int) -> np.ndarray:
    """Winsorised mean of the smoothed lags (each capped near their median); NaN with fewer than two."""
    lagged = _lagged(series, positions, step, count)
    n = np.sum(~np.isnan(lagged), axis=1)
    out = np.full(len(positions), np.nan)
    ok = n >= min(2, count)
    if ok.any():
        rows = lagged[ok]
        capped = np.minimum(rows, _cap(np.nanmedian(rows, axis=1))[:, None])
        out[ok] = np.nanmean(capped, axis=1)
    return out


def expect(
    series: np.ndarray,
    pos: int,
    *,
    per_day: int,
    seasonal_min_days: int,
    baseline_days: int,
) -> Expectation | None:
    """The expectation for ``series[pos]`` from the buckets before it; None with under a day of history."""
    history = series[:pos]
    valid = np.flatnonzero(~np.isnan(history))
    if len(valid) == 0:
        return None
    span_days = (pos - valid[0]) / per_day
    if len(valid) < per_day:
        return None
    if span_days >= seasonal_min_days:
        method, step = "hour-of-week", 7 * per_day
    elif span_days >= 2:
        method, step = "hour-of-day", per_day
    else:
        return _trailing(history, per_day, span_days)
    count = max(1, min(baseline_days * per_day // step, int(span_days * per_day) // step))
    recent = np.arange(max(0, pos - 7 * per_day), pos)
    ref_recent = _reference(series, recent, step, count)
    ref_now = _reference(series, np.array([pos]), step, count)[0]
    if math.isnan(ref_now):
        return _trailing(history, per_day, span_days)
    y_day, r_day = series[recent[-LEVEL_DAYS * per_day:]], ref_recent[-LEVEL_DAYS * per_day:]
    ok = ~np.isnan(y_day) & ~np.isnan(r_day)
    y_day = np.minimum(y_day, _cap(r_day))  # an unflagged burst must not lift the level
    level_count = float(np.sum(y_day[ok]))
    level = (level_count + LEVEL_PRIOR) / (np.sum(r_day[ok]) + LEVEL_PRIOR) if ok.any() else 1.0
    level = float(np.clip(level, *LEVEL_CLIP))
    expected = max(MIN_EXPECTED, ref_now * level)
    mu = np.maximum(ref_recent * level, MIN_EXPECTED)
    y = np.minimum(series[recent], _cap(mu))
    ok = ~np.isnan(y) & ~np.isnan(mu)
    dispersion = float(np.sum((y[ok] - mu[ok]) ** 2) / np.sum(mu[ok])) if ok.sum() >= per_day else 2.0
    dispersion = float(np.clip(dispersion, 1.0, MAX_DISPERSION))
    lags = int(np.sum(~np.isnan(_lagged(series, np.array([pos]), step, count))))
    n_eff = max(lags, 1) / sum(w * w for _, w in KERNEL)
    rel_var = dispersion / (max(ref_now, MIN_EXPECTED) * n_eff) + 1.0 / (level_count + LEVEL_PRIOR)
    upper = expected * (1 + UNCERTAINTY_Z * math.sqrt(rel_var))
    return Expectation(float(expected), dispersion, method, float(span_days), float(upper))


def _cap(mu: np.ndarray) -> np.ndarray:
    """A generous upper bound for a count with mean ``mu`` (outliers above it are clipped)."""
    with np.errstate(invalid="ignore"):
        return mu + 4 * np.sqrt(np.maximum(mu, 0)) + 3


def _trailing(history: np.ndarray, per_day: int, span_days: float) -> Expectation:
    window = history[-per_day:]
    window = window[~np.isnan(window)]
    median = float(np.median(window))
    mad = 1.4826 * float(np.median(np.abs(window - median)))
    expected = max(MIN_EXPECTED, median)
    dispersion = max(1.0, mad**2 / expected, float(np.var(window)) / max(float(np.mean(window)), MIN_EXPECTED))
    dispersion = float(min(dispersion, MAX_DISPERSION))
    upper = expected + UNCERTAINTY_Z * 1.2533 * math.sqrt(dispersion * expected / len(window))
    return Expectation(float(expected), dispersion, "trailing-median", float(span_days), float(upper))


def upper_tail(observed: float, expected: float, dispersion: float) -> float:
    """P(X >= observed) for a count with mean ``expected`` and variance ``expected * dispersion``."""
    if observed <= 0:
        return 1.0
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
