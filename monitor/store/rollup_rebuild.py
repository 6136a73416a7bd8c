"""Recounting the rollups from the mentions: ``monitor db rebuild-rollups`` and its ``--check``.

The counts come from one GROUP BY per table over ``mention_brand`` joined to its mention, model
score and correction, bucketed by :func:`monitor.store.sql.bucket_number` and labelled by
:func:`monitor.store.sql.effective_label`, the same rules :mod:`monitor.store.rollups` keeps
them by. A rebuild deletes and refills the four tables in one transaction that holds off every
other writer (SQLite's write lock; on PostgreSQL an EXCLUSIVE lock on the rollup tables, which
writers wait for), so it is exact even while collectors and scorers run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, Table, case, delete, func, insert, literal, select, text
from sqlalchemy.engine import Connection, Engine

from monitor.store.rollup_tables import RollupAuthor, RollupEmotion, RollupHour, RollupPeople
from monitor.store.sql import bucket_number, effective_label
from monitor.store.tables import Correction, Mention, MentionBrand, Sentiment

TABLES: dict[str, Table] = {t.name: t for t in (cast(Table, m.__table__) for m in (
    RollupHour, RollupEmotion, RollupAuthor, RollupPeople))}
KEYS = {"rollup_hour": 4, "rollup_emotion": 4, "rollup_author": 4, "rollup_people": 3}
"""How many leading columns of each table are its key (the rest are counts)."""


def _counts(dialect: str) -> dict[str, Select[Any]]:
    """Per rollup table, the SELECT that counts its rows from the mentions (columns in table order)."""
    mb, m, s, c = (cast(Table, t.__table__) for t in (MentionBrand, Mention, Sentiment, Correction))
    hour = bucket_number(dialect, mb.c.created_at, 3600).label("hour")
    label = func.coalesce(effective_label(c.c.label, s.c.label), literal("unscored")).label("label")
    links = mb.join(m, m.c.id == mb.c.mention_id).outerjoin(s, s.c.mention_id == mb.c.mention_id)
    labelled = links.outerjoin(c, c.c.mention_id == mb.c.mention_id)
    negatives = func.sum(case((label == "negative", 1), else_=0))
    ra = TABLES["rollup_author"]
    return {
        "rollup_hour": select(mb.c.brand_id, hour, m.c.platform, label, func.count()).select_from(labelled)
        .group_by(mb.c.brand_id, hour, m.c.platform, label),
        "rollup_emotion": select(mb.c.brand_id, hour, m.c.platform, s.c.emotion, func.count()).select_from(links)
        .where(s.c.emotion.is_not(None)).group_by(mb.c.brand_id, hour, m.c.platform, s.c.emotion),
        "rollup_author": select(mb.c.brand_id, hour, m.c.platform, m.c.author, func.count(), negatives)
        .select_from(labelled).group_by(mb.c.brand_id, hour, m.c.platform, m.c.author),
        "rollup_people": select(
            ra.c.brand_id, ra.c.hour, ra.c.platform,
            func.sum(case((ra.c.author == "", ra.c.mentions), (ra.c.mentions > 0, 1), else_=0)),
            func.sum(case((ra.c.author == "", ra.c.negatives), (ra.c.negatives > 0, 1), else_=0)),
        ).group_by(ra.c.brand_id, ra.c.hour, ra.c.platform),
    }


def rebuild_on(conn: Connection) -> dict[str, int]:
    """Recount every rollup table inside ``conn``'s transaction; returns rows written per table."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(text("LOCK TABLE " + ", ".join(TABLES) + " IN EXCLUSIVE MODE"))
    out = {}
    for name, query in _counts(dialect).items():  # rollup_people last: it is counted from rollup_author
        table = TABLES[name]
        conn.execute(delete(table))
        result = conn.execute(insert(table).from_select([col.name for col in table.columns], query))
        out[name] = max(result.rowcount, 0)
    return out


def rebuild(engine: Engine) -> dict[str, int]:
    """:func:`rebuild_on` in a transaction of its own; returns rows written per table. Raises database errors
    (nothing is changed then)."""
    with engine.begin() as conn:
        return rebuild_on(conn)


@dataclass(frozen=True)
class Difference:
    """A rollup row whose stored counts differ from a recount (missing rows count as zeros)."""

    table: str
    key: tuple[Any, ...]
    stored: tuple[int, ...]
    recounted: tuple[int, ...]


def differences(engine: Engine) -> Iterator[Difference]:
    """Compare each rollup table with a recount from the mentions; yields every row that differs.

    Rows whose counts are all zero are the same as no row. Reads only.
    """
    with engine.connect() as conn:
        counted = _counts(conn.dialect.name)
        for name, table in TABLES.items():
            n = KEYS[name]
            query = counted[name]
            if name == "rollup_people":  # counted from the recount of rollup_author, not the stored one
                query = _people_from(counted["rollup_author"])
            fresh = _by_key(conn.execute(query).all(), n)
            stored = _by_key(conn.execute(select(table)).all(), n)
            for key in sorted(set(fresh) | set(stored), key=repr):
                zero = (0,) * (len(table.columns) - n)
                if fresh.get(key, zero) != stored.get(key, zero):
                    yield Difference(name, key, stored.get(key, zero), fresh.get(key, zero))


def _people_from(authors: Select[Any]) -> Select[Any]:
    sub = authors.subquery()
    brand, hour, platform, author, mentions, negatives = sub.c
    return select(brand, hour, platform,
                  func.sum(case((author == "", mentions), (mentions > 0, 1), else_=0)),
                  func.sum(case((author == "", negatives), (negatives > 0, 1), else_=0))
                  ).group_by(brand, hour, platform)


def _by_key(rows: Any, n: int) -> dict[tuple[Any, ...], tuple[int, ...]]:
    out = {}
    for row in rows:
        counts = tuple(int(v or 0) for v in row[n:])
        if any(counts):
            out[tuple(row[:n])] = counts
    return out
