"""The rollup tables: counts kept exact in the transaction that changes what they count
(:mod:`monitor.store.rollups` says how), so the dashboard and spike detection read buckets, not mentions.

An hour is its epoch-aligned number (:func:`monitor.store.sql.bucket_index` with one hour): hour
``h`` covers ``[h * 3600, (h + 1) * 3600)`` seconds after 1970-01-01 UTC. The tables have no
foreign keys and, on SQLite, no rowid (the key is the table): they are derived data, and
``monitor db rebuild-rollups`` recounts them from the mentions.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

NO_ROWID = {"sqlite_with_rowid": False}


class RollupHour(SQLModel, table=True):
    """Mention-brand links per brand, hour, platform and effective label (a person's correction,
    else the model's label, else ``unscored``; ``unsupported`` included)."""

    __tablename__ = "rollup_hour"
    __table_args__ = (Index("ix_rollup_hour_hour", "hour"), NO_ROWID)
    brand_id: int = Field(primary_key=True)
    hour: int = Field(sa_type=BigInteger, primary_key=True)
    platform: str = Field(primary_key=True, max_length=32)
    label: str = Field(primary_key=True, max_length=16)
    mentions: int = 0


class RollupEmotion(SQLModel, table=True):
    """Mention-brand links per brand, hour, platform and the model's emotion (mentions without one
    are not counted here)."""

    __tablename__ = "rollup_emotion"
    __table_args__ = NO_ROWID
    brand_id: int = Field(primary_key=True)
    hour: int = Field(sa_type=BigInteger, primary_key=True)
    platform: str = Field(primary_key=True, max_length=32)
    emotion: str = Field(primary_key=True, max_length=16)
    mentions: int = 0


class RollupAuthor(SQLModel, table=True):
    """Who wrote about a brand in an hour on a platform: one row per author with their mentions and
    how many of those are negative. ``author`` ``""`` holds the mentions without an author, each
    of which counts as its own person."""

    __tablename__ = "rollup_author"
    __table_args__ = NO_ROWID
    brand_id: int = Field(primary_key=True)
    hour: int = Field(sa_type=BigInteger, primary_key=True)
    platform: str = Field(primary_key=True, max_length=32)
    author: str = Field(primary_key=True)
    mentions: int = 0
    negatives: int = 0


class RollupPeople(SQLModel, table=True):
    """Distinct people per brand, hour and platform: who wrote at all (``authors``) and who wrote
    something negative (``negative_authors``), kept from :class:`RollupAuthor`'s changes."""

    __tablename__ = "rollup_people"
    __table_args__ = NO_ROWID
    brand_id: int = Field(primary_key=True)
    hour: int = Field(sa_type=BigInteger, primary_key=True)
    platform: str = Field(primary_key=True, max_length=32)
    authors: int = 0
    negative_authors: int = 0
