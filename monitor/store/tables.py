"""The tables: SQLModel models of everything stored.

Times are stored and returned as naive UTC datetimes (``utcnow()``; the columns are
declared ``NaiveDatetime``); convert aware datetimes with :func:`to_db` before storing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Now, as the naive UTC datetime the database stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_db(dt: datetime) -> datetime:
    """An aware or naive-UTC datetime as naive UTC."""
    return dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo else dt


class Label(StrEnum):
    negative = "negative"
    neutral = "neutral"
    positive = "positive"


UNSUPPORTED = "unsupported"
"""The Sentiment label of a mention in a language the model does not cover."""


class EscalationStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"
    dismissed = "dismissed"


class DeliveryStatus(StrEnum):
    pending = "pending"
    claimed = "claimed"
    sent = "sent"
    failed = "failed"


class Brand(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    is_own: bool = True
    created_at: NaiveDatetime = Field(default_factory=utcnow)


class Mention(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("platform", "native_id", name="uq_mention_platform_native_id"),
        Index("ix_mention_created_at", "created_at"),
        Index("ix_mention_platform_created", "platform", "created_at"),
        Index("ix_mention_conversation", "platform", "conversation_id"),
        Index("ix_mention_author", "platform", "author", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    native_id: str = Field(max_length=128)
    source: str = Field(max_length=32)
    text: str
    title: str | None = None
    author: str = ""
    author_reach: int = 0
    likes: int = 0
    replies: int = 0
    reposts: int = 0
    quotes: int = 0
    engagement: int = 0
    url: str = ""
    language: str | None = Field(default=None, max_length=16)
    # "platform" (the source named the language), "detected" (monitor.ingest.language guessed it;
    # language None: it could not tell), or None (stored before detection existed).
    language_source: str | None = Field(default=None, max_length=16)
    conversation_id: str | None = Field(default=None, max_length=128)
    in_reply_to: str | None = Field(default=None, max_length=128)
    created_at: NaiveDatetime
    collected_at: NaiveDatetime = Field(default_factory=utcnow)
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class MentionBrand(SQLModel, table=True):
    """Which brands a mention matched; ``created_at`` is copied for fast per-brand buckets."""

    __tablename__ = "mention_brand"
    __table_args__ = (Index("ix_mention_brand_brand_time", "brand_id", "created_at"),)
    mention_id: int = Field(foreign_key="mention.id", primary_key=True, ondelete="CASCADE")
    brand_id: int = Field(foreign_key="brand.id", primary_key=True)
    created_at: NaiveDatetime
    matched_terms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Sentiment(SQLModel, table=True):
    """The model's score for a mention: one row, replaced by ``monitor rescore``.

    ``label`` and the three probabilities are sentiment toward the brand (negative,
    neutral, positive); ``unsupported`` marks a mention in a language the model does not
    cover (probabilities 0: it counts in volume, never in sentiment or escalations).
    ``emotion`` and its four probabilities come from the model's emotion head, when it has one.
    """

    mention_id: int = Field(foreign_key="mention.id", primary_key=True, ondelete="CASCADE")
    label: str = Field(max_length=16, index=True)
    p_negative: float
    p_neutral: float
    p_positive: float
    model_version: str = Field(max_length=128, index=True)
    scored_at: NaiveDatetime = Field(default_factory=utcnow)
    emotion: str | None = Field(default=None, max_length=16)
    p_anger: float | None = None
    p_joy: float | None = None
    p_optimism: float | None = None
    p_sadness: float | None = None


class Correction(SQLModel, table=True):
    """A person's label for a mention, kept beside (never over) the model's score."""

    mention_id: int = Field(foreign_key="mention.id", primary_key=True, ondelete="CASCADE")
    label: str = Field(max_length=16)
    corrected_by: str = ""
    corrected_at: NaiveDatetime = Field(default_factory=utcnow)


class Escalation(SQLModel, table=True):
    """A conversation a person should answer: its priority (0-100, ``monitor/escalations/priority.py``),
    severity tier (1-4, cut from the priority), state and owner.

    ``version`` grows with every change a person or the rules make; an action names the
    version its author saw and is refused when the row has moved on (optimistic concurrency).
    """

    __table_args__ = (
        UniqueConstraint("brand_id", "conversation_key", name="uq_escalation_conversation"),
        Index("ix_escalation_status_severity", "status", "severity"),
        Index("ix_escalation_status_priority", "status", "priority"),
        Index("ix_escalation_created_at", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mention.id", index=True)
    brand_id: int = Field(foreign_key="brand.id")
    conversation_key: str = Field(max_length=200)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    priority: int = Field(default=0, ge=0, le=100)
    severity: int = Field(default=1, ge=1, le=4)
    status: str = Field(default=EscalationStatus.open, max_length=16)
    assignee: str | None = None
    note: str | None = None
    """The latest note; every note is kept in ``escalation_event``."""
    version: int = 1
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_by: str | None = None
    acknowledged_at: NaiveDatetime | None = None
    resolved_at: NaiveDatetime | None = None


class EscalationEvent(SQLModel, table=True):
    """The audit trail: who did what to an escalation, and when (the rules act as ``monitor``)."""

    __tablename__ = "escalation_event"
    __table_args__ = (Index("ix_escalation_event_escalation", "escalation_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    escalation_id: int = Field(foreign_key="escalation.id", ondelete="CASCADE")
    at: NaiveDatetime = Field(default_factory=utcnow)
    actor: str = Field(max_length=128)
    action: str = Field(max_length=32)
    """flagged, updated, reopened, acknowledged, resolved, dismissed, assigned or note."""
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    detail: str | None = None


class Alert(SQLModel, table=True):
    """A negative storm: what detection found, and what the team did about it.

    Delivery to each channel is an :class:`AlertDelivery` row of its own (the outbox).
    """

    __table_args__ = (Index("ix_alert_brand_window", "brand_id", "window_start"),)
    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brand.id")
    kind: str = Field(max_length=32)
    is_open: bool = True
    window_start: NaiveDatetime
    window_end: NaiveDatetime
    observed: float
    expected: float
    p_value: float = 1.0
    severity: int = Field(default=1, ge=1, le=4)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)
    closed_at: NaiveDatetime | None = None
    acknowledged_by: str | None = Field(default=None, max_length=128)
    acknowledged_at: NaiveDatetime | None = None
    resolved_by: str | None = Field(default=None, max_length=128)
    resolved_at: NaiveDatetime | None = None


class AlertDelivery(SQLModel, table=True):
    """One alert to one channel: the outbox row a sender claims, with its attempts and outcome."""

    __tablename__ = "alert_delivery"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel", name="uq_alert_delivery_channel"),
        Index("ix_alert_delivery_due", "status", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", ondelete="CASCADE")
    channel: str = Field(max_length=64)
    status: str = Field(default=DeliveryStatus.pending, max_length=16)
    claimed_by: str | None = None
    claimed_at: NaiveDatetime | None = None
    sent_at: NaiveDatetime | None = None
    attempts: int = 0
    last_error: str | None = None
    target: str | None = None
    """Where it went (an outbox file, an SMTP host, a service name); never a secret URL."""
    next_attempt_at: NaiveDatetime = Field(default_factory=utcnow)
    created_at: NaiveDatetime = Field(default_factory=utcnow)


class SourceState(SQLModel, table=True):
    """A collector's cursor and health."""

    __tablename__ = "source_state"
    name: str = Field(primary_key=True, max_length=32)
    cursor: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    last_run_at: NaiveDatetime | None = None
    last_success_at: NaiveDatetime | None = None
    last_error: str | None = None
    last_error_at: NaiveDatetime | None = None
    mentions_collected: int = 0
    runs: int = 0
    paused_until: NaiveDatetime | None = None
    paused_reason: str | None = None


class JobState(SQLModel, table=True):
    """A job's own progress marker (e.g. the escalation rules' watermark), one row per job."""

    __tablename__ = "job_state"
    name: str = Field(primary_key=True, max_length=64)
    watermark: NaiveDatetime | None = None
    cursor: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class DeadLetter(SQLModel, table=True):
    """An item a source delivered that could not become a mention, kept as received.

    ``position`` says where it came from (file and line, or the API item's id); ``payload`` is
    the item's bytes as received (at most 1 MiB of ``payload_size``); ``reason`` is one line
    naming the field. The same item seen again (same source, position and payload digest)
    only bumps ``times_seen``. ``monitor rejected retry`` parses it again and, once it goes
    through, sets ``resolved_at`` and ``resolution`` (stored, duplicate, unmatched or dropped).
    """

    __tablename__ = "dead_letter"
    __table_args__ = (
        UniqueConstraint("source", "position", "digest", name="uq_dead_letter_item"),
        Index("ix_dead_letter_open", "resolved_at", "source"),
    )
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=32)
    position: str = Field(max_length=512)
    digest: str = Field(max_length=40)
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    payload_size: int = 0
    reason: str
    field: str | None = Field(default=None, max_length=128)
    first_seen_at: NaiveDatetime = Field(default_factory=utcnow)
    last_seen_at: NaiveDatetime = Field(default_factory=utcnow)
    times_seen: int = 1
    retries: int = 0
    resolved_at: NaiveDatetime | None = None
    resolution: str | None = Field(default=None, max_length=32)

