"""Every read the dashboard makes: cached, read-only, aggregated in SQL.

Each public function takes a :class:`Source` (the database URL and the cache TTL from
``dashboard.cache_ttl``) first and returns plain data (DataFrames, dicts, ints). Results are
cached with ``st.cache_data`` for the TTL; call :func:`clear` after a write so the next read
sees it. Aggregations GROUP BY in SQL; only aggregated rows or one page of mentions reach pandas.

The counts behind the brand cards, trends and share of voice read the rollups
(:mod:`monitor.store.rollup_reads`): whole hours from the rollup tables, the partial hours at
a window's ends from the mentions, so they cost the same at 10 million mentions as at 10,000.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, select, text

from dashboard.escalation_queries import InboxFilter, inbox
from dashboard.sql import (
    MB,
    SS,
    A,
    B,
    E,
    M,
    MentionFilter,
    S,
    mention_rows,
    mention_select,
    write_csv,
)
from dashboard.store import Source, cached, dialect, engine_for, frame
from dashboard.store import clear as clear  # re-exported for the pages
from dashboard.store import database_problem as database_problem
from monitor.escalations.stats import escalation_stats
from monitor.store import Label, RollupHour, sqlite_path
from monitor.store.rollup_reads import emotion_counts, label_counts
from monitor.store.sql import unscored
from monitor.store.tables import UNSUPPORTED

OPEN_ESCALATION = ("open", "acknowledged")
EXPORT_LIMIT = 250_000  # Streamlit holds a download in memory: keep an export bounded


@cached
def brands(src: Source) -> pd.DataFrame:
    """Columns id, name, is_own; own brands first, then by name."""
    return frame(src, select(B.c.id, B.c.name, B.c.is_own).order_by(B.c.is_own.desc(), B.c.name))


@cached
def platforms(src: Source) -> list[str]:
    """The platforms that have mentions, sorted (read from the rollup, not the mentions)."""
    rh = RollupHour.__table__
    with engine_for(src.url).connect() as conn:
        return [r[0] for r in conn.execute(select(rh.c.platform).where(rh.c.mentions > 0)  # type: ignore[attr-defined]
                                           .group_by(rh.c.platform).order_by(rh.c.platform))]  # type: ignore[attr-defined]


SENTIMENT = tuple(str(v) for v in Label)
TOTAL_COLUMNS = ("mentions", "scored", *SENTIMENT, UNSUPPORTED)


@cached
def brand_totals(src: Source, start: datetime, end: datetime, platforms: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per brand with mentions in [start, end): mentions (every one, unscored and unsupported included),
    scored (negative + neutral + positive: what negative share and net sentiment divide by), negative,
    neutral, positive, unsupported (a language the model does not cover)."""
    with engine_for(src.url).connect() as conn:
        rows = label_counts(conn, start, end, None, platforms=platforms)
    counts: dict[int, dict[str, int]] = {}
    for r in rows:
        brand = counts.setdefault(r.brand_id, dict.fromkeys(TOTAL_COLUMNS, 0))
        brand["mentions"] += r.mentions
        if r.label in SENTIMENT or r.label == UNSUPPORTED:
            brand[r.label] += r.mentions
    for brand in counts.values():
        brand["scored"] = sum(brand[lab] for lab in SENTIMENT)
    df = pd.DataFrame([{"brand_id": b, **c} for b, c in counts.items()], columns=["brand_id", *TOTAL_COLUMNS])
    return df.astype(int)


def _with_times(df: pd.DataFrame, bucket_seconds: int) -> pd.DataFrame:
    """``df`` with its bucket numbers as the naive-UTC timestamps they start at."""
    if not df.empty:
        df["bucket"] = pd.to_datetime(df["bucket"].astype("int64") * bucket_seconds, unit="s")
    return df


@cached
def brand_series(
    src: Source,
    start: datetime,
    end: datetime,
    bucket_seconds: int,
    platforms: tuple[str, ...] = (),
    brand_ids: tuple[int, ...] = (),
    by_platform: bool = False,
) -> pd.DataFrame:
    """Counts per time bucket, brand_id, sentiment (and platform): columns bucket, brand_id,
    [platform,] sentiment, mentions; bucket is a naive UTC timestamp. ``sentiment`` is the effective
    label, ``unscored`` or ``unsupported``."""
    with engine_for(src.url).connect() as conn:
        rows = label_counts(conn, start, end, bucket_seconds, brands=brand_ids, platforms=platforms,
                            by_platform=by_platform)
    df = pd.DataFrame(rows, columns=["brand_id", "bucket", "platform", "sentiment", "mentions"])
    columns = ["bucket", "brand_id", *(["platform"] if by_platform else []), "sentiment", "mentions"]
    return _with_times(df[columns], bucket_seconds)


@cached
def emotion_series(src: Source, start: datetime, end: datetime, bucket_seconds: int,
                   platforms: tuple[str, ...] = (), brand_ids: tuple[int, ...] = ()) -> pd.DataFrame:
    """Mentions per time bucket, brand_id and the model's emotion (anger, joy, optimism, sadness; those
    without one left out): columns bucket, brand_id, emotion, mentions."""
    with engine_for(src.url).connect() as conn:
        rows = emotion_counts(conn, start, end, bucket_seconds, brands=brand_ids, platforms=platforms)
    df = pd.DataFrame(rows, columns=["brand_id", "bucket", "emotion", "mentions"])
    return _with_times(df[["bucket", "brand_id", "emotion", "mentions"]], bucket_seconds)


@cached
def open_work(src: Source) -> pd.DataFrame:
    """Per brand_id: open_escalations (open or acknowledged) and active_alerts (is_open)."""
    esc = frame(
        src,
        select(E.c.brand_id, func.count().label("open_escalations"))
        .where(E.c.status.in_(OPEN_ESCALATION))
        .group_by(E.c.brand_id),
    )
    alerts = frame(
        src, select(A.c.brand_id, func.count().label("active_alerts")).where(A.c.is_open).group_by(A.c.brand_id)
    )
    return esc.merge(alerts, on="brand_id", how="outer").fillna(0).astype(int)


@cached
def mention_count(src: Source, f: MentionFilter) -> int:
    """How many mentions match ``f``."""
    stmt = mention_rows(f).order_by(None).with_only_columns(func.count())
    with engine_for(src.url).connect() as conn:
        return int(conn.execute(stmt).scalar_one())


@cached
def mention_page(src: Source, f: MentionFilter, page: int, page_size: int) -> pd.DataFrame:
    """One page (0-based) of mentions matching ``f``, newest first, with a ``brands`` column."""
    df = frame(src, mention_rows(f).limit(page_size).offset(page * page_size))
    if df.empty:
        df["brands"] = []
        return df
    names = frame(
        src,
        select(MB.c.mention_id, B.c.name)
        .join(B, B.c.id == MB.c.brand_id)
        .where(MB.c.mention_id.in_([int(i) for i in df["id"]])),
    )
    joined = names.groupby("mention_id")["name"].agg(lambda s: ", ".join(sorted(s)))
    df["brands"] = df["id"].map(joined).fillna("")
    return df


def mentions_csv(src: Source, f: MentionFilter, limit: int = EXPORT_LIMIT) -> io.BytesIO:
    """The newest ``limit`` mentions matching ``f`` as CSV, streamed from the database (not cached)."""
    with engine_for(src.url).connect() as conn:
        return write_csv(conn, mention_rows(f).limit(limit))


@cached
def mention_detail(src: Source, mention_id: int) -> dict[str, Any] | None:
    """The mention, its model score and any correction, as one dict; None if unknown."""
    df = frame(src, mention_select().where(M.c.id == mention_id))
    return None if df.empty else df.iloc[0].to_dict()


def escalation_queue(src: Source, statuses: tuple[str, ...], brand_ids: tuple[int, ...] = ()) -> pd.DataFrame:
    """Escalations in ``statuses`` as the inbox orders them (priority, then the oldest post first), with
    their mention; see :func:`dashboard.escalation_queries.inbox` for the columns and more filters."""
    return inbox(src, InboxFilter(statuses=statuses, brand_ids=brand_ids))


@cached
def escalation_timings(src: Source, start: datetime, end: datetime) -> dict[str, float | None]:
    """Median and p90 seconds to acknowledge and to resolve, for escalations created in the window.

    Keys: ack_median, ack_p90, resolve_median, resolve_p90 (None when nothing to measure), created, and the
    count in each status (open, acknowledged, resolved, dismissed).
    Counted by :func:`monitor.escalations.stats.escalation_stats`, the one rule for these figures.
    """
    with engine_for(src.url).connect() as conn:
        stats = escalation_stats(conn, start, end)

    def seconds(value: Any) -> float | None:
        return value.total_seconds() if value is not None else None

    return {"created": float(stats.total), **{k: float(v) for k, v in stats.by_status.items()},
            "ack_median": seconds(stats.time_to_acknowledge_median), "ack_p90": seconds(stats.time_to_acknowledge_p90),
            "resolve_median": seconds(stats.time_to_resolve_median), "resolve_p90": seconds(stats.time_to_resolve_p90)}


@cached
def alert_history(src: Source, start: datetime, end: datetime, brand_ids: tuple[int, ...] = ()) -> pd.DataFrame:
    """Alerts whose window overlaps [start, end), newest first, with the brand name and details."""
    stmt = (
        select(
            A.c.id, B.c.name.label("brand"), A.c.brand_id, A.c.kind, A.c.is_open, A.c.window_start,
            A.c.window_end, A.c.observed, A.c.expected, A.c.severity, A.c.details, A.c.created_at,
            A.c.acknowledged_by, A.c.resolved_by,
        )
        .join(B, B.c.id == A.c.brand_id)
        .where(A.c.window_end > start, A.c.window_start < end)
        .order_by(A.c.window_start.desc(), A.c.id.desc())
        .limit(1000)
    )
    if brand_ids:
        stmt = stmt.where(A.c.brand_id.in_(list(brand_ids)))
    return frame(src, stmt)


@cached
def source_health(src: Source) -> pd.DataFrame:
    """One row per collector: name, last_run_at, last_success_at, last_error, last_error_at,
    mentions_collected, runs, paused_until, paused_reason."""
    cols = [SS.c[n] for n in ("name", "last_run_at", "last_success_at", "last_error", "last_error_at",
                              "mentions_collected", "runs", "paused_until", "paused_reason")]
    return frame(src, select(*cols).order_by(SS.c.name))


@cached
def backlog(src: Source) -> dict[str, Any]:
    """Mentions stored and those without a model score: keys mentions, unscored, oldest_unscored."""
    with engine_for(src.url).connect() as conn:
        total = conn.execute(select(func.count()).select_from(M)).scalar_one()
        row = conn.execute(unscored(func.count(), func.min(M.c.created_at))).one()
    return {"mentions": int(total), "unscored": int(row[0]), "oldest_unscored": row[1]}


@cached
def model_versions(src: Source) -> pd.DataFrame:
    """Per model_version in the sentiment table: mentions scored, first and last scored_at."""
    stmt = (
        select(
            S.c.model_version,
            func.count().label("mentions"),
            func.min(S.c.scored_at).label("first_scored"),
            func.max(S.c.scored_at).label("last_scored"),
        )
        .group_by(S.c.model_version)
        .order_by(func.max(S.c.scored_at).desc())
    )
    return frame(src, stmt)


@cached
def database_size(src: Source) -> int | None:
    """Bytes on disk: the SQLite file plus its -wal and -shm, or pg_database_size; None if unknown."""
    path = sqlite_path(src.url)
    if path is not None:
        files = [Path(f"{path}{suffix}").expanduser() for suffix in ("", "-wal", "-shm")]
        return sum(p.stat().st_size for p in files if p.exists())
    if dialect(src) == "postgresql":
        with engine_for(src.url).connect() as conn:
            return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    return None

