"""The shared SQL expressions give the same answers on SQLite and PostgreSQL.

Buckets: every bucket size, including ones that do not divide a day or an hour, starts at
the same instant on both dialects, in SQL (the dashboard's bucket starts and spike
detection's bucket numbers) and in Python (:func:`bucket_index`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Column, DateTime, MetaData, Table, insert, select, text
from sqlalchemy.engine import Engine

from dashboard.sql import to_timestamps
from monitor.store import make_engine
from monitor.store.sql import bucket_index, bucket_number, bucket_start, bucket_start_expr, seconds_between

SIZES = [timedelta(minutes=15), timedelta(hours=1), timedelta(minutes=90), timedelta(hours=5), timedelta(hours=6),
         timedelta(hours=7), timedelta(days=1), timedelta(days=7)]
TIMES = [datetime(2026, 3, 1, 0, 0), datetime(2026, 3, 1, 6, 59, 59), datetime(2026, 11, 28, 23, 30, 15),
         datetime(2027, 1, 4, 13, 7), datetime(2000, 1, 1, 0, 0)]

meta = MetaData()
stamps = Table("stamps", meta, Column("t", DateTime, nullable=False), Column("u", DateTime, nullable=False))


def _engine(url: str) -> Engine:
    engine = make_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP TABLE IF EXISTS stamps"))
        meta.create_all(conn)
        conn.execute(insert(stamps), [{"t": t, "u": t + timedelta(minutes=5, seconds=30)} for t in TIMES])
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'b.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    return _engine(url)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{int(s.total_seconds())}s")
def test_buckets_align_on_the_epoch_in_sql_and_python(engine: Engine, size: timedelta) -> None:
    seconds = int(size.total_seconds())
    d = engine.dialect.name
    with engine.connect() as conn:
        rows = conn.execute(select(stamps.c.t, bucket_number(d, stamps.c.t, seconds),
                                   bucket_start_expr(d, stamps.c.t, seconds))).all()
    starts = to_timestamps(pd.Series([r[2] for r in rows]))
    for (t, number, _), start in zip(rows, starts, strict=True):
        assert int(number) == bucket_index(t, size), (t, size)
        assert start.to_pydatetime() == bucket_start(bucket_index(t, size), size), (t, size)
        assert start.to_pydatetime() <= t < start.to_pydatetime() + size


def test_seconds_between_is_exact_to_the_millisecond(engine: Engine) -> None:
    with engine.connect() as conn:
        values = conn.execute(select(seconds_between(engine.dialect.name, stamps.c.u, stamps.c.t))).scalars().all()
    assert [float(v) for v in values] == [330.0] * len(TIMES)
