"""What a bucket's negative count should be: a rhythm times a level, with borrowed strength.

Pure numbers, no database. Arrays hold one value per time bucket, oldest first; ``usable``
marks the buckets that may teach the baseline (covered by collection, not inside a past
alert). The model is a multiplicative Poisson-style one,

    expected[b] = level * slot[time of day of b] * weekday[b] * coverage[b]

* **rhythm** (``slot`` x ``weekday``): the brand's own negatives shrunk towards the brand's
  total volume, itself shrunk towards the volume of *all* brands together (empirical-Bayes
  pseudo-counts). A brand seen for two days gets its daily rhythm mostly from the pool; a
  brand with weeks of history gets its own (a regular lunchtime peak is learnt, not alerted).
  Weekday factors are estimated once ``seasonal_min_days`` of data exist.
* **level**: an exponentially weighted ratio of observed to rhythm over the last week
  (half-life one day, outliers winsorised), with a few pseudo-counts from the brand's
  long-run level, so a slow drift is followed and a thin day does not swing it.
* **coverage**: the share of the brand's usual volume that was being collected in that
  bucket (see :mod:`monitor.spikes.coverage`), so history from before a new source was
  added, or during a partial outage, is scaled instead of read as a quiet spell.
* **dispersion** (variance/mean): sum of squared residuals over sum of expected in the last
  week, shrunk towards ``PRIOR_DISPERSION`` with ``PRIOR_BUCKETS`` pseudo-buckets, floored
  at 1 (Poisson) and capped at ``MAX_DISPERSION``; ``rel_var`` is the relative variance of
  the level itself, so an estimate made on few mentions asks for more evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

DAY = 86_400
MIN_EXPECTED = 0.25
"""Floor for the expected count, so a bucket that is usually empty is not infinitely surprising."""
SLOT_PRIOR = 20.0
WEEKDAY_PRIOR = 60.0
"""Pseudo-counts (in expected mentions) pulling each time-of-day / weekday factor to its prior."""
LEVEL_PRIOR = 3.0
"""Pseudo-counts pulling the recent level towards the brand's long-run level."""
LEVEL_DAYS = 7
LEVEL_HALF_LIFE_DAYS = 1.0
PRIOR_DISPERSION = 1.5
PRIOR_BUCKETS = 24.0
MAX_DISPERSION = 4.0


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
    """Multiplicative time-of-day and weekday factors (each averaging 1 over the data they came from)."""

    slot: np.ndarray
    weekday: np.ndarray

    def at(self, cal: Calendar, positions: np.ndarray) -> np.ndarray:
        """The factor for each position."""
        return self.slot[cal.slot[positions]] * self.weekday[cal.weekday[positions]]

    @staticmethod
    def flat(cal: Calendar) -> Rhythm:
        return Rhythm(np.ones(cal.slots), np.ones(7))


def rhythm(counts: np.ndarray, usable: np.ndarray, cal: Calendar, prior: Rhythm, *,
           scale: np.ndarray | None = None, weekly: bool) -> Rhythm:
    """Time-of-day and weekday factors of ``counts`` over the ``usable`` buckets, shrunk to ``prior``.

    ``scale`` (coverage) is the exposure of each bucket. ``weekly`` False keeps the prior's
    weekday factors. Returns ``prior`` unchanged when nothing is usable.
    """
    ok = usable & ~np.isnan(counts)
    if not ok.any():
        return prior
    x = counts[ok]
    exposure = scale[ok] if scale is not None else np.ones(len(x))
    slot, day = cal.slot[ok], cal.weekday[ok]
    f, g = prior.slot.copy(), prior.weekday.copy()
    for _ in range(2):
        level = x.sum() / max(float(np.sum(f[slot] * g[day] * exposure)), 1e-9)
        e_slot = np.bincount(slot, weights=level * g[day] * exposure, minlength=cal.slots)
        o_slot = np.bincount(slot, weights=x, minlength=cal.slots)
        f = (o_slot + SLOT_PRIOR * prior.slot) / (e_slot + SLOT_PRIOR)
        f /= _mean_factor(f, slot)
        if weekly:
            e_day = np.bincount(day, weights=level * f[slot] * exposure, minlength=7)
            o_day = np.bincount(day, weights=x, minlength=7)
            g = (o_day + WEEKDAY_PRIOR * prior.weekday) / (e_day + WEEKDAY_PRIOR)
            g /= _mean_factor(g, day)
    return Rhythm(f, g)


def _mean_factor(factor: np.ndarray, index: np.ndarray) -> float:
    return max(float(np.mean(factor[index])), 1e-9)


@dataclass(frozen=True)
class Fit:
    """A fitted baseline: ``expected(...)`` gives the mean count of any bucket.

    ``dispersion`` is variance over mean (>= 1); ``rel_var`` the relative variance of the
    level estimate; ``history_days`` how much usable history taught it; ``effective`` the
    number of mentions the level rests on.
    """

    level: float
    rhythm: Rhythm
    dispersion: float
    rel_var: float
    history_days: float
    effective: float

    def expected(self, cal: Calendar, positions: np.ndarray, coverage: np.ndarray) -> np.ndarray:
        """Expected counts at ``positions`` (an int array) given each one's ``coverage``."""
        mu = self.level * self.rhythm.at(cal, positions) * coverage[positions]
        return np.maximum(mu, MIN_EXPECTED * np.minimum(coverage[positions], 1.0))


def fit(y: np.ndarray, coverage: np.ndarray, usable: np.ndarray, end: int, cal: Calendar,
        prior: Rhythm, *, seasonal_min_days: float) -> Fit | None:
    """Fit the baseline on ``y[:end]`` where ``usable``; None when no usable bucket exists.

    ``prior`` is the rhythm to shrink towards (the brand's total volume's, itself shrunk to
    all brands'). ``coverage`` scales each bucket's exposure.
    """
    per_day = cal.per_day
    idx = np.flatnonzero(usable[:end] & ~np.isnan(y[:end]) & (coverage[:end] > 0))
    if len(idx) == 0:
        return None
    span_days = (end - idx[0]) / per_day
    shape = rhythm(y, _only(usable, idx, len(y)), cal, prior, scale=coverage, weekly=span_days >= seasonal_min_days)
    e = shape.at(cal, idx) * coverage[idx]
    x = y[idx]
    long_level = _winsorised_ratio(x, e, np.ones(len(idx)))
    recent = idx >= end - LEVEL_DAYS * per_day
    weights = 0.5 ** ((end - 1 - idx[recent]) / (LEVEL_HALF_LIFE_DAYS * per_day))
    xr, er = x[recent], e[recent]
    capped = np.minimum(xr, _cap(long_level * er))
    level = (float(np.sum(weights * capped)) + LEVEL_PRIOR * long_level) / (float(np.sum(weights * er)) + LEVEL_PRIOR)
    level = max(level, 1e-6)
    mu = np.maximum(level * er, MIN_EXPECTED)
    resid = np.minimum(xr, _cap(mu)) - mu
    n = len(mu)
    raw = float(np.sum(resid**2) / np.sum(mu)) if n else PRIOR_DISPERSION
    dispersion = (n * raw + PRIOR_BUCKETS * PRIOR_DISPERSION) / (n + PRIOR_BUCKETS)
    dispersion = float(np.clip(dispersion, 1.0, MAX_DISPERSION))
    we = weights * er * level
    effective = float(np.sum(we)) ** 2 / max(float(np.sum(weights * we)), 1e-9) + LEVEL_PRIOR
    return Fit(level, shape, dispersion, dispersion / effective, len(idx) / per_day, effective)


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
