"""The store: tables, the engine and sessions, migrations, and the SQL expressions every reader shares.

- :mod:`monitor.store.tables`: the SQLModel tables, ``utcnow`` and ``to_db``;
- :mod:`monitor.store.engine`: ``make_engine`` (SQLite in WAL mode, or PostgreSQL) and ``session_scope``;
- :mod:`monitor.store.sql`: one home for shared expressions: time buckets, the effective label,
  seconds between two times, the unscored backlog;
- :mod:`monitor.store.migrate`: Alembic, driven from code.
"""

from __future__ import annotations

from monitor.store.engine import make_engine, session_scope, sqlite_path
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
    "EscalationEvent", "EscalationStatus", "JobState", "Label", "Mention", "MentionBrand", "Sentiment", "SourceState",
    "make_engine", "session_scope", "sqlite_path", "to_db", "utcnow",
]
