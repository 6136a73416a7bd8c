"""What a bucket's negative count should be: a rhythm times a level, with borrowed strength.

Pure numbers, no database. Arrays hold one value per time bucket, oldest first; ``usable``
marks the buckets that may teach the baseline (covered by collection, not inside a past
alert). The model is a multiplicative Poisson-style one,

    expected[b] = level * slot[time of day of b] * weekday[b] * coverage[b]

* **rhythm** (``slot`` x ``weekday`` x an hour-of-week residual): the brand's own negatives shrunk towards the brand's
  total volume, itself shrunk towards the volume of *all* brands together (empirical-Bayes
  pseudo-counts). A brand seen for two days gets its daily rhythm mostly from the pool; a
  brand with weeks of history gets its own (a regular lunchtime peak is learnt, not alerted).
  Weekday and hour-of-week factors are estimated once ``seasonal_min_days`` of data exist.
* **level**: an exponentially weighted ratio of observed to rhythm over the last week
  (half-life one day, outliers winsorised), with a few pseudo-counts from the brand's
  long-run level, so a slow drift is followed and a thin day does not swing it.
* **coverage**: the share of the brand's usual volume that was being collected in that
  bucket (see :mod:`monitor.spikes.coverage`), so history from before a new source was
  added, or during a partial outage, is scaled instead of read as a quiet spell.
* **overdispersion**: counts are negative binomial, variance ``mu * (1 + alpha * mu)`` (noise
  that scales with volume, as a busy news day does). ``alpha`` is a moment estimate made
  *out of sample* (a rhythm fitted without the last three days, and each day's level taken
  from the days before it, predict them: an in-sample estimate would be flattered by the
  fit, and a day's swing is not known in advance), shrunk towards ``PRIOR_ALPHA`` by the
  evidence: the sum of squared expectations, and the number of held-out days (the swing of a
  day's level is shared by all its hours, so three days say little about it however busy the
  brand: one calm stretch made a busy brand look Poisson and page at 2.4x), floored at 0
  (Poisson) and capped at ``MAX_ALPHA``, plus ``RHYTHM_MISFIT`` for a brand in its first week
  (its rhythm is mostly borrowed and may not fit); ``rel_var`` is the relative variance of the
  level itself, so an estimate made on few mentions asks for more evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

DAY = 86_400
MIN_EXPECTED = 0.25
"""Floor for the expected count, so a bucket that is usually empty is not infinitely surprising."""
SLOT_PRIOR = 8.0
SLOT_SMOOTHING = 0.25
WEEKDAY_PRIOR = 60.0
HOUR_OF_WEEK_PRIOR = 20.0
"""Pseudo-counts (in expected mentions) pulling each time-of-day / weekday / hour-of-week factor to its prior."""
DAY_NOISE = 2.25
"""(day-to-day swing / brand-to-brand weekday difference)^2, about (15% / 10%)^2: days weighing as much as the prior."""
LEVEL_PRIOR = 3.0
"""Pseudo-counts pulling the recent level towards the brand's long-run level."""
LEVEL_DAYS = 7
LEVEL_HALF_LIFE_DAYS = 1.0
TREND_GAIN = 0.6
MAX_TREND = 1.3
"""A rising trend carries the level forward by at most this factor."""
HOLDOUT_DAYS = 3
PRIOR_ALPHA = 0.05
"""Negative-binomial overdispersion assumed before data speaks (about 22% hour-to-hour noise)."""
PRIOR_MASS = 500.0
"""How much evidence (sum of squared expectations) weighs as much as the prior."""
PRIOR_DAYS = 3.0
"""How many held-out days weigh as much as the prior: the part of the overdispersion that a day's
level shares among its hours is seen once per day, however busy the brand."""
MAX_ALPHA = 0.5
RHYTHM_MISFIT = 0.04
"""Extra squared relative error (20%) of a rhythm borrowed from other brands, fading over a brand's first week."""


@dataclass(frozen=True)
class Calendar:
    """Each bucket's time-of-day slot and weekday (Monday 0); ``slots`` slots in a day."""

    slot: np.ndarray
    weekday: np.ndarray
    slots: int
    per_day: int


def calendar(first: int, n: int, size: timedelta) -> Calendar:
    """The calendar of the ``n`` buckets from bucket number ``first`` (epoch-aligned, size ``size``).

    Works for any bucket size: one that does not divide a day gets the slot its start falls
    in; buckets of a day or longer have a single slot, and weekdays only up to a day.
    """
    seconds = size.total_seconds()
    starts = (np.arange(first, first + n, dtype=np.int64) * seconds).astype(np.int64)
    if seconds < DAY:
        slots = math.ceil(DAY / seconds)
        slot = ((starts % DAY) // seconds).astype(np.int64)
    else:
        slots, slot = 1, np.zeros(n, dtype=np.int64)
    weekday = ((starts // DAY + 3) % 7).astype(np.int64) if seconds <= DAY else np.zeros(n, dtype=np.int64)
    return Calendar(slot, weekday, slots, max(1, round(DAY / seconds)))


@dataclass(frozen=True)
class Rhythm:
    """Multiplicative factors: time of day, weekday, and a residual per hour of the week.

    The hour-of-week residual catches what a product of the first two cannot: an audience
    whose weekend starts and ends at local midnight, hours away from UTC midnight.
    """

    slot: np.ndarray
    weekday: np.ndarray
    week: np.ndarray

    def at(self, cal: Calendar, positions: np.ndarray) -> np.ndarray:
        """The factor for each position."""
        s, d = cal.slot[positions], cal.weekday[positions]
        return self.slot[s] * self.weekday[d] * self.week[d * cal.slots + s]

    @staticmethod
    def flat(cal: Calendar) -> Rhythm:
        return Rhythm(np.ones(cal.slots), np.ones(7), np.ones(7 * cal.slots))


def rhythm(counts: np.ndarray, usable: np.ndarray, cal: Calendar, prior: Rhythm, *,
           scale: np.ndarray | None = None, weekly: bool, day_noise: float = DAY_NOISE) -> Rhythm:
    """Time-of-day, weekday and hour-of-week factors of ``counts`` over the ``usable`` buckets, shrunk to ``prior``.

    ``scale`` (coverage) is the exposure of each bucket. Each bucket is compared with its
    own week's level (a centred seven-day ratio), so a trend is not mistaken for a weekday
    pattern; weekday and hour-of-week factors learn only from days with a whole week
    around them. A weekday seen on few days is trusted little whatever its count: one
    brand's quiet Thursday is more likely a quiet day than a pattern (``day_noise``: days
    of data that weigh as much as the prior; 0 for the pool of all brands, whose days
    average out). ``weekly`` False keeps the prior's weekday and hour-of-week factors.
    Returns ``prior`` unchanged when nothing is usable.
    """
    ok = usable & ~np.isnan(counts)
    if not ok.any():
        return prior
    x = counts[ok]
    exposure = scale[ok] if scale is not None else np.ones(len(x))
    slot, day = cal.slot[ok], cal.weekday[ok]
    hw = day * cal.slots + slot
    dayno = np.flatnonzero(ok) // cal.per_day
    dayno -= dayno[0]
    week = np.ones(7)
    full = (dayno >= 3) & (dayno <= dayno[-1] - 3)  # a whole week centred on the day: weekday factors learn here
    f, g, h = prior.slot.copy(), prior.weekday.copy(), prior.week.copy()
    for _ in range(2):
        unit = f[slot] * g[day] * h[hw] * exposure
        observed = np.convolve(np.bincount(dayno, weights=x), week, mode="same")
        expected = np.convolve(np.bincount(dayno, weights=unit), week, mode="same")
        level = (observed / np.maximum(expected, 1e-9))[dayno] * exposure
        e_slot = _smooth(np.bincount(slot, weights=level * g[day] * h[hw], minlength=cal.slots), SLOT_SMOOTHING)
        o_slot = _smooth(np.bincount(slot, weights=x, minlength=cal.slots), SLOT_SMOOTHING)
        f = (o_slot + SLOT_PRIOR * prior.slot) / (e_slot + SLOT_PRIOR)
        f /= _mean_factor(f, slot)
        if weekly:
            e_day = np.bincount(day, weights=full * level * f[slot] * h[hw], minlength=7)
            o_day = np.bincount(day, weights=full * x, minlength=7)
            g = (o_day + WEEKDAY_PRIOR * prior.weekday) / (e_day + WEEKDAY_PRIOR)
            g = _trust(g, prior.weekday, np.bincount(day, weights=full, minlength=7) / cal.slots, day_noise)
            g /= _mean_factor(g, day)
            e_hw = _smooth(np.bincount(hw, weights=full * level * f[slot] * g[day], minlength=7 * cal.slots))
            o_hw = _smooth(np.bincount(hw, weights=full * x, minlength=7 * cal.slots))
            h = (o_hw + HOUR_OF_WEEK_PRIOR * prior.week) / (e_hw + HOUR_OF_WEEK_PRIOR)
            h = _trust(h, prior.week, np.bincount(hw, weights=full, minlength=7 * cal.slots), day_noise)
            h /= _mean_factor(h, hw)
    return Rhythm(f, g, h)


def _trust(estimate: np.ndarray, prior: np.ndarray, days: np.ndarray, day_noise: float) -> np.ndarray:
    """``estimate`` pulled towards ``prior`` (geometrically) unless seen on many days."""
    if day_noise <= 0:
        return estimate
    weight = days / (days + day_noise)
    return prior * np.exp(weight * np.log(np.maximum(estimate, 1e-9) / np.maximum(prior, 1e-9)))


def _smooth(cells: np.ndarray, neighbours: float = 0.5) -> np.ndarray:
    """Each cell blended with its two neighbours (``neighbours`` of the weight, wrapping round the day or week)."""
    if len(cells) < 3:
        return cells
    return (1 - neighbours) * cells + neighbours / 2 * (np.roll(cells, 1) + np.roll(cells, -1))


def _mean_factor(factor: np.ndarray, index: np.ndarray) -> float:
    return max(float(np.mean(factor[index])), 1e-9)


@dataclass(frozen=True)
class Fit:
    """A fitted baseline: ``expected(...)`` gives the mean count of any bucket.

    Counts are negative binomial with variance ``mu * (1 + alpha * mu)``; ``rel_var`` is the
    relative variance of the level estimate (a mean known from few mentions is itself
    uncertain); ``history_days`` is how much usable history taught it and ``effective`` how
    many mentions the level rests on.
    """

    level: float
    rhythm: Rhythm
    alpha: float
    rel_var: float
    history_days: float
    effective: float

    def expected(self, cal: Calendar, positions: np.ndarray, coverage: np.ndarray) -> np.ndarray:
        """Expected counts at ``positions`` (an int array) given each one's ``coverage``."""
        mu = self.level * self.rhythm.at(cal, positions) * coverage[positions]
        return np.maximum(mu, MIN_EXPECTED * np.minimum(coverage[positions], 1.0))

    def dispersion(self, mu: float | np.ndarray) -> float | np.ndarray:
        """Variance over mean of a bucket with mean ``mu``, the level's own uncertainty included."""
        return 1.0 + (self.alpha + self.rel_var) * mu


def fit(y: np.ndarray, coverage: np.ndarray, usable: np.ndarray, end: int, cal: Calendar,
        prior: Rhythm, *, seasonal_min_days: float) -> Fit | None:
    """Fit the baseline on ``y[:end]`` where ``usable``; None when no usable bucket exists.

    ``prior`` is the rhythm to shrink towards (the brand's total volume's, itself shrunk to
    all brands'). ``coverage`` scales each bucket's exposure. The overdispersion is measured
    out of sample: a rhythm fitted without the last ``HOLDOUT_DAYS`` predicts them.
    """
    per_day = cal.per_day
    idx = np.flatnonzero(usable[:end] & ~np.isnan(y[:end]) & (coverage[:end] > 0))
    if len(idx) == 0:
        return None
    span_days = (end - idx[0]) / per_day
    weekly = span_days >= seasonal_min_days
    shape = rhythm(y, _only(usable, idx, len(y)), cal, prior, scale=coverage, weekly=weekly)
    level, effective, recent = _level(y, coverage, idx, end, cal, shape)
    cut = end - HOLDOUT_DAYS * per_day
    before = idx[idx < cut]
    trial = rhythm(y, _only(usable, before, len(y)), cal, prior, scale=coverage, weekly=weekly) if len(before) \
        else prior
    mus, xs = [], []
    for day_start in range(cut, end, per_day):  # each held-out day predicted from the days before it
        seen = idx[idx < day_start]
        day = idx[(idx >= day_start) & (idx < day_start + per_day)]
        if len(seen) == 0 or len(day) == 0:
            continue
        day_level, _, _ = _level(y, coverage, seen, day_start, cal, trial)
        mus.append(np.maximum(day_level * trial.at(cal, day) * coverage[day], MIN_EXPECTED))
        xs.append(y[day])
    mu = np.concatenate(mus) if mus else np.zeros(0)
    x = np.minimum(np.concatenate(xs), _cap(mu)) if xs else np.zeros(0)
    mass = float(np.sum(mu**2))
    raw = float(np.sum((x - mu) ** 2 - mu)) / mass if mass else PRIOR_ALPHA
    trust = mass / (mass + PRIOR_MASS) * len(mus) / (len(mus) + PRIOR_DAYS)
    alpha = trust * raw + (1 - trust) * PRIOR_ALPHA
    alpha += RHYTHM_MISFIT * max(0.0, 1.0 - span_days / 7)  # a borrowed rhythm may not fit this brand yet
    alpha = float(np.clip(alpha, 0.0, MAX_ALPHA))
    mean = float(np.mean(level * shape.at(cal, recent) * coverage[recent])) if len(recent) else level
    rel_var = (1.0 + alpha * mean) / effective
    return Fit(level, shape, alpha, rel_var, len(idx) / per_day, effective)


def _level(y: np.ndarray, coverage: np.ndarray, idx: np.ndarray, end: int, cal: Calendar,
           shape: Rhythm) -> tuple[float, float, np.ndarray]:
    """(level, mentions it rests on, the recent positions) for ``shape`` over the usable ``idx``.

    An exponentially weighted ratio over the last ``LEVEL_DAYS`` (half-life
    ``LEVEL_HALF_LIFE_DAYS``), each count capped near its expectation, plus ``LEVEL_PRIOR``
    pseudo-counts at the long-run level. When a faster average runs above a slower one
    (a rising trend) the level is carried forward along it, so a slow drift upwards is
    followed rather than alerted; a falling trend is not extrapolated (that would only make
    the detector jumpier).
    """
    per_day = cal.per_day
    e = shape.at(cal, idx) * coverage[idx]
    x = y[idx]
    long_level = _winsorised_ratio(x, e, np.ones(len(idx)))
    recent = idx >= end - LEVEL_DAYS * per_day
    age = (end - 1 - idx[recent]) / per_day
    xr, er = np.minimum(x[recent], _cap(long_level * e[recent])), e[recent]

    def average(half_life: float) -> tuple[float, np.ndarray]:
        w = 0.5 ** (age / half_life)
        return (float(np.sum(w * xr)) + LEVEL_PRIOR * long_level) / (float(np.sum(w * er)) + LEVEL_PRIOR), w

    level, weights = average(LEVEL_HALF_LIFE_DAYS)
    fast, _ = average(LEVEL_HALF_LIFE_DAYS / 2)
    slow, _ = average(LEVEL_HALF_LIFE_DAYS * 2)
    if fast > level > slow:  # lags of the three averages: 0.7, 1.4 and 2.9 half-lives' worth
        level = min(fast + TREND_GAIN * (fast - slow), level * MAX_TREND)
    level = max(level, 1e-6)
    we = weights * er * level
    effective = float(np.sum(we)) ** 2 / max(float(np.sum(weights * we)), 1e-9) + LEVEL_PRIOR
    return level, effective, idx[recent]


def _only(usable: np.ndarray, idx: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[idx] = usable[idx]
    return out


def _winsorised_ratio(x: np.ndarray, e: np.ndarray, w: np.ndarray) -> float:
    """sum(w*x)/sum(w*e), then again with ``x`` capped near that level's expectation."""
    den = max(float(np.sum(w * e)), 1e-9)
    level = float(np.sum(w * x)) / den
    return max(float(np.sum(w * np.minimum(x, _cap(level * e)))) / den, 1e-6)


def _cap(mu: np.ndarray | float) -> np.ndarray:
    """A generous upper bound for a count with mean ``mu`` (outliers above it are clipped)."""
    return np.asarray(mu) + 4 * np.sqrt(np.maximum(mu, 0)) + 3
