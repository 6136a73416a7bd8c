"""Locks: SQLite's write lock taken before a read that a write depends on, and one instance of a
job at a time across processes and machines.

- :func:`write_lock`: on SQLite, a transaction that reads state and then writes what follows from
  it (the rollups' before-and-after counts, the ingest's duplicate check) must hold the database's
  write lock from the read on, or another process could commit in between. pysqlite starts a
  transaction only at the first INSERT/UPDATE/DELETE, so this issues ``BEGIN IMMEDIATE`` first.
  On PostgreSQL the row locks the writers take (``FOR UPDATE``) do this job, so it does nothing.
- :func:`exclusive`: a named lock that at most one holder has at a time, taken without waiting:
  PostgreSQL's session advisory lock (released by the server when the holder's connection ends,
  so a crashed process never leaves it held); on SQLite an ``flock`` on a file beside the
  database (released by the kernel when the process ends). Detection and alert delivery run
  under it, so two ``monitor run`` instances never judge or send the same thing; a collector
  takes one per source.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from monitor.store.engine import sqlite_path


def write_lock(session: Session) -> None:
    """Hold SQLite's write lock for the rest of ``session``'s transaction (nothing on other databases).

    Call it before the reads a write depends on. Waits up to the busy timeout for another writer;
    raises ``sqlalchemy.exc.OperationalError`` ("database is locked") after that.
    """
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return
    raw = conn.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (PostgreSQL advisory locks are keyed by bigint)."""
    return int.from_bytes(hashlib.sha1(f"monitor:{name}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[bool]:
    """Try to take the lock ``name`` without waiting; yields whether this caller holds it.

    The lock is held until the block ends. Raises what the database raises when it cannot be
    reached (the caller's job fails as it would on any database error).
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            key = lock_key(name)
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
        return
    path = sqlite_path(str(engine.url))
    if path is None:  # an in-memory database lives in one process: nothing to share
        yield True
        return
    yield from _file_lock(Path(f"{path}.{name.replace(':', '-').replace('/', '-')}.lock"))


def _file_lock(path: Path) -> Iterator[bool]:
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
