"""The reads behind "what needs me now" and the alert pages: cached, read-only, aggregated in SQL.

Like :mod:`dashboard.queries`, each function takes a :class:`~dashboard.store.Source` first
and returns plain data.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

import pandas as pd
from sqlalchemy import Table, func, or_, select

from dashboard.sql import A, B, E, M
from dashboard.store import Source, cached, frame
from monitor.store import AlertDelivery
from monitor.store.sql import bucket_index, bucket_start

AD = cast(Table, AlertDelivery.__table__)
RECENT = timedelta(hours=24)
"""A storm that ended less than this long ago and nobody resolved still needs someone."""
OPEN_ESCALATION = ("open", "acknowledged")

_ALERT_COLUMNS = (A.c.id, B.c.name.label("brand"), A.c.brand_id, A.c.kind, A.c.is_open, A.c.window_start,
                  A.c.window_end, A.c.observed, A.c.expected, A.c.severity, A.c.details, A.c.created_at,
                  A.c.closed_at, A.c.acknowledged_by, A.c.acknowledged_at, A.c.resolved_by, A.c.resolved_at)


@cached
def active_alerts(src: Source, now: datetime) -> pd.DataFrame:
    """Alerts that need someone: not resolved, and the storm goes on or ended in the last 24 hours.

    Most severe first, then the newest. Columns as :func:`alert`.
    """
    stmt = (select(*_ALERT_COLUMNS).join(B, B.c.id == A.c.brand_id)
            .where(A.c.resolved_at.is_(None), or_(A.c.is_open, A.c.window_end >= now - RECENT))
            .order_by(A.c.severity.desc(), A.c.window_start.desc(), A.c.id.desc()))
    return frame(src, stmt)


@cached
def alert(src: Source, alert_id: int) -> dict[str, Any] | None:
    """One alert with its brand name, who acknowledged and resolved it; None if there is none."""
    df = frame(src, select(*_ALERT_COLUMNS).join(B, B.c.id == A.c.brand_id).where(A.c.id == alert_id))
    return None if df.empty else df.iloc[0].to_dict()


@cached
def alert_list(src: Source, start: datetime, end: datetime) -> pd.DataFrame:
    """Alerts whose window overlaps [start, end), newest first, with a ``delivery`` summary per alert."""
    stmt = (select(*_ALERT_COLUMNS).join(B, B.c.id == A.c.brand_id)
            .where(A.c.window_end > start, A.c.window_start < end)
            .order_by(A.c.window_start.desc(), A.c.id.desc()).limit(1000))
    df = frame(src, stmt)
    if df.empty:
        return df.assign(delivery=[])
    rows = frame(src, select(AD.c.alert_id, AD.c.channel, AD.c.status)
                 .where(AD.c.alert_id.in_([int(i) for i in df["id"]])))
    summary = (rows.assign(part=rows["channel"] + " " + rows["status"]).groupby("alert_id")["part"]
               .agg(lambda s: ", ".join(sorted(s))) if not rows.empty else pd.Series(dtype=str))
    return df.assign(delivery=df["id"].map(summary).fillna("not yet"))


@cached
def deliveries(src: Source, alert_id: int) -> pd.DataFrame:
    """The alert's delivery rows: channel, status, attempts, sent_at, next_attempt_at, last_error, target."""
    stmt = (select(AD.c.channel, AD.c.status, AD.c.attempts, AD.c.sent_at, AD.c.next_attempt_at, AD.c.last_error,
                   AD.c.target).where(AD.c.alert_id == alert_id).order_by(AD.c.id))
    return frame(src, stmt)


@cached
def top_escalations(src: Source, limit: int = 8) -> pd.DataFrame:
    """The top of the escalation inbox: open or acknowledged, in the inbox's own order (highest
    priority first, then the oldest post), so the home page and the inbox never disagree."""
    stmt = (select(E.c.id, E.c.severity, E.c.priority, E.c.status, B.c.name.label("brand"), E.c.created_at,
                   E.c.assignee, E.c.reasons, M.c.platform, M.c.author, M.c.author_reach, M.c.text,
                   M.c.created_at.label("posted_at"), M.c.url)
            .join(B, B.c.id == E.c.brand_id).join(M, M.c.id == E.c.mention_id)
            .where(E.c.status.in_(OPEN_ESCALATION))
            .order_by(E.c.priority.desc(), M.c.created_at.asc(), E.c.id).limit(limit))
    return frame(src, stmt)


@cached
def open_escalations_by_brand(src: Source) -> pd.DataFrame:
    """Per brand_id: open (open or acknowledged) escalations and how many of them are severity 3 or more."""
    stmt = (select(E.c.brand_id, func.count().label("open_escalations"),
                   func.sum((E.c.severity >= 3).cast(E.c.severity.type)).label("urgent_escalations"))
            .where(E.c.status.in_(OPEN_ESCALATION)).group_by(E.c.brand_id))
    return frame(src, stmt).fillna(0).astype(int)


def trouble_order(brand_ids: list[int], alerts: pd.DataFrame, escalations: pd.DataFrame,
                  negative_share: dict[int, float]) -> list[int]:
    """Brands most in trouble first: the worst active alert, then urgent and open escalations, then
    the negative share, then the configured order."""
    worst = alerts.groupby("brand_id")["severity"].max().to_dict() if not alerts.empty else {}
    esc = escalations.set_index("brand_id") if not escalations.empty else pd.DataFrame()

    def key(pos_bid: tuple[int, int]) -> tuple[float, ...]:
        pos, bid = pos_bid
        urgent = float(esc.loc[bid, "urgent_escalations"]) if bid in esc.index else 0.0
        opened = float(esc.loc[bid, "open_escalations"]) if bid in esc.index else 0.0
        return (-float(worst.get(bid, 0)), -urgent, -opened, -negative_share.get(bid, 0.0), float(pos))

    return [bid for _, bid in sorted(enumerate(brand_ids), key=key)]


@cached
def storm_series(src: Source, brand_id: int, start: datetime, end: datetime, bucket_seconds: int) -> pd.DataFrame:
    """Negative mentions per bucket of the brand in [start, end): columns bucket, negative (every bucket)."""
    from dashboard.queries import brand_series

    df = brand_series(src, start, end, bucket_seconds, (), (brand_id,))
    df = df[df["sentiment"] == "negative"] if not df.empty else df
    size = timedelta(seconds=bucket_seconds)
    first = pd.Timestamp(bucket_start(bucket_index(start, size), size))
    buckets = pd.date_range(first, pd.Timestamp(end), freq=f"{bucket_seconds}s", inclusive="left")
    counts = df.groupby("bucket")["mentions"].sum() if not df.empty else pd.Series(dtype=int)
    return pd.DataFrame({"bucket": buckets, "negative": counts.reindex(buckets, fill_value=0).to_numpy()})



@cached
def status(src: Source, _app: Any) -> dict[str, Any]:
    """``monitor status``'s figures (:func:`monitor.status.gather`) for the app's config and engine."""
    from monitor.status import gather

    return gather(_app)
