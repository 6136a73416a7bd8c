"""Reading counts per bucket from the rollups: what the dashboard's aggregates and spike detection read.

A window ``[start, end)`` is read in three parts: the whole hours inside it from the rollup
tables (cost grows with hours x brands x platforms x labels, not with mentions), and the partial
hours at either end (at most an hour each) counted from the mentions themselves, so a window
that ends "now" is exact to the second. A bucket size that is not a whole number of hours is
counted from the mentions throughout. Buckets are epoch-aligned bucket numbers
(:func:`monitor.store.sql.bucket_number`): bucket ``n`` of size ``s`` starts ``n * s`` seconds
after 1970-01-01 UTC, on every dialect.

``raw=True`` counts everything from the mentions, the way the dashboard did before the rollups
(``monitor bench`` times both).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, case, func, literal, select, union_all
from sqlalchemy.engine import Connection

from monitor.store.rollup_tables import RollupAuthor, RollupEmotion, RollupHour, RollupPeople
from monitor.store.rollups import HOUR, NEGATIVE, UNSCORED, hour_of
from monitor.store.sql import bucket_number, bucket_start, effective_label
from monitor.store.tables import Brand, Correction, Mention, MentionBrand, Sentiment

MB, M, S, C = (cast(Table, t.__table__) for t in (MentionBrand, Mention, Sentiment, Correction))
RH, RE, RA, RP = (cast(Table, t.__table__) for t in (RollupHour, RollupEmotion, RollupAuthor, RollupPeople))


class LabelCount(NamedTuple):
    """Mention-brand links of one brand with one effective label, in one bucket (None: the whole
    window) and on one platform (None: every platform)."""

    brand_id: int
    bucket: int | None
    platform: str | None
    label: str
    mentions: int


class PeopleCount(NamedTuple):
    """Distinct people writing about one brand in one bucket on one platform: at all, and negatively."""

    brand_id: int
    bucket: int
    platform: str
    authors: int
    negative_authors: int


class BucketCount(NamedTuple):
    """What spike detection reads: links per brand, bucket, platform and effective label, and for
    ``negative`` the distinct people who wrote them (``authors``; None for the other labels)."""

    brand_id: int
    bucket: int
    platform: str
    label: str
    mentions: int
    authors: int | None


class Split(NamedTuple):
    """A window cut into the whole hours the rollups answer and the raw parts at its ends."""

    hours: tuple[int, int] | None
    """``[first, last)`` hour numbers read from the rollups, or None."""
    raw: tuple[tuple[datetime, datetime], ...]
    """Time ranges counted from the mentions."""


def split(start: datetime, end: datetime, bucket_seconds: int | None, *, raw: bool = False) -> Split:
    """Cut ``[start, end)`` for a bucket size (None: no buckets); everything raw when ``raw`` or when
    the size is not a whole number of hours."""
    if raw or end <= start or (bucket_seconds is not None and bucket_seconds % 3600):
        return Split(None, ((start, end),) if end > start else ())
    first = hour_of(start) + (bucket_start(hour_of(start), HOUR) != start)
    last = hour_of(end)
    if first >= last:
        return Split(None, ((start, end),))
    a, b = bucket_start(first, HOUR), bucket_start(last, HOUR)
    return Split((first, last), tuple((x, y) for x, y in ((start, a), (b, end)) if y > x))


def brand_ids(conn: Connection) -> list[int]:
    """Every brand's id (the raw parts name them so the brand-and-time index answers)."""
    return [int(i) for i in conn.execute(select(Brand.id)).scalars()]


def label_counts(conn: Connection, start: datetime, end: datetime, bucket_seconds: int | None = None, *,
                 brands: Sequence[int] = (), platforms: Sequence[str] = (), by_platform: bool = False,
                 raw: bool = False) -> list[LabelCount]:
    """Links in ``[start, end)`` per brand, effective label (``unscored`` when there is none), bucket of
    ``bucket_seconds`` (None: one total) and platform (when ``by_platform``); only ``brands`` and
    ``platforms`` when given. Rows with no links are left out. Reads only."""
    parts = split(start, end, bucket_seconds, raw=raw)
    ids = list(brands) or brand_ids(conn)
    totals: Counter[tuple[Any, ...]] = Counter()

    def add(query: Any) -> None:
        for row in conn.execute(query):
            values = iter(row)
            brand = next(values)
            bucket = next(values) if bucket_seconds else None
            platform = next(values) if by_platform else None
            label = next(values)
            totals[(brand, bucket, platform, label)] += int(next(values) or 0)

    if parts.hours is not None:
        keys: list[Any] = [RH.c.brand_id]
        if bucket_seconds:
            keys.append(RH.c.hour // (bucket_seconds // 3600))
        if by_platform:
            keys.append(RH.c.platform)
        keys.append(RH.c.label)
        query = (select(*keys, func.sum(RH.c.mentions))
                 .where(RH.c.hour >= parts.hours[0], RH.c.hour < parts.hours[1], RH.c.brand_id.in_(ids))
                 .group_by(*keys))
        add(query.where(RH.c.platform.in_(list(platforms))) if platforms else query)
    for a, b in parts.raw:
        add(_raw_labels(conn.dialect.name, a, b, bucket_seconds, ids, platforms, by_platform))
    return [LabelCount(int(k[0]), None if k[1] is None else int(k[1]), k[2], k[3], n)
            for k, n in sorted(totals.items(), key=lambda kv: repr(kv[0])) if n]


def _raw_labels(dialect: str, start: datetime, end: datetime, bucket_seconds: int | None, ids: Sequence[int],
                platforms: Sequence[str], by_platform: bool) -> Any:
    """The links in ``[start, end)`` counted from the mentions, keyed as :func:`label_counts` reads them."""
    keys: list[Any] = [MB.c.brand_id]
    if bucket_seconds:
        keys.append(bucket_number(dialect, MB.c.created_at, bucket_seconds))
    if by_platform:
        keys.append(M.c.platform)
    keys.append(func.coalesce(effective_label(C.c.label, S.c.label), literal(UNSCORED)))
    source = MB.join(M, M.c.id == MB.c.mention_id) if (by_platform or platforms) else MB
    source = source.outerjoin(S, S.c.mention_id == MB.c.mention_id).outerjoin(C, C.c.mention_id == MB.c.mention_id)
    query = (select(*keys, func.count()).select_from(source)
             .where(MB.c.brand_id.in_(list(ids)), MB.c.created_at >= start, MB.c.created_at < end)
             .group_by(*keys))
    return query.where(M.c.platform.in_(list(platforms))) if platforms else query


class EmotionCount(NamedTuple):
    """Mention-brand links of one brand with one model emotion in one bucket."""

    brand_id: int
    bucket: int
    emotion: str
    mentions: int


def emotion_counts(conn: Connection, start: datetime, end: datetime, bucket_seconds: int, *,
                   brands: Sequence[int] = (), platforms: Sequence[str] = ()) -> list[EmotionCount]:
    """Links in ``[start, end)`` per brand, bucket and model emotion (links without one left out);
    only ``brands`` and ``platforms`` when given. Reads only."""
    parts = split(start, end, bucket_seconds)
    ids = list(brands) or brand_ids(conn)
    totals: Counter[tuple[int, int, str]] = Counter()
    queries = []
    if parts.hours is not None:
        bucket = RE.c.hour // (bucket_seconds // 3600)
        query = (select(RE.c.brand_id, bucket, RE.c.emotion, func.sum(RE.c.mentions))
                 .where(RE.c.hour >= parts.hours[0], RE.c.hour < parts.hours[1], RE.c.brand_id.in_(ids))
                 .group_by(RE.c.brand_id, bucket, RE.c.emotion))
        queries.append(query.where(RE.c.platform.in_(list(platforms))) if platforms else query)
    for a, b in parts.raw:
        bucket = bucket_number(conn.dialect.name, MB.c.created_at, bucket_seconds)
        source = MB.join(S, S.c.mention_id == MB.c.mention_id)
        if platforms:
            source = source.join(M, M.c.id == MB.c.mention_id)
        query = (select(MB.c.brand_id, bucket, S.c.emotion, func.count()).select_from(source)
                 .where(MB.c.brand_id.in_(ids), MB.c.created_at >= a, MB.c.created_at < b, S.c.emotion.is_not(None))
                 .group_by(MB.c.brand_id, bucket, S.c.emotion))
        queries.append(query.where(M.c.platform.in_(list(platforms))) if platforms else query)
    for query in queries:
        for brand, bucket_no, emotion, n in conn.execute(query):
            totals[(int(brand), int(bucket_no), emotion)] += int(n or 0)
    return [EmotionCount(*k, n) for k, n in sorted(totals.items()) if n]


def people_counts(conn: Connection, start: datetime, end: datetime, bucket_seconds: int, *,
                  brands: Sequence[int] = (), raw: bool = False) -> list[PeopleCount]:
    """Distinct people per brand, bucket and platform in ``[start, end)``: authors of any mention, and
    of a negative one. Each mention without an author counts as its own person. Hourly buckets read
    ``rollup_people``; longer ones count distinct authors over ``rollup_author`` (distinct counts do
    not add up over hours). Reads only."""
    parts = split(start, end, bucket_seconds, raw=raw)
    ids = list(brands) or brand_ids(conn)
    dialect = conn.dialect.name
    out: Counter[tuple[int, int, str, str]] = Counter()
    if parts.hours is not None and bucket_seconds == 3600:
        query = (select(RP.c.brand_id, RP.c.hour, RP.c.platform, RP.c.authors, RP.c.negative_authors)
                 .where(RP.c.hour >= parts.hours[0], RP.c.hour < parts.hours[1], RP.c.brand_id.in_(ids)))
        for b, h, p, authors, negative in conn.execute(query):
            out[(b, h, p, "a")] += authors
            out[(b, h, p, "n")] += negative
        rows: list[Any] = [_raw_people(dialect, a, b, bucket_seconds, ids) for a, b in parts.raw]
    else:
        rows = [_raw_people(dialect, a, b, bucket_seconds, ids) for a, b in parts.raw]
        if parts.hours is not None:
            rows.append(select(RA.c.brand_id, (RA.c.hour // (bucket_seconds // 3600)).label("bucket"), RA.c.platform,
                               RA.c.author, RA.c.mentions, RA.c.negatives)
                        .where(RA.c.hour >= parts.hours[0], RA.c.hour < parts.hours[1], RA.c.brand_id.in_(ids)))
    if rows:
        for b, n, p, authors, negative in conn.execute(_distinct(union_all(*rows).subquery())):
            out[(b, n, p, "a")] += int(authors or 0)
            out[(b, n, p, "n")] += int(negative or 0)
    keys = sorted({k[:3] for k in out})
    return [PeopleCount(int(b), int(n), p, out[(b, n, p, "a")], out[(b, n, p, "n")]) for b, n, p in keys
            if out[(b, n, p, "a")] or out[(b, n, p, "n")]]


def _raw_people(dialect: str, start: datetime, end: datetime, bucket_seconds: int, ids: Sequence[int]) -> Any:
    """One row per link in ``[start, end)``: brand, bucket, platform, author, 1, 1 if negative."""
    label = effective_label(C.c.label, S.c.label)
    source = (MB.join(M, M.c.id == MB.c.mention_id).outerjoin(S, S.c.mention_id == MB.c.mention_id)
              .outerjoin(C, C.c.mention_id == MB.c.mention_id))
    return (select(MB.c.brand_id, bucket_number(dialect, MB.c.created_at, bucket_seconds).label("bucket"),
                   M.c.platform, M.c.author, literal(1).label("mentions"),
                   case((label == NEGATIVE, 1), else_=0).label("negatives"))
            .select_from(source)
            .where(MB.c.brand_id.in_(list(ids)), MB.c.created_at >= start, MB.c.created_at < end))


def _distinct(rows: Any) -> Any:
    """Distinct people per brand, bucket and platform over author rows (``""``: one person per mention)."""
    brand, bucket, platform, author, mentions, negatives = rows.c
    named = author != ""
    return (select(brand, bucket, platform,
                   func.count(func.distinct(case((named & (mentions > 0), author)))) +
                   func.sum(case((named, 0), else_=mentions)),
                   func.count(func.distinct(case((named & (negatives > 0), author)))) +
                   func.sum(case((named, 0), else_=negatives)))
            .group_by(brand, bucket, platform))


def bucket_counts(conn: Connection, start: datetime, end: datetime, bucket_seconds: int,
                  brand_ids: Sequence[int] | None = None) -> list[BucketCount]:
    """Per brand, bucket, platform and effective label in ``[start, end)``: links, and for ``negative``
    the distinct people who wrote them. Buckets are epoch-aligned numbers of ``bucket_seconds``.

    This is what spike detection reads: exact (whole hours from the rollups, the partial hours
    at the ends from the mentions), at a cost that grows with the number of buckets. Sum rows over
    platforms for a brand's bucket: ``authors`` add up over platforms too (an author is told apart
    per platform), never over buckets or labels. Reads only; raises database errors.
    """
    brands = list(brand_ids or ())
    labels = label_counts(conn, start, end, bucket_seconds, brands=brands, by_platform=True)
    people = {(p.brand_id, p.bucket, p.platform): p.negative_authors
              for p in people_counts(conn, start, end, bucket_seconds, brands=brands)}
    return [BucketCount(c.brand_id, cast(int, c.bucket), cast(str, c.platform), c.label, c.mentions,
                        people.get((c.brand_id, c.bucket, c.platform), 0) if c.label == NEGATIVE else None)
            for c in labels]

