"""Judging one bucket: a sudden spike, a sustained rise, or a jump in the negative share?

Pure numbers, no database: a :class:`~monitor.spikes.coverage.BrandView` (arrays) in, a
:class:`Judgement` out. Three tests, any of which fires:

* **spike** (one bucket): ``observed >= min_count``, at least ``1 + min_relative_rise`` times
  the expectation, with a negative-binomial tail probability under ``p_value``;
* **sustained** (accumulated): the scan statistic of :func:`monitor.spikes.evidence.scan`
  over the last ``SCAN_BUCKETS`` buckets reaches ``sustained_threshold``, the window holds
  ``min_count`` or more and runs at least ``1 + sustained_rise`` times its expectation, and
  the newest bucket is itself above expectation (a storm that just ended does not fire);
* **share**: the negative share of the bucket rose by ``min_negative_share_rise`` with a
  binomial p under a tenth of ``p_value``.

The baseline is fitted only on buckets before the scan window (a guard band: a storm in
progress never raises its own expectation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from monitor.config import SpikeConfig
from monitor.spikes.baseline import Calendar, Rhythm, fit
from monitor.spikes.coverage import BrandView
from monitor.spikes.evidence import NO_SCAN, Scan, scan, share_tail, upper_tail

SCAN_BUCKETS = 6
"""How far back a sustained rise may have started and still count as one window."""
PARTIAL_P_FACTOR = 0.1
"""The partial current bucket must be ten times as improbable as a complete one."""
SHARE_P_FACTOR = 0.1
"""The share test has no relative-rise gate to filter chance, so it needs ten times the evidence."""
SHARE_MIN_TOTAL_FACTOR = 2
"""The share is only judged on buckets with at least twice ``min_count`` scored people."""
SHARE_PRIOR = 50.0
SHARE_PRIOR_BUCKETS = 24.0
"""Buckets' worth of binomial behaviour (rho = 0) assumed before the share's own swing is measured."""
ELEVATED_P = 0.05
"""A storm stays open while its buckets are this improbable and half the required rise above."""


@dataclass(frozen=True)
class Judgement:
    """One bucket judged: its counts, expectation, evidence and whether it fired or stays elevated.

    ``observed`` is the judged count (negative people by default), ``mentions`` the negative
    mentions behind it, ``total`` the scored people (or mentions). ``window`` lists the
    scan window's buckets, oldest first, for the alert's details.
    """

    start: datetime
    end: datetime
    observed: int
    mentions: int
    total: int
    expected: float
    dispersion: float
    p_volume: float
    spike_fired: bool
    scan: Scan
    scan_start: datetime
    sustained_fired: bool
    baseline_share: float
    p_share: float
    share_fired: bool
    elevated: bool
    partial: bool
    method: str
    history_days: float
    window: tuple[dict[str, Any], ...] = ()

    @property
    def volume_fired(self) -> bool:
        return self.spike_fired or self.sustained_fired

    @property
    def fired(self) -> bool:
        return self.volume_fired or self.share_fired

    @property
    def storm_start(self) -> datetime:
        """Where the storm began: this bucket for a spike, the scan window's start for a sustained rise."""
        return self.scan_start if self.sustained_fired and not self.spike_fired else self.start

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "observed": self.observed,
                "mentions": self.mentions, "expected": round(self.expected, 2), "p_value": self.p_volume,
                "total": self.total, "share": round(self.observed / self.total, 3) if self.total else 0.0,
                "baseline_share": round(self.baseline_share, 3), "p_share": self.p_share,
                "scan": round(self.scan.statistic, 2), "partial": self.partial}


def judge(cfg: SpikeConfig, view: BrandView, cal: Calendar, prior: Rhythm, t: int, *, fit_usable: np.ndarray,
          start: datetime, scan_from: int = 0, fraction: float = 1.0) -> Judgement | None:
    """Judge position ``t`` of ``view`` (``fraction`` < 1: the partial current bucket).

    ``fit_usable`` marks the buckets the baseline may learn from (usable and outside past
    alerts); ``scan_from`` is the first position the scan may include (just after the last
    alert closed: the CUSUM reset). Returns None when the bucket cannot be judged (the brand
    is warming up, the bucket is not covered, or nothing usable came before it).
    """
    if view.warming_up or not view.usable[t] or np.isnan(view.series[t]):
        return None
    partial = fraction < 1.0
    first = t
    while first > max(scan_from, t - SCAN_BUCKETS + 1) and view.usable[first - 1]:
        first -= 1
    baseline = fit(view.series, view.coverage, fit_usable, first, cal, prior,
                   seasonal_min_days=cfg.seasonal_min_days)
    if baseline is None:
        return None
    positions = np.arange(first, t + 1)
    mu = baseline.expected(cal, positions, view.coverage)
    if partial:
        mu[-1] *= fraction
    obs = view.series[positions]
    observed, expected = int(obs[-1]), float(mu[-1])
    dispersion = float(baseline.dispersion(expected))
    p_volume = upper_tail(observed, expected, dispersion)
    big_enough = observed >= cfg.min_count
    p_limit = cfg.p_value * (PARTIAL_P_FACTOR if partial else 1.0)
    spike = big_enough and p_volume < p_limit and observed >= expected * (1 + cfg.min_relative_rise)
    found = NO_SCAN if partial else scan(obs, mu, baseline.alpha, baseline.rel_var)
    above = observed > expected
    sustained = (found.statistic >= cfg.sustained_threshold and found.observed >= cfg.min_count
                 and found.ratio >= 1 + cfg.sustained_rise and above)
    volume_up = p_volume < ELEVATED_P and observed > expected
    base_share, p_share, share_fired, share_up = _share(cfg, view, cal, fit_usable, first, t, observed, volume_up)
    elevated = ((p_volume < ELEVATED_P and observed > expected * (1 + cfg.min_relative_rise / 2))
                or (found.statistic >= cfg.sustained_threshold and above) or share_up)
    size = cfg.bucket
    bucket_start = [start - size * (t - int(p)) for p in positions]
    window = tuple(
        {"start": b.isoformat(), "end": (b + size).isoformat(), "observed": int(o), "mentions": int(view.negatives[p]),
         "expected": round(float(m), 2), "p_value": upper_tail(o, m, float(baseline.dispersion(m))),
         "total": int(view.totals[p])}
        for b, p, o, m in zip(bucket_start[:-1], positions[:-1], obs[:-1], mu[:-1], strict=True))
    method = f"{'own' if baseline.history_days >= 7 else 'shared'} rhythm, level from {baseline.effective:.0f}"
    end = start + (size * fraction if partial else size)
    return Judgement(start, end, observed, int(view.negatives[t]), int(view.totals[t]), expected, dispersion,
                     float(p_volume), bool(spike), found, bucket_start[found.first] if found.statistic else start,
                     bool(sustained), base_share, p_share, share_fired, bool(elevated or spike or sustained
                     or share_fired), partial, method, baseline.history_days, window)


def _share(cfg: SpikeConfig, view: BrandView, cal: Calendar, fit_usable: np.ndarray, end: int, t: int,
           observed: int, volume_up: bool) -> tuple[float, float, bool, bool]:
    """(baseline share, p-value, fired, elevated) of the negative share test for position ``t``.

    The usual share is the one at this time of day, shrunk towards the overall share with
    ``SHARE_PRIOR`` pseudo-mentions (a brand whose complaints peak at lunch is not a storm).
    The binomial tail is taken on effective counts: counts divided by the beta-binomial design
    effect ``1 + (n - 1) rho`` (an hour's share swings more than coin flips would, and the more
    the busier the hour), ``rho`` measured on the last week.
    It fires only when the negative volume is up too (``volume_up``): a share that rises
    because the other mentions went quiet is not a storm.
    """
    hist = fit_usable[:end] & ~np.isnan(view.series[:end])
    neg, tot = view.series[:end][hist], view.totals[:end][hist]
    total = int(view.totals[t])
    if not tot.sum() or not total:
        return 0.0, 1.0, False, False
    overall = float(neg.sum() / tot.sum())
    slots = cal.slot[:end][hist]
    by_slot = ((np.bincount(slots, weights=neg, minlength=cal.slots) + SHARE_PRIOR * overall)
               / (np.bincount(slots, weights=tot, minlength=cal.slots) + SHARE_PRIOR))
    base = float(by_slot[cal.slot[t]])
    recent = slice(-7 * cal.per_day, None)
    expect, n = by_slot[slots][recent], tot[recent]
    var = n * expect * (1 - expect)
    # beta-binomial: a bucket's share varies by n e (1 - e) (1 + (n - 1) rho), so a busy hour's share
    # swings more than a quiet one's (a constant dispersion factor fitted mostly on quiet night hours
    # called busy evening peaks storms). rho by the method of moments, shrunk towards 0 (binomial).
    excess = float(np.sum((neg[recent] - n * expect) ** 2 - var))
    room = float(np.sum(var * np.maximum(n - 1, 0)))
    rho = max(0.0, excess / room) if room > 0 else 0.0
    rho *= len(n) / (len(n) + SHARE_PRIOR_BUCKETS)
    spread = 1.0 + max(total - 1, 0) * rho
    p = share_tail(round(observed / spread), round(total / spread), base)  # the tail on effective counts
    rise = observed / total - base
    fired = (observed >= cfg.min_count and total >= SHARE_MIN_TOTAL_FACTOR * cfg.min_count
             and p < cfg.p_value * SHARE_P_FACTOR and rise >= cfg.min_negative_share_rise and volume_up)
    return base, p, fired, p < ELEVATED_P and rise >= cfg.min_negative_share_rise / 2
