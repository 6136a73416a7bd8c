"""Spike detection: negative volume and negative share per brand, per time bucket.

Each run counts mentions per bucket in SQL, judges every complete bucket not judged yet
(and the current partial bucket, conservatively), and keeps one alert per storm:

* a bucket *fires* when the excess is significant (upper-tail p < ``spikes.p_value``) AND
  ``observed >= min_count`` AND ``observed >= expected * (1 + min_relative_rise)``, on
  volume; or on share, when the negative share rose by ``min_negative_share_rise`` or more
  with a binomial p < ``p_value`` and at least ``min_count`` negatives;
* while the brand has an open alert, firing or still-*elevated* buckets update it (peak
  observed vs expected, window end, severity, details); the first calm complete bucket
  closes it; a bucket that fires within ``cooldown`` of the close reopens the same alert;
  only after the cooldown can a new alert start;
* the partial bucket counts only when a quarter of it has passed, against the expected
  value scaled to the elapsed fraction, at a p-value ten times stricter; it never closes
  an alert. So a fast storm is caught in its own bucket, a normal one at the next run
  after its bucket ends.

Which complete bucket each brand was last judged on is kept in ``job_state`` (name
``spikes:<brand id>``); the very first run judges the buckets of the last ``cooldown``. A
bucket that still has unscored mentions waits one bucket for the scorer before it is
judged anyway.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import case, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor.config import Config
from monitor.spikes.alerts import apply
from monitor.spikes.judgement import judge
from monitor.store import Alert, Brand, Correction, JobState, MentionBrand, Sentiment, session_scope, utcnow
from monitor.store.sql import bucket_index, bucket_number, bucket_start, effective_label

MAX_CATCH_UP = 48
"""After downtime, judge at most this many missed buckets (older ones are history only)."""
MASK_ALERT_BUCKETS = 24
"""Only an alert's first buckets are hidden from the baseline: a lasting new level is learnt."""
PARTIAL_MIN_FRACTION = 0.25
LATE_BUCKETS = 3
"""Complete buckets judged again when mentions arrived late (a collector behind, a rate limit)."""


def bucket_counts(engine: Engine, session: Session, start: datetime, end: datetime,
                  size: timedelta) -> dict[int, dict[int, tuple[int, int, int]]]:
    """Per brand, per bucket index in [start, end): (mentions, scored, negative), counted in SQL."""
    bucket = bucket_number(engine.dialect.name, MentionBrand.created_at, int(size.total_seconds())).label("bucket")
    label = effective_label()
    query = (
        select(MentionBrand.brand_id, bucket, func.count(), func.count(Sentiment.mention_id),
               func.sum(case((label == "negative", 1), else_=0)))
        .select_from(MentionBrand)
        .outerjoin(Sentiment, col(Sentiment.mention_id) == col(MentionBrand.mention_id))
        .outerjoin(Correction, col(Correction.mention_id) == col(MentionBrand.mention_id))
        .where(col(MentionBrand.created_at) >= start, col(MentionBrand.created_at) < end)
        .group_by(MentionBrand.brand_id, bucket)
    )
    out: dict[int, dict[int, tuple[int, int, int]]] = {}
    for brand_id, idx, total, scored, negative in session.exec(query).all():
        out.setdefault(brand_id, {})[int(idx)] = (int(total), int(scored), int(negative or 0))
    return out


def first_seen(session: Session) -> dict[int, datetime]:
    """Each brand's earliest matched mention time."""
    query = select(MentionBrand.brand_id, func.min(MentionBrand.created_at)).group_by(MentionBrand.brand_id)
    return {b: t for b, t in session.exec(query).all() if t is not None}


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
    first_needed = current - MAX_CATCH_UP - cfg.baseline_days * per_day - 1
    changed: dict[int, Alert] = {}
    with session_scope(engine) as session:
        counts = bucket_counts(engine, session, bucket_start(first_needed, size), now, size)
        firsts = first_seen(session)
        for brand in session.exec(select(Brand).order_by(Brand.id)).all():
            assert brand.id is not None
            if brand.id not in firsts:
                continue
            series, totals, unscored = _series(counts.get(brand.id, {}), first_needed, current,
                                               bucket_index(firsts[brand.id], size))
            raw_neg, raw_tot = series.copy(), totals.copy()
            _mask_alerts(session, brand.id, series, first_needed, size)
            state = _state(session, brand.id)
            last = state.cursor.get("last_bucket")
            first_run = current - max(1, round(cfg.cooldown / size))  # a storm this recent is still news
            judged = {int(k): v for k, v in state.cursor.get("judged_negative", {}).items()}
            if last is not None:
                for idx in range(max(current - LATE_BUCKETS, last - LATE_BUCKETS + 1), last + 1):
                    pos = idx - first_needed
                    if np.isnan(raw_neg[pos]) or raw_neg[pos] <= judged.get(idx, 0):
                        continue
                    # Late arrivals raised an already-judged bucket: judge it again, but only a firing
                    # verdict may act (a calm one must not close an alert that later buckets opened).
                    verdict = judge(cfg, series, totals, pos, int(raw_neg[pos]), int(raw_tot[pos]),
                                    start=bucket_start(idx, size), per_day=per_day)
                    if verdict is not None and verdict.fired:
                        for alert in apply(session, config, brand, verdict, now):
                            changed[alert.id or 0] = alert
            todo = range(max(current - MAX_CATCH_UP, (last + 1) if last is not None else first_run), current)
            for idx in todo:
                pos = idx - first_needed
                if np.isnan(raw_neg[pos]):
                    continue  # before the brand's first mention
                if unscored[pos] and idx == current - 1:
                    state.cursor = {"last_bucket": idx - 1}
                    break  # give the scorer one bucket to catch up before judging
                verdict = judge(cfg, series, totals, pos, int(raw_neg[pos]), int(raw_tot[pos]),
                                start=bucket_start(idx, size), per_day=per_day)
                state.cursor = {"last_bucket": idx}
                if verdict is not None:
                    for alert in apply(session, config, brand, verdict, now):
                        changed[alert.id or 0] = alert
            elapsed = (now - bucket_start(current, size)) / size
            if elapsed >= PARTIAL_MIN_FRACTION:
                pos = current - first_needed
                verdict = judge(cfg, series, totals, pos, int(raw_neg[pos]), int(raw_tot[pos]),
                                start=bucket_start(current, size), per_day=per_day, fraction=elapsed)
                if verdict is not None and verdict.fired:
                    for alert in apply(session, config, brand, verdict, now):
                        changed[alert.id or 0] = alert
            done = state.cursor.get("last_bucket")
            if done is not None:
                state.cursor = {"last_bucket": done, "judged_negative": {
                    str(i): int(raw_neg[i - first_needed]) for i in range(done - LATE_BUCKETS + 1, done + 1)
                    if i >= first_needed and not np.isnan(raw_neg[i - first_needed])}}
            state.updated_at = now
            session.add(state)
    return list(changed.values())


def _series(counts: dict[int, tuple[int, int, int]], first: int, current: int,
            brand_first: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = current - first + 1
    neg, tot, unscored = np.zeros(n), np.zeros(n), np.zeros(n, dtype=bool)
    for idx, (total, scored, negative) in counts.items():
        if first <= idx <= current:
            neg[idx - first], tot[idx - first] = negative, scored
            unscored[idx - first] = scored < total
    before = max(0, min(n, brand_first - first))
    neg[:before], tot[:before] = np.nan, np.nan
    return neg, tot, unscored


def _mask_alerts(session: Session, brand_id: int, series: np.ndarray, first: int, size: timedelta) -> None:
    since = bucket_start(first, size)
    alerts = session.exec(select(Alert).where(Alert.brand_id == brand_id, col(Alert.window_end) > since)).all()
    for alert in alerts:
        a = max(bucket_index(alert.window_start, size) - first, 0)
        b = min(bucket_index(alert.window_end - timedelta(microseconds=1), size) - first + 1,
                a + MASK_ALERT_BUCKETS, len(series))
        if b > a:
            series[a:b] = np.nan
