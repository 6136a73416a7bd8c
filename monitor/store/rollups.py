"""Keeping the rollups exact: every write that changes what they count updates them in its own transaction.

What is counted (tables in :mod:`monitor.store.rollup_tables`), per mention-brand link, in the
hour its mention was posted, on its platform:

- ``rollup_hour``: links per effective label (:func:`monitor.store.sql.effective_label`: a
  person's correction, else the model's label, ``unsupported`` included, else ``unscored``);
- ``rollup_emotion``: links per model emotion (when the model gave one);
- ``rollup_author``: per author, their links and how many are negative (``""`` gathers the
  mentions without an author, each its own person);
- ``rollup_people``: distinct authors and distinct authors of a negative mention. Distinct
  counts do not add up over hours or labels, so they are kept exactly from ``rollup_author``:
  an author's first link in an hour adds one author, their negatives going from 0 to 1 (or back)
  adds (or removes) one negative author. Authors are told apart per platform.

Who calls what:

- ingest calls :func:`add_mentions` with the links it just stored (each new mention is unscored);
- every writer of ``sentiment`` or ``correction`` rows (scoring, re-scoring, corrections, and
  anything else that labels mentions) wraps its write in :func:`tracking`: it reads the labels
  and emotions of those mentions before and after, and moves each changed link from its old
  counts to its new ones. On PostgreSQL the mentions' rows are locked first (``FOR UPDATE``; a
  scorer already holds them from its claim) and on SQLite the write lock is taken
  (:func:`monitor.store.locks.write_lock`), so no other writer changes them in between.

Counters are changed with ``count = count + delta`` upserts, keys sorted, tables always in the
order above, so concurrent writers on PostgreSQL neither lose an update nor deadlock. A write
that bypasses this module (a hand-made SQL fix, a test fixture) leaves the rollups behind:
``monitor db rebuild-rollups`` (:mod:`monitor.store.rollup_rebuild`) recounts them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from monitor.store.locks import write_lock
from monitor.store.sql import bucket_index, effective_label
from monitor.store.tables import Correction, Mention, MentionBrand, Sentiment

HOUR = timedelta(hours=1)
UNSCORED = "unscored"
NEGATIVE = "negative"
_ROWS_PER_STATEMENT = 500
_COPY_FROM = 64
"""On PostgreSQL, more rows than this go through COPY."""
Key = tuple[int, int, str, str]


def hour_of(t: datetime) -> int:
    """The rollup hour (epoch-aligned hour number) of naive-UTC ``t``."""
    return bucket_index(t, HOUR)


class Link(NamedTuple):
    """One mention-brand link as the rollups key it."""

    mention_id: int
    brand_id: int
    hour: int
    platform: str
    author: str


class Deltas:
    """Changes to apply: per (brand, hour, platform, label|emotion|author) key, a count to add."""

    def __init__(self) -> None:
        self.labels: Counter[Key] = Counter()
        self.emotions: Counter[Key] = Counter()
        self.author_mentions: Counter[Key] = Counter()
        self.author_negatives: Counter[Key] = Counter()

    def move(self, link: Link, old: tuple[str, str | None] | None, new: tuple[str, str | None]) -> None:
        """Count ``link`` under ``new`` (label, emotion) instead of ``old`` (None: a new link)."""
        b, h, p, a = link.brand_id, link.hour, link.platform, link.author
        if old is None:
            self.author_mentions[(b, h, p, a)] += 1
        else:
            self.labels[(b, h, p, old[0])] -= 1
            if old[1]:
                self.emotions[(b, h, p, old[1])] -= 1
        self.labels[(b, h, p, new[0])] += 1
        if new[1]:
            self.emotions[(b, h, p, new[1])] += 1
        negative = (new[0] == NEGATIVE) - (old is not None and old[0] == NEGATIVE)
        if negative:
            self.author_negatives[(b, h, p, a)] += negative


def add_mentions(session: Session, links: Iterable[Link]) -> None:
    """Count newly stored mentions' ``links`` (unscored), inside the caller's transaction."""
    deltas = Deltas()
    for link in links:
        deltas.move(link, None, (UNSCORED, None))
    apply(session.connection(), deltas)


def _states(session: Session, ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
    """Mention id -> (effective label, emotion) for ``ids``."""
    label = effective_label(Correction.label, Sentiment.label)
    out: dict[int, tuple[str, str | None]] = {}
    for part in _chunks(sorted(set(ids)), 900):
        rows = session.execute(
            select(Mention.id, label, Sentiment.emotion)
            .select_from(Mention)
            .outerjoin(Sentiment, Sentiment.mention_id == Mention.id)
            .outerjoin(Correction, Correction.mention_id == Mention.id)
            .where(Mention.id.in_(part))  # type: ignore[union-attr]
        ).all()
        out.update({mid: (lab or UNSCORED, emo or None) for mid, lab, emo in rows})
    return out


def links_of(session: Session, ids: Sequence[int]) -> list[Link]:
    """The brand links of the mentions ``ids``, keyed as the rollups count them."""
    out: list[Link] = []
    for part in _chunks(sorted(set(ids)), 900):
        rows = session.execute(
            select(MentionBrand.mention_id, MentionBrand.brand_id, MentionBrand.created_at, Mention.platform,
                   Mention.author)
            .join(Mention, Mention.id == MentionBrand.mention_id)
            .where(MentionBrand.mention_id.in_(part))  # type: ignore[attr-defined]
        ).all()
        out += [Link(mid, bid, hour_of(t), platform, author or "") for mid, bid, t, platform, author in rows]
    return out


def lock_mentions(session: Session, ids: Sequence[int]) -> None:
    """Hold the rows of mentions ``ids`` (PostgreSQL: ``FOR UPDATE``, in id order) or SQLite's write lock."""
    write_lock(session)
    if session.connection().dialect.name == "postgresql":
        for part in _chunks(sorted(set(ids)), 900):
            session.execute(select(Mention.id).where(Mention.id.in_(part))  # type: ignore[union-attr]
                            .order_by(Mention.id).with_for_update(of=Mention))


@contextmanager
def tracking(session: Session, mention_ids: Sequence[int]) -> Iterator[None]:
    """Keep the rollups exact across the block's writes to the labels of ``mention_ids``.

    Locks those mentions (:func:`lock_mentions`), reads their labels and emotions, runs the
    block, flushes it, reads them again and moves each changed link's counts, all in the
    caller's transaction. Raises what the database raises; the caller's rollback then undoes
    the block and the counts together.
    """
    ids = list(mention_ids)
    lock_mentions(session, ids)
    before = _states(session, ids)
    yield
    session.flush()
    after = _states(session, ids)
    changed = [mid for mid in ids if before.get(mid) != after.get(mid)]
    if not changed:
        return
    deltas = Deltas()
    for link in links_of(session, changed):
        old = before.get(link.mention_id, (UNSCORED, None))
        deltas.move(link, old, after[link.mention_id])
    apply(session.connection(), deltas)


def apply(conn: Connection, deltas: Deltas) -> None:
    """Add ``deltas`` to the four rollup tables (in a fixed order, keys sorted)."""
    _add(conn, "rollup_hour", ("brand_id", "hour", "platform", "label"), ("mentions",),
         [(*k, v) for k, v in sorted(deltas.labels.items()) if v])
    _add(conn, "rollup_emotion", ("brand_id", "hour", "platform", "emotion"), ("mentions",),
         [(*k, v) for k, v in sorted(deltas.emotions.items()) if v])
    keys = sorted(set(deltas.author_mentions) | set(deltas.author_negatives))
    rows = [(*k, deltas.author_mentions[k], deltas.author_negatives[k]) for k in keys
            if deltas.author_mentions[k] or deltas.author_negatives[k]]
    after = _add(conn, "rollup_author", ("brand_id", "hour", "platform", "author"), ("mentions", "negatives"),
                 rows, returning=True)
    people: Counter[tuple[int, int, str, str]] = Counter()
    for b, h, p, author, mentions, negatives in after:
        dm, dn = deltas.author_mentions[(b, h, p, author)], deltas.author_negatives[(b, h, p, author)]
        if author == "":  # no author: each mention is its own person
            people[(b, h, p, "authors")] += dm
            people[(b, h, p, "negative_authors")] += dn
            continue
        people[(b, h, p, "authors")] += (mentions > 0) - (mentions - dm > 0)
        people[(b, h, p, "negative_authors")] += (negatives > 0) - (negatives - dn > 0)
    groups = sorted({k[:3] for k in people})
    _add(conn, "rollup_people", ("brand_id", "hour", "platform"), ("authors", "negative_authors"),
         [(*g, people[(*g, "authors")], people[(*g, "negative_authors")]) for g in groups
          if people[(*g, "authors")] or people[(*g, "negative_authors")]])


def _add(conn: Connection, table: str, keys: tuple[str, ...], counts: tuple[str, ...], rows: list[tuple[Any, ...]],
         *, returning: bool = False) -> list[tuple[Any, ...]]:
    """Upsert ``rows`` (keys then count deltas, sorted) adding to the counts; with ``returning``, each
    row's keys and new counts. Multi-row statements of a few hundred rows, the same SQL on both
    dialects; many rows on PostgreSQL go through COPY and one ``INSERT ... SELECT`` (twice as fast)."""
    if not rows:
        return []
    names = (*keys, *counts)
    tail = (f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
            + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counts)
            + (f" RETURNING {', '.join(names)}" if returning else ""))
    if conn.dialect.name == "postgresql" and len(rows) > _COPY_FROM:
        return _add_by_copy(conn, table, names, keys, tail, rows, returning)
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    one = "(" + ", ".join([mark] * len(names)) + ")"
    out: list[tuple[Any, ...]] = []
    for part in _chunks(rows, _ROWS_PER_STATEMENT):
        sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES " + ", ".join([one] * len(part)) + tail
        result = conn.exec_driver_sql(sql, tuple(v for row in part for v in row))
        if returning:
            out += [tuple(r) for r in result.fetchall()]
    return out


def _add_by_copy(conn: Connection, table: str, names: tuple[str, ...], keys: tuple[str, ...], tail: str,
                 rows: list[tuple[Any, ...]], returning: bool) -> list[tuple[Any, ...]]:
    staging = f"{table}_incoming"
    with conn.connection.dbapi_connection.cursor() as cur:  # type: ignore[union-attr]
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {table}) ON COMMIT DELETE ROWS")
        with cur.copy(f"COPY {staging} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(names)} FROM {staging} "
                    f"ORDER BY {', '.join(keys)}" + tail)
        out = [tuple(r) for r in cur.fetchall()] if returning else []
        cur.execute(f"DELETE FROM {staging}")
    return out


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
