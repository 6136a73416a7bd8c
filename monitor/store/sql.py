"""SQL expressions every reader shares, each written once: time buckets, the effective label,
seconds between two times, and the unscored backlog.

Buckets are aligned on the Unix epoch on every dialect and for every bucket size: bucket
``n`` of size ``s`` seconds covers ``[n*s, (n+1)*s)`` seconds after 1970-01-01 UTC. Spike
detection works with bucket numbers, the dashboard with bucket start times; both come from
:func:`bucket_number` here and from :func:`bucket_index`/:func:`bucket_start` in Python.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, Select, cast, func, literal_column, select

from monitor.store.tables import Correction, Mention, Sentiment

EPOCH = datetime(1970, 1, 1)
SENTIMENT_LABELS = ("negative", "neutral", "positive")
"""The labels that count as sentiment: a mention labelled ``unsupported`` (a language no model
covers) counts in volume, never in a share, a net sentiment or a spike's scored total."""


def bucket_index(t: datetime, size: timedelta) -> int:
    """The number of the bucket holding naive-UTC ``t``."""
    return math.floor((t - EPOCH).total_seconds() / size.total_seconds())


def bucket_start(index: int, size: timedelta) -> datetime:
    """The naive-UTC start of bucket ``index``."""
    return EPOCH + size * index


def bucket_number(dialect: str, column: Any, seconds: int) -> ColumnElement[int]:
    """``column`` (a naive-UTC timestamp) as its epoch-aligned bucket number, on SQLite or PostgreSQL."""
    seconds = int(seconds)
    if dialect == "sqlite":
        return cast(func.strftime("%s", column), Integer) // seconds
    return cast(func.floor(func.extract("epoch", column) / seconds), BigInteger)


def bucket_start_expr(dialect: str, column: Any, seconds: int) -> ColumnElement[Any]:
    """The start of ``column``'s bucket, aligned as :func:`bucket_number`: epoch seconds on SQLite,
    a timestamp (``date_bin`` from the epoch) on PostgreSQL."""
    seconds = int(seconds)
    if dialect == "sqlite":
        return bucket_number(dialect, column, seconds) * seconds
    return func.date_bin(literal_column(f"interval '{seconds} seconds'"), column,
                         literal_column("timestamp '1970-01-01'"))


def effective_label(correction: Any = Correction.label, model: Any = Sentiment.label) -> ColumnElement[str]:
    """The label a mention counts under: a person's correction, else the model's (NULL when unscored).

    Pass the columns of aliased or Core tables when the query uses them.
    """
    return func.coalesce(correction, model)


def has_sentiment(label: Any) -> ColumnElement[bool]:
    """True where ``label`` (e.g. :func:`effective_label`) is negative, neutral or positive."""
    return label.in_(SENTIMENT_LABELS)


def seconds_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[float]:
    """``later - earlier`` in seconds, as a float (NULL when either is NULL).

    On SQLite from Julian days, rounded to the millisecond (a Julian day's double carries
    about 50 microseconds of noise, so 330 s would come back as 329.99998).
    """
    if dialect == "sqlite":
        return func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0, 3)
    return func.extract("epoch", later - earlier)


def unscored(*columns: Any) -> Select[Any]:
    """``SELECT columns`` over the mentions that have no model score yet (add ORDER BY/LIMIT as needed)."""
    return (select(*columns).select_from(Mention)
            .outerjoin(Sentiment, Sentiment.mention_id == Mention.id)
            .where(Sentiment.mention_id.is_(None)))
