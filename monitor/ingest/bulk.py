"""Writing a page of new mentions in bulk: the duplicate check, the rows, their ids, the inserts.

Built for throughput (``monitor bench`` measures it): no ORM objects, one duplicate query per
platform and 900 ids (the unique index answers it), ids handed out up front, then the rows in
bulk: on SQLite one ``executemany`` for the mentions and one for their brand links; on
PostgreSQL ``COPY`` (into a temporary table for the mentions, then one ``INSERT ... SELECT``).
On SQLite the caller holds the write lock (:func:`monitor.store.locks.write_lock`) from the
duplicate check on, so the check is exact and ``max(id) + 1`` is free; on PostgreSQL ids come
from the table's sequence and ``ON CONFLICT DO NOTHING`` lets a concurrent collector's copy of
the same mention win: only the rows that went in are linked, counted and returned.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, text
from sqlmodel import Session

from collectors.base import Mention as Incoming
from collectors.edge import json_safe
from monitor.ingest.language import Language
from monitor.store import Mention, MentionBrand, to_db

M = cast(Table, Mention.__table__)
MB = cast(Table, MentionBrand.__table__)
_IN_CHUNK = 900
COLUMNS = ("id", "platform", "native_id", "source", "text", "title", "author", "author_reach", "likes", "replies",
           "reposts", "quotes", "engagement", "url", "language", "language_source", "conversation_id", "in_reply_to",
           "created_at", "collected_at", "raw")
LINK_COLUMNS = ("mention_id", "brand_id", "created_at", "matched_terms")
_LONE_SURROGATE = re.compile(r"\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}")
"""A surrogate escape in ``json.dumps`` output that is not half of a pair (an emoji is a pair)."""
_ENCODE = json.JSONEncoder(allow_nan=False).encode
"""``json.dumps(value, allow_nan=False)`` without building an encoder per call (a third of its time)."""


def existing(session: Session, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The ``(platform, native_id)`` keys among ``keys`` that are already stored."""
    by_platform: dict[str, list[str]] = {}
    for platform, native_id in keys:
        by_platform.setdefault(platform, []).append(native_id)
    found: set[tuple[str, str]] = set()
    for platform, ids in by_platform.items():
        for i in range(0, len(ids), _IN_CHUNK):
            rows = session.execute(select(M.c.native_id).where(M.c.platform == platform,
                                                               M.c.native_id.in_(ids[i : i + _IN_CHUNK])))
            found.update((platform, native_id) for (native_id,) in rows)
    return found


def raw_json(raw: Any) -> str:
    """A mention's platform payload as the JSON text the ``raw`` column stores, made safe for every
    database by :func:`collectors.edge.json_safe` (only when the fast ``json.dumps`` shows it needs to:
    a NUL, a lone surrogate, a non-finite number, a key or value JSON cannot hold, or deep nesting)."""
    try:
        out = _ENCODE(raw)
    except (TypeError, ValueError):
        return json.dumps(json_safe(raw))
    if ("\\u0000" in out or ("\\ud" in out and _LONE_SURROGATE.search(out))
            or out.count("{") + out.count("[") > 64):
        return json.dumps(json_safe(raw))
    return out


def allocate_ids(session: Session, n: int) -> list[int]:
    """``n`` new mention ids: the sequence's next values on PostgreSQL; on SQLite (write lock held)
    the ids after the largest stored one."""
    if n == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(text("SELECT nextval(pg_get_serial_sequence('mention', 'id')) "
                                    "FROM generate_series(1, :n)"), {"n": n})
        return [int(r[0]) for r in rows]
    top = session.execute(select(func.max(M.c.id))).scalar_one() or 0
    return list(range(top + 1, top + 1 + n))


def row(mention_id: int, m: Incoming, source: str, now: datetime, language: Language) -> tuple[Any, ...]:
    """The stored columns of ``m`` (in :data:`COLUMNS` order, times as naive UTC, ``raw`` as JSON text)."""
    e = m.engagement
    return (mention_id, m.platform, str(m.native_id), source, m.text, m.title, m.author or "",
            int(m.author_reach or 0), e.likes, e.replies, e.reposts, e.quotes, e.total, m.url or "", language.code,
            language.source, m.conversation_id, m.in_reply_to, to_db(m.created_at), now,
            raw_json(m.raw if type(m.raw) is dict else dict(m.raw)))


def insert(session: Session, rows: Sequence[tuple[Any, ...]]) -> set[int]:
    """Insert mention ``rows`` (from :func:`row`); returns the ids that went in (a row whose platform and
    id another writer stored meanwhile does not)."""
    if not rows:
        return set()
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        return _copy_mentions(conn, rows)
    when = _time_format(conn.dialect)
    collected = {t: when(t) for t in {r[19] for r in rows}}  # a page is collected at one time: formatted once
    result = conn.exec_driver_sql(
        f"INSERT INTO mention ({', '.join(COLUMNS)}) VALUES ({', '.join(['?'] * len(COLUMNS))}) "
        "ON CONFLICT (platform, native_id) DO NOTHING",
        [(*r[:18], when(r[18]), collected[r[19]], r[20]) for r in rows])
    ids = [r[0] for r in rows]
    if result.rowcount == len(rows):  # every row went in (the usual case under the write lock): no read-back
        return set(ids)
    stored = {int(i) for (i,) in conn.execute(select(M.c.id).where(M.c.id >= min(ids), M.c.id <= max(ids)))}
    return stored & set(ids)


def _copy_mentions(conn: Any, rows: Sequence[tuple[Any, ...]]) -> set[int]:
    """PostgreSQL: COPY the rows into a temporary table (emptied at commit), then move the new ones over."""
    names = ", ".join(COLUMNS)
    with conn.connection.dbapi_connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS mention_incoming (LIKE mention) ON COMMIT DELETE ROWS")
        with cur.copy(f"COPY mention_incoming ({names}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
        cur.execute(f"INSERT INTO mention ({names}) SELECT {names} FROM mention_incoming "
                    "ON CONFLICT (platform, native_id) DO NOTHING RETURNING id")
        stored = {int(i) for (i,) in cur.fetchall()}
        cur.execute("TRUNCATE mention_incoming")
    return stored


def insert_links(session: Session, links: Sequence[tuple[int, int, datetime, list[str]]]) -> None:
    """Insert brand links ``(mention_id, brand_id, created_at, matched_terms)``."""
    if not links:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        sql = f"COPY mention_brand ({', '.join(LINK_COLUMNS)}) FROM STDIN"
        with conn.connection.dbapi_connection.cursor() as cur, cur.copy(sql) as copy:
            for mid, bid, t, terms in links:
                copy.write_row((mid, bid, t, json.dumps(terms)))
        return
    when = _time_format(conn.dialect)
    conn.exec_driver_sql(f"INSERT INTO mention_brand ({', '.join(LINK_COLUMNS)}) VALUES (?, ?, ?, ?)",
                         [(mid, bid, when(t), _ENCODE(terms)) for mid, bid, t, terms in links])


@functools.lru_cache(maxsize=8)
def _time_format(dialect: Any) -> Any:
    """How this dialect's driver takes a naive datetime for ``mention.created_at``: SQLAlchemy's own
    bind processor for the dialect (SQLite stores text in one fixed format, ``2026-11-20
    13:00:00.000000``, and range queries compare with that text; the driver's default adapter would
    drop a whole second's fraction, which sorts before it). ``datetime.isoformat`` writes the same
    text three times faster, so it is used when it agrees with the processor on a probe. Decided once
    per dialect, not per page."""
    processor = M.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
    if processor is None:  # PostgreSQL's driver takes datetimes
        return lambda value: value
    if processor(_PROBE) == _iso(_PROBE):
        return _iso
    return processor


_PROBE = datetime(1999, 2, 3, 4, 5, 6)


def _iso(value: datetime) -> str:
    return value.isoformat(" ", "microseconds")
