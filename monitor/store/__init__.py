"""The store: tables, the engine and sessions, migrations, and the SQL expressions every reader shares.

- :mod:`monitor.store.tables`: the SQLModel tables, ``utcnow`` and ``to_db``;
- :mod:`monitor.store.engine`: ``make_engine`` (SQLite in WAL mode, or PostgreSQL) and ``session_scope``;
- :mod:`monitor.store.sql`: one home for shared expressions: time buckets, the effective label,
  seconds between two times, the unscored backlog;
- :mod:`monitor.store.rollup_tables`, :mod:`monitor.store.rollups`, :mod:`monitor.store.rollup_reads`,
  :mod:`monitor.store.rollup_rebuild`: counts per brand, hour, platform and label (and emotion, and
  distinct people) kept exact by every write, read by the dashboard and spike detection;
- :mod:`monitor.store.locks`: SQLite's write lock taken up front, and one instance of a job at a time;
- :mod:`monitor.store.migrate`: Alembic, driven from code.
"""

from __future__ import annotations

from monitor.store.engine import make_engine, session_scope, sqlite_path
from monitor.store.rollup_tables import RollupAuthor, RollupEmotion, RollupHour, RollupPeople
from monitor.store.tables import (
    UNSUPPORTED,
    Alert,
    AlertDelivery,
    Brand,
    Correction,
    DeadLetter,
    DeliveryStatus,
    Escalation,
    EscalationEvent,
    EscalationStatus,
    JobState,
    Label,
    Mention,
    MentionBrand,
    Sentiment,
    SourceState,
    to_db,
    utcnow,
)

__all__ = [
    "UNSUPPORTED", "Alert", "AlertDelivery", "Brand", "Correction", "DeadLetter", "DeliveryStatus", "Escalation",
    "EscalationEvent", "EscalationStatus", "JobState", "Label", "Mention", "MentionBrand", "RollupAuthor",
    "RollupEmotion", "RollupHour", "RollupPeople", "Sentiment", "SourceState", "make_engine", "session_scope",
    "sqlite_path", "to_db", "utcnow",
]
