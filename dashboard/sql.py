"""SQL building blocks for :mod:`dashboard.queries`: tables, dialect-aware expressions, filters.

Everything here builds SQLAlchemy Core statements; nothing runs a query except
:func:`write_csv`, which streams a result into a file without holding it in memory.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any, NamedTuple, cast

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    exists,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.engine import Connection

from monitor.store import Alert, Brand, Correction, Escalation, Mention, MentionBrand, Sentiment, SourceState
from monitor.store.rollups import UNSCORED
from monitor.store.sql import bucket_start_expr, effective_label

M = cast(Table, Mention.__table__)
MB = cast(Table, MentionBrand.__table__)
S = cast(Table, Sentiment.__table__)
C = cast(Table, Correction.__table__)
E = cast(Table, Escalation.__table__)
A = cast(Table, Alert.__table__)
B = cast(Table, Brand.__table__)
SS = cast(Table, SourceState.__table__)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class MentionFilter(NamedTuple):
    """What the mentions explorer shows; a tuple so the cache can hash it."""

    start: datetime
    end: datetime
    brand_ids: tuple[int, ...] = ()
    platforms: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    search: str = ""
    escalated_only: bool = False


def label_expr() -> ColumnElement[str]:
    """The label a mention counts under (:func:`monitor.store.sql.effective_label`), else ``unscored``."""
    return func.coalesce(effective_label(C.c.label, S.c.label), literal(UNSCORED))


def bucket_expr(dialect: str, col: Any, seconds: int) -> ColumnElement[Any]:
    """The start of ``col``'s ``seconds``-wide bucket, aligned as spike detection's buckets are."""
    return bucket_start_expr(dialect, col, seconds)


def to_timestamps(values: pd.Series) -> pd.Series:
    """Bucket starts from :func:`bucket_expr` (epoch seconds or timestamps) as naive UTC pandas timestamps."""
    if pd.api.types.is_numeric_dtype(values):
        return pd.to_datetime(values, unit="s")
    return pd.to_datetime(values)


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def mention_where(f: MentionFilter) -> list[ColumnElement[bool]]:
    """WHERE clauses for ``f`` over ``mention`` joined (outer) to ``sentiment`` and ``correction``."""
    where: list[ColumnElement[bool]] = [M.c.created_at >= f.start, M.c.created_at < f.end]
    if f.brand_ids:
        where.append(
            exists().where(and_(MB.c.mention_id == M.c.id, MB.c.brand_id.in_(list(f.brand_ids))))
        )
    if f.platforms:
        where.append(M.c.platform.in_(list(f.platforms)))
    if f.labels:
        where.append(label_expr().in_(list(f.labels)))
    term = f.search.strip()
    if term:
        pattern = f"%{_like_escape(term.lower())}%"
        where.append(
            or_(
                func.lower(M.c.text).like(pattern, escape="\\"),
                func.lower(func.coalesce(M.c.title, "")).like(pattern, escape="\\"),
                func.lower(M.c.author).like(pattern, escape="\\"),
            )
        )
    if f.escalated_only:
        where.append(exists().where(E.c.mention_id == M.c.id))
    return where or [false()]


def scored_join(stmt: Select[Any], mention_id: Any) -> Select[Any]:
    """``stmt`` outer-joined to the model score and the correction of ``mention_id``."""
    return stmt.outerjoin(S, S.c.mention_id == mention_id).outerjoin(C, C.c.mention_id == mention_id)


def mention_select() -> Select[Any]:
    """The explorer's columns: the mention, its effective and model label, scores, correction."""
    stmt = select(
        M.c.id,
        M.c.created_at,
        M.c.platform,
        M.c.author,
        M.c.title,
        M.c.text,
        label_expr().label("sentiment"),
        S.c.label.label("model_label"),
        S.c.p_negative,
        S.c.p_neutral,
        S.c.p_positive,
        S.c.model_version,
        C.c.label.label("corrected_label"),
        C.c.corrected_by,
        C.c.corrected_at,
        M.c.engagement,
        M.c.author_reach,
        M.c.url,
    ).select_from(M)
    return scored_join(stmt, M.c.id)


def mention_rows(f: MentionFilter) -> Select[Any]:
    """The explorer's columns for the mentions matching ``f``, newest first."""
    return mention_select().where(*mention_where(f)).order_by(M.c.created_at.desc(), M.c.id.desc())


def _cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(conn: Connection, stmt: Select[Any], batch: int = 1000) -> io.BytesIO:
    """``stmt``'s rows as UTF-8 CSV, fetched from a server-side cursor ``batch`` rows at a time.

    Rows go straight from the cursor into the CSV buffer (no DataFrame); returns it rewound.
    """
    out = io.BytesIO()
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(stmt)
    writer.writerow(list(result.keys()))
    for part in result.partitions(batch):
        writer.writerows([_cell(v) for v in row] for row in part)
    text.flush()
    text.detach()
    out.seek(0)
    return out
