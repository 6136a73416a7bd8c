"""Judging one bucket: is its negative volume or negative share a significant spike?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from monitor.config import SpikeConfig
from monitor.spikes.baseline import Expectation, expect, share_tail, upper_tail

PARTIAL_P_FACTOR = 0.1
SHARE_P_FACTOR = 0.1
"""The share test has no relative-rise gate to filter chance, so it needs ten times the evidence."""
SHARE_MIN_TOTAL_FACTOR = 2
"""The share is only judged on buckets with at least twice ``min_count`` scored mentions:
11 negative of 12 is a chance event that a brand with a dozen mentions an hour sees yearly."""
"""The partial current bucket must be ten times as improbable as a complete one."""
ELEVATED_P = 0.05
"""A storm stays open while its buckets are this improbable and half the required rise above."""


@dataclass(frozen=True)
class Judgement:
    """One bucket judged: its counts, expectation, p-values and whether it fired or stays elevated."""

    start: datetime
    end: datetime
    observed: int
    total: int
    expectation: Expectation
    p_volume: float
    volume_fired: bool
    baseline_share: float
    p_share: float
    share_fired: bool
    elevated: bool
    partial: bool

    @property
    def fired(self) -> bool:
        return self.volume_fired or self.share_fired

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "observed": self.observed,
                "expected": round(self.expectation.expected, 2), "p_value": self.p_volume,
                "total": self.total, "share": round(self.observed / self.total, 3) if self.total else 0.0,
                "baseline_share": round(self.baseline_share, 3), "p_share": self.p_share,
                "partial": self.partial}



def judge(cfg: SpikeConfig, series: np.ndarray, totals: np.ndarray, pos: int, observed: int, total: int,
          *, start: datetime, per_day: int, fraction: float = 1.0) -> Judgement | None:
    """Judge a bucket's ``observed`` negatives of ``total`` scored against ``series[:pos]``.

    Returns None without a day of history. ``fraction`` < 1 marks the partial current bucket:
    expectation scaled down, p-value limit stricter.
    """
    exp = expect(series, pos, per_day=per_day, seasonal_min_days=cfg.seasonal_min_days,
                 baseline_days=cfg.baseline_days)
    if exp is None:
        return None
    partial = fraction < 1.0
    if partial:
        exp = Expectation(exp.expected * fraction, exp.dispersion, exp.method, exp.history_days,
                          exp.upper * fraction)
    p_limit = cfg.p_value * (PARTIAL_P_FACTOR if partial else 1.0)
    p_volume = upper_tail(observed, exp.upper, exp.dispersion)
    big_enough = observed >= cfg.min_count
    volume_fired = big_enough and p_volume < p_limit and observed >= exp.expected * (1 + cfg.min_relative_rise)
    hist = ~np.isnan(series[:pos]) & ~np.isnan(totals[:pos])
    neg_sum, tot_sum = float(np.sum(series[:pos][hist])), float(np.sum(totals[:pos][hist]))
    base_share = neg_sum / tot_sum if tot_sum else 0.0
    p_share = share_tail(observed, total, base_share) if tot_sum else 1.0
    share = observed / total if total else 0.0
    share_fired = (big_enough and total >= SHARE_MIN_TOTAL_FACTOR * cfg.min_count and tot_sum > 0
                   and p_share < p_limit * SHARE_P_FACTOR and share - base_share >= cfg.min_negative_share_rise)
    elevated = (p_volume < ELEVATED_P and observed > exp.expected * (1 + cfg.min_relative_rise / 2)) or (
        p_share < ELEVATED_P and share - base_share >= cfg.min_negative_share_rise / 2)
    end = start + (cfg.bucket * fraction if partial else cfg.bucket)
    return Judgement(start, end, observed, total, exp, float(p_volume), bool(volume_fired), float(base_share),
                     float(p_share), bool(share_fired), bool(elevated or volume_fired or share_fired), partial)
