"""The dashboard's aggregate queries as they were before the rollups (commit 441b547), kept only so
``monitor bench`` can time them against today's in the same run. Nothing else calls them.

They re-aggregate every mention of the window, joined to its score and correction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import case, func, select

from dashboard.queries import Source
from dashboard.sql import MB, UNSCORED, M, bucket_expr, label_expr, scored_join, to_timestamps
from dashboard.store import dialect, frame


def _label_counts(stmt: Any) -> Any:
    lab = label_expr()
    return stmt.add_columns(
        func.count().label("mentions"),
        func.sum(case((lab != UNSCORED, 1), else_=0)).label("scored"),
        func.sum(case((lab == "negative", 1), else_=0)).label("negative"),
        func.sum(case((lab == "neutral", 1), else_=0)).label("neutral"),
        func.sum(case((lab == "positive", 1), else_=0)).label("positive"),
    )


def old_brand_totals(src: Source, start: datetime, end: datetime, platforms: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per brand with mentions in [start, end): mentions, scored, negative, neutral, positive."""
    stmt = select(MB.c.brand_id).select_from(MB)
    if platforms:
        stmt = stmt.join(M, M.c.id == MB.c.mention_id).where(M.c.platform.in_(list(platforms)))
    stmt = scored_join(stmt, MB.c.mention_id).where(MB.c.created_at >= start, MB.c.created_at < end)
    return frame(src, _label_counts(stmt).group_by(MB.c.brand_id)).fillna(0).astype(int)


def old_brand_series(src: Source, start: datetime, end: datetime, bucket_seconds: int) -> pd.DataFrame:
    """Counts per time bucket, brand_id and sentiment: columns bucket, brand_id, sentiment, mentions."""
    bucket = bucket_expr(dialect(src), MB.c.created_at, bucket_seconds).label("bucket")
    lab = label_expr().label("sentiment")
    stmt = scored_join(select(bucket, MB.c.brand_id).select_from(MB), MB.c.mention_id)
    stmt = stmt.where(MB.c.created_at >= start, MB.c.created_at < end)
    keys = [bucket, MB.c.brand_id, lab]
    df = frame(src, stmt.with_only_columns(*keys, func.count().label("mentions")).group_by(*keys))
    if not df.empty:
        df["bucket"] = to_timestamps(df["bucket"])
    return df
