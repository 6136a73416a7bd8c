"""Spike detection: each run counts the buckets in SQL and judges the ones completed since the last.

For every brand, each run (every ``spikes.interval``):

1. counts the last ``baseline_days`` (plus catch-up) per unit and bucket (:mod:`.counts`);
2. works out which buckets were covered and which units have warmed up (:mod:`.coverage`);
3. judges every complete bucket not judged yet, the last few again when late mentions
   raised them, and the current partial bucket once a quarter of it has passed (only its
   single-bucket test, at a ten times stricter p-value, and it never closes an alert)
   (:mod:`.judgement`);
4. folds each verdict into the brand's one alert per storm (:mod:`.alerts`).

Which complete bucket each brand was last judged on is kept in ``job_state`` (name
``spikes:<brand id>``); the very first run judges the buckets of the last ``cooldown``. A
bucket that still has unscored mentions waits one bucket for the scorer before it is
judged anyway. A brand that is warming up is skipped (its buckets count as judged).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor.config import Config
from monitor.spikes.alerts import apply
from monitor.spikes.baseline import Calendar, Rhythm, calendar, rhythm
from monitor.spikes.counts import bucket_counts, by_brand, window_counts
from monitor.spikes.coverage import BrandView, Unit, UnitCounts, brand_view, unit_gaps
from monitor.spikes.judgement import SCAN_BUCKETS, Judgement, judge
from monitor.store import Alert, Brand, JobState, session_scope, utcnow
from monitor.store.sql import bucket_index, bucket_start

__all__ = ["bucket_counts", "bucket_index", "detect_spikes"]

MAX_CATCH_UP = 48
"""After downtime, judge at most this many missed buckets (older ones are history only)."""
MASK_ALERT_BUCKETS = 24
"""Only an alert's first buckets are hidden from the baseline: a lasting new level is learnt."""
PARTIAL_MIN_FRACTION = 0.25
LATE_BUCKETS = 3
"""Complete buckets judged again when mentions arrived late (a collector behind, a rate limit)."""


class _Brand:
    """One brand's arrays for this run, with a view per set of warmed-up units."""

    def __init__(self, units: dict[Unit, UnitCounts], gaps: dict[Unit, np.ndarray], cal: Calendar, pooled: Rhythm,
                 config: Config, alerts: list[Alert], first: int) -> None:
        self.units, self.gaps, self.cal, self.pooled = units, gaps, cal, pooled
        self.cfg = config.spikes
        self.warmup = math.ceil(self.cfg.warmup / self.cfg.bucket)
        self.views: dict[tuple[Unit, ...], tuple[BrandView, np.ndarray]] = {}
        n, size = len(cal.slot), self.cfg.bucket
        self.masked = np.zeros(n, dtype=bool)
        self.reset = -1
        for alert in alerts:
            a = max(bucket_index(alert.window_start, size) - first, 0)
            b = min(bucket_index(alert.window_end - timedelta(microseconds=1), size) - first + 1,
                    a + MASK_ALERT_BUCKETS, n)
            self.masked[a:max(a, b)] = True
            if alert.closed_at is not None:
                self.reset = max(self.reset, bucket_index(alert.closed_at - timedelta(microseconds=1), size) - first)

    def view(self, t: int) -> tuple[BrandView, Rhythm, np.ndarray]:
        """The view as of position ``t``, the brand's prior rhythm and the buckets the baseline may learn from."""
        key = tuple(sorted(u for u, c in self.units.items()
                           if (c.first_collected if c.first_collected is not None else -self.warmup)
                           + self.warmup <= t))
        if key not in self.views:
            v = brand_view(self.units, self.gaps, t, warmup=self.warmup, people=self.cfg.people,
                           per_day=self.cal.per_day)
            self.views[key] = (v, v.usable & ~self.masked)
        v, fit_usable = self.views[key]
        before = fit_usable & (np.arange(len(fit_usable)) <= t - SCAN_BUCKETS)  # nothing the scan will judge
        prior = rhythm(v.totals, before, self.cal, self.pooled, scale=v.coverage,
                       weekly=len(self.cal.slot) >= self.cfg.seasonal_min_days * self.cal.per_day)
        return v, prior, fit_usable

    def judge(self, t: int, start: datetime, fraction: float = 1.0) -> Judgement | None:
        v, prior, fit_usable = self.view(t)
        return judge(self.cfg, v, self.cal, prior, t, fit_usable=fit_usable, start=start,
                     scan_from=self.reset + 1, fraction=fraction)


def _pooled(units: dict[int, dict[Unit, UnitCounts]], cal: Calendar, seasonal_min_days: int,
            ) -> tuple[Rhythm, dict[Unit, np.ndarray]]:
    """All brands' rhythm (from all their mentions) and each unit's uncovered buckets."""
    n = len(cal.slot)
    totals: dict[Unit, np.ndarray] = {}
    late: dict[Unit, np.ndarray] = {}
    start: dict[Unit, int] = {}
    for brand_units in units.values():
        for unit, c in brand_units.items():
            totals[unit] = totals.get(unit, np.zeros(n)) + c.total
            late[unit] = late.get(unit, np.zeros(n)) + c.late
            first = c.first_collected if c.first_collected is not None else 0
            start[unit] = min(start.get(unit, n), first)
    pooled_total = sum(totals.values(), np.zeros(n))
    seen = np.flatnonzero(pooled_total > 0)
    usable = np.zeros(n, dtype=bool)
    if len(seen):
        usable[seen[0]:n - SCAN_BUCKETS] = True  # the buckets being judged do not shape the rhythm
    weekly = len(seen) > 0 and (n - seen[0]) >= seasonal_min_days * cal.per_day
    pooled = rhythm(pooled_total, usable, cal, Rhythm.flat(cal), weekly=weekly, day_noise=0)
    factor = pooled.at(cal, np.arange(n))
    return pooled, {unit: unit_gaps(totals[unit], late[unit], factor, start[unit], cal.per_day) for unit in totals}


def _state(session: Session, brand_id: int) -> JobState:
    name = f"spikes:{brand_id}"
    return session.get(JobState, name) or JobState(name=name)


def detect_spikes(engine: Engine, config: Config, *, now: datetime | None = None) -> list[Alert]:
    """Judge the buckets completed since the last run for every brand; returns new or changed alerts.

    A returned alert may be new (the outbox then delivers it to each channel), updated by a
    storm that goes on, or just closed. Raises SQLAlchemy errors unchanged; then nothing is
    saved and the next run judges the same buckets again.
    """
    cfg = config.spikes
    now = now or utcnow()
    size = cfg.bucket
    per_day = max(1, round(timedelta(days=1) / size))
    current = bucket_index(now, size)
    first = current - MAX_CATCH_UP - cfg.baseline_days * per_day - 1
    n = current - first + 1
    cal = calendar(first, n, size)
    changed: dict[int, Alert] = {}
    with session_scope(engine) as session:
        units = by_brand(window_counts(engine, session, first, now, size, cfg.late_after), first, n, size)
        if not units:
            return []
        pooled, gaps = _pooled(units, cal, cfg.seasonal_min_days)
        for brand in session.exec(select(Brand).order_by(Brand.id)).all():
            assert brand.id is not None
            if brand.id not in units:
                continue
            alerts = session.exec(select(Alert).where(Alert.brand_id == brand.id,
                                                      col(Alert.window_end) > bucket_start(first, size))).all()
            b = _Brand(units[brand.id], gaps, cal, pooled, config, list(alerts), first)
            state = _state(session, brand.id)
            has_open = any(a.is_open for a in alerts)
            for j in _judge_brand(b, state, current, first, now, size):
                if not (j.fired or has_open):
                    continue  # nothing to open, nothing to update or close
                for alert in apply(session, config, brand, j, now):
                    changed[alert.id or 0] = alert
                    has_open = alert.is_open
            state.updated_at = now
            session.add(state)
    return list(changed.values())


def _judge_brand(b: _Brand, state: JobState, current: int, first: int, now: datetime,
                 size: timedelta) -> list[Judgement]:
    """The verdicts that may act this run, oldest first; moves the brand's cursor in ``state``."""
    out: list[Judgement] = []
    last = state.cursor.get("last_bucket")
    judged = {int(k): v for k, v in state.cursor.get("judged_negative", {}).items()}
    if last is not None:
        for idx in range(max(current - LATE_BUCKETS, last - LATE_BUCKETS + 1), last + 1):
            v, _, _ = b.view(idx - first)
            value = v.series[idx - first]
            if np.isnan(value) or value <= judged.get(idx, 0):
                continue
            # Late arrivals raised an already-judged bucket: judge it again, but only a firing
            # verdict may act (a calm one must not close an alert that later buckets opened).
            verdict = b.judge(idx - first, bucket_start(idx, size))
            if verdict is not None and verdict.fired:
                out.append(verdict)
    first_run = current - max(1, round(b.cfg.cooldown / size))  # a storm this recent is still news
    done = last
    for idx in range(max(current - MAX_CATCH_UP, (last + 1) if last is not None else first_run), current):
        v, _, _ = b.view(idx - first)
        if v.unscored[idx - first] and idx == current - 1:
            break  # give the scorer one bucket to catch up before judging
        done = idx
        verdict = b.judge(idx - first, bucket_start(idx, size))
        if verdict is not None:
            out.append(verdict)
    elapsed = (now - bucket_start(current, size)) / size
    if elapsed >= PARTIAL_MIN_FRACTION:
        verdict = b.judge(current - first, bucket_start(current, size), fraction=elapsed)
        if verdict is not None and verdict.fired:
            out.append(verdict)
    if done is not None:
        v, _, _ = b.view(done - first)
        state.cursor = {"last_bucket": done, "judged_negative": {
            str(i): float(v.series[i - first]) for i in range(done - LATE_BUCKETS + 1, done + 1)
            if i >= first and not np.isnan(v.series[i - first])},
            "warming_up": [f"{s}/{p}" for s, p in v.warming]}
    return out
