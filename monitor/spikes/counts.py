"""The counts detection judges, taken from the store in one grouped query.

Per brand, per unit (source, platform), per epoch-aligned bucket of ``created_at``: the
mentions, the scored ones, the negative ones (a person's correction, else the model's
label), the distinct *people* behind the negative and behind the scored mentions (an
author counts once per bucket, so one customer's thread of twenty complaints is one
voice; a mention without an author counts as its own person), the mentions collected
later than ``spikes.late_after``, and the earliest ``collected_at``.

Counting a month of mentions every run is the detector's main cost, so :func:`window_counts`
keeps, per process and database, the counts of buckets older than ``HOT_BUCKETS``: those
are taken as final (a mention arriving that late is backfill, which detection does not
learn from anyway) and only the recent buckets are counted again each run. The memo is
dropped when a person's correction or a re-scoring with another model changes old labels,
when the clock goes backwards, or when the bucket size or ``late_after`` changes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import String, case, cast, func, literal
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor.spikes.coverage import Unit, UnitCounts
from monitor.store import Correction, Mention, MentionBrand, Sentiment
from monitor.store.sql import bucket_index, bucket_number, bucket_start, effective_label, has_sentiment, seconds_between

HOT_BUCKETS = 48


class Row(NamedTuple):
    """One (brand, unit, bucket) group."""

    brand_id: int
    unit: Unit
    bucket: int
    total: int
    rated: int
    scored: int
    negative: int
    people: int
    scored_people: int
    late: int
    first_collected: datetime | None


def person_key() -> object:
    """A mention's author, or ``#<mention id>`` when it has none (each such mention is its own person)."""
    return func.coalesce(func.nullif(Mention.author, ""), literal("#", String) + cast(Mention.id, String))


def unit_counts(engine: Engine, session: Session, start: datetime, end: datetime, size: timedelta,
                late_after: timedelta) -> list[Row]:
    """Every (brand, unit, bucket) group of mentions created in ``[start, end)``, counted in SQL."""
    dialect = engine.dialect.name
    bucket = bucket_number(dialect, MentionBrand.created_at, int(size.total_seconds())).label("bucket")
    negative = effective_label() == "negative"
    sentiment = has_sentiment(effective_label())  # scored with a sentiment ("unsupported" languages are not)
    person = person_key()
    late = seconds_between(dialect, Mention.collected_at, Mention.created_at) > late_after.total_seconds()
    query = (
        select(MentionBrand.brand_id, Mention.source, Mention.platform, bucket, func.count(),
               func.count(Sentiment.mention_id), func.sum(case((sentiment, 1), else_=0)),
               func.sum(case((negative, 1), else_=0)),
               func.count(func.distinct(case((negative, person), else_=None))),
               func.count(func.distinct(case((sentiment, person), else_=None))),
               func.sum(case((late, 1), else_=0)), func.min(Mention.collected_at))
        .select_from(MentionBrand)
        .join(Mention, col(Mention.id) == col(MentionBrand.mention_id))
        .outerjoin(Sentiment, col(Sentiment.mention_id) == col(MentionBrand.mention_id))
        .outerjoin(Correction, col(Correction.mention_id) == col(MentionBrand.mention_id))
        .where(col(MentionBrand.created_at) >= start, col(MentionBrand.created_at) < end)
        .group_by(MentionBrand.brand_id, Mention.source, Mention.platform, bucket)
    )
    return [Row(int(b), (str(s), str(p)), int(k), int(n), int(ra), int(sc or 0), int(neg or 0), int(pe), int(sp),
                int(lt or 0), first)
            for b, s, p, k, n, ra, sc, neg, pe, sp, lt, first in session.exec(query).all()]


def by_brand(rows: Iterable[Row], first: int, n: int, size: timedelta) -> dict[int, dict[Unit, UnitCounts]]:
    """Arrays per brand and unit over bucket positions ``[0, n)`` (bucket number ``first + position``)."""
    fields = ("total", "rated", "scored", "negative", "people", "scored_people", "late")
    grouped: dict[int, dict[Unit, dict[str, np.ndarray]]] = {}
    collected: dict[tuple[int, Unit], datetime] = {}
    for r in rows:
        pos = r.bucket - first
        if not 0 <= pos < n:
            continue
        arrays = grouped.setdefault(r.brand_id, {}).setdefault(r.unit, {f: np.zeros(n) for f in fields})
        for f in fields:
            arrays[f][pos] = getattr(r, f)
        key = (r.brand_id, r.unit)
        if r.first_collected is not None and (key not in collected or r.first_collected < collected[key]):
            collected[key] = r.first_collected
    out: dict[int, dict[Unit, UnitCounts]] = {}
    for brand_id, units in grouped.items():
        for unit, arrays in units.items():
            when = collected.get((brand_id, unit))
            start = None if when is None else max(0, bucket_index(when, size) - first)
            out.setdefault(brand_id, {})[unit] = UnitCounts(**arrays, first_collected=start)
    return out


def bucket_counts(engine: Engine, session: Session, start: datetime, end: datetime, size: timedelta,
                  late_after: timedelta = timedelta(hours=6)) -> dict[int, dict[int, tuple[int, int, int, int]]]:
    """Per brand, per bucket number in [start, end): (mentions, scored, negative, negative people)."""
    out: dict[int, dict[int, tuple[int, int, int, int]]] = {}
    for r in unit_counts(engine, session, start, end, size, late_after):
        a, b, c, d = out.setdefault(r.brand_id, {}).get(r.bucket, (0, 0, 0, 0))
        out[r.brand_id][r.bucket] = (a + r.total, b + r.scored, c + r.negative, d + r.people)
    return out


@dataclass
class _Memo:
    fingerprint: Any
    frozen_until: int
    last_current: int
    rows: list[Row] = field(default_factory=list)


_MEMOS: dict[tuple[str, int, float], _Memo] = {}
_LOCK = threading.Lock()


def _fingerprint(session: Session) -> Any:
    """What, when it changes, makes old counts stale: the model versions present and the corrections."""
    versions = sorted(session.execute(select(Sentiment.model_version).distinct()).scalars())
    corrections = session.execute(select(func.count(), func.max(Correction.corrected_at))).one()
    return versions, tuple(corrections)


def window_counts(engine: Engine, session: Session, first: int, now: datetime, size: timedelta,
                  late_after: timedelta) -> list[Row]:
    """:func:`unit_counts` for buckets ``first`` up to ``now``, old buckets from the memo (see the module doc)."""
    current = bucket_index(now, size)
    key = (str(engine.url), int(size.total_seconds()), late_after.total_seconds())
    hot = max(first, current - HOT_BUCKETS)
    with _LOCK:
        fingerprint = _fingerprint(session)
        memo = _MEMOS.get(key)
        if memo is None or memo.fingerprint != fingerprint or current < memo.last_current or memo.frozen_until < first:
            memo = _Memo(fingerprint, first, current)
        if memo.frozen_until < hot:
            memo.rows += unit_counts(engine, session, bucket_start(memo.frozen_until, size), bucket_start(hot, size),
                                     size, late_after)
            memo.frozen_until = hot
        memo.rows = [r for r in memo.rows if r.bucket >= first]
        memo.last_current = current
        _MEMOS[key] = memo
        return memo.rows + unit_counts(engine, session, bucket_start(hot, size), now, size, late_after)
