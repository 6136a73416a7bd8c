"""Which buckets were really being collected, and which sources have earned the right to page.

Pure numbers, no database. A *unit* is one (source, platform) pair: what one collector
brings in from one platform. Coverage is inferred from the mentions themselves, so it works
the same live, in a backtest and after an import:

* **start**: a unit starts covering a brand at its *first collection* (the earliest
  ``collected_at`` of the brand's mentions from it). Mentions written before that are
  backfill: often a partial page of search results, so they are shown on the dashboard but
  never taught to the baseline (the "86 vs 0.8 expected" artefact of a brand whose
  collection had just started).
* **warm-up**: a unit pages nobody until it has collected for ``spikes.warmup``; until then
  its mentions are left out of the brand's judged count. A brand with no warmed-up unit is
  *warming up* as a whole: nothing is judged, the dashboard still shows its volume.
* **gaps**: a bucket is uncovered for a unit when most of its mentions arrived later than
  ``spikes.late_after`` (a collector catching up after an outage: the backfill may be
  incomplete), or when it lies in a run of empty buckets that the unit's usual volume
  makes improbable (P(nothing) under ``exp(-GAP_EVIDENCE)``: the collector was down and
  the platform cannot backfill). Uncovered buckets are neither judged nor learnt from, so
  a collection gap is not a drop-then-spike.
* **coverage**: each unit's share of the brand's negatives (measured where all warmed-up
  units were covered); a bucket's coverage is the share of units covering it. The
  baseline scales its expectation by it, so history from before a source was added counts
  as history of the sources that existed then; under ``MIN_COVERAGE`` a bucket is unusable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

GAP_EVIDENCE = 10.0
"""A run of empty buckets is a gap when its expected count is at least this (P(0) < 5e-5)."""
MIN_COVERAGE = 0.3
SHARE_DAYS = 14
SHARE_PRIOR = 10.0
"""Pseudo-counts pulling a unit's share of negatives towards its share of all mentions."""

Unit = tuple[str, str]
"""(source, platform)."""


@dataclass(frozen=True)
class UnitCounts:
    """One unit's counts for one brand, one value per bucket position.

    ``scored`` counts the mentions with a sentiment and ``rated`` those the scorer has seen (a
    mention in a language no model covers is rated, not scored); ``people`` counts the distinct
    authors of the negative mentions, ``scored_people`` those of the scored ones.
    ``first_collected`` is the position of the bucket in which the brand was first collected
    from this unit, or None when that happened before the window.
    """

    total: np.ndarray
    scored: np.ndarray
    negative: np.ndarray
    people: np.ndarray
    scored_people: np.ndarray
    late: np.ndarray
    first_collected: int | None
    rated: np.ndarray | None = None
    """Mentions the scorer has seen (None: the same as ``scored``)."""


def unit_gaps(total: np.ndarray, late: np.ndarray, rhythm: np.ndarray, first_collected: int | None,
              per_day: int) -> np.ndarray:
    """The buckets a unit did not cover (True), from its counts over all brands.

    ``rhythm`` is the pooled time-of-day/weekday factor per bucket; the unit's rate comes
    from the covered week before each empty run.
    """
    n = len(total)
    uncovered = np.zeros(n, dtype=bool)
    start = first_collected or 0
    uncovered[:start] = True
    uncovered |= (total > 0) & (late * 2 > total)
    empty = np.flatnonzero((total == 0) & ~uncovered)
    if len(empty) == 0:
        return uncovered
    runs = np.split(empty, np.flatnonzero(np.diff(empty) > 1) + 1)
    for run in runs:
        a = run[0]
        before = np.arange(max(start, a - 7 * per_day), a)
        before = before[~uncovered[before]]
        if len(before) < per_day // 2 or len(before) == 0:
            continue
        rate = float(np.sum(total[before])) / max(float(np.sum(rhythm[before])), 1e-9)
        if rate * float(np.sum(rhythm[run])) >= GAP_EVIDENCE:
            uncovered[run] = True
    return uncovered


@dataclass(frozen=True)
class BrandView:
    """A brand's judged series at one moment: the warmed-up units' counts where covered.

    ``series`` is what is judged (negative people, or negative mentions), NaN where
    unusable; ``negatives`` the negative mentions and ``totals`` the scored people (or
    mentions) of the same units. ``warming`` lists the units still warming up (all of them
    when the brand itself is), ``ready_at`` the position at which the first unit is ready.
    """

    series: np.ndarray
    negatives: np.ndarray
    totals: np.ndarray
    unscored: np.ndarray
    coverage: np.ndarray
    usable: np.ndarray
    included: list[Unit] = field(default_factory=list)
    warming: list[Unit] = field(default_factory=list)
    ready_at: int | None = None

    @property
    def warming_up(self) -> bool:
        return not self.included


def brand_view(units: Mapping[Unit, UnitCounts], uncovered: Mapping[Unit, np.ndarray], t: int, *,
               warmup: int, people: bool, per_day: int) -> BrandView:
    """The brand's view as of position ``t`` (units warmed up by then; shares from before ``t``)."""
    n = len(next(iter(units.values())).total) if units else 0
    starts = {u: (c.first_collected if c.first_collected is not None else -warmup) for u, c in units.items()}
    included = sorted(u for u in units if starts[u] + warmup <= t)
    warming = sorted(u for u in units if u not in included)
    zeros = np.zeros(n)
    if not included:
        ready = min((starts[u] + warmup for u in units), default=None)
        return BrandView(np.full(n, np.nan), zeros, zeros, np.zeros(n, dtype=bool), zeros,
                         np.zeros(n, dtype=bool), [], warming, ready)
    covered = {}
    for u in included:
        c = units[u]
        cov = ~uncovered.get(u, np.zeros(n, dtype=bool)) & ~((c.total > 0) & (c.late * 2 > c.total))
        cov[: max(starts[u], 0)] = False
        covered[u] = cov
    shares = _shares({u: units[u] for u in included}, covered, max(0, t - SHARE_DAYS * per_day), t, people)
    coverage = sum(shares[u] * covered[u] for u in included)
    usable = coverage >= MIN_COVERAGE

    def total(attr: str) -> np.ndarray:
        return sum(np.where(covered[u], getattr(units[u], attr), 0.0) for u in included)

    series = np.where(usable, total("people" if people else "negative"), np.nan)
    unscored = total("total") > sum(np.where(covered[u], units[u].scored if units[u].rated is None
                                             else units[u].rated, 0.0) for u in included)
    totals = total("scored_people" if people else "scored")
    return BrandView(series, total("negative"), totals, unscored, coverage, usable, included, warming,
                     min(starts[u] + warmup for u in included))


def _shares(units: Mapping[Unit, UnitCounts], covered: Mapping[Unit, np.ndarray], a: int, b: int,
            people: bool) -> dict[Unit, float]:
    """Each unit's share of the brand's negatives in ``[a, b)`` where all of them were covered."""
    if len(units) == 1:
        return {u: 1.0 for u in units}
    n = len(next(iter(covered.values())))
    window = np.zeros(n, dtype=bool)
    window[a:b] = True
    both = window & np.logical_and.reduce([covered[u] for u in units])
    counts = {u: float(np.sum((c.people if people else c.negative)[both])) for u, c in units.items()}
    scored = {u: float(np.sum(c.scored[both])) for u, c in units.items()}
    all_counts, all_scored = sum(counts.values()), sum(scored.values())
    out = {}
    for u in units:
        prior = scored[u] / all_scored if all_scored else 1.0 / len(units)
        out[u] = (counts[u] + SHARE_PRIOR * prior) / (all_counts + SHARE_PRIOR)
    return out
