"""The config sections of the core: database, model, escalation rules, spikes, alerts, dashboard."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator

from monitor.config.types import Duration, EnvVarName, Strict

DEFAULT_DB_URL = "sqlite:///data/monitor.db"


class ModelConfig(Strict):
    name: str = "default"
    """``default`` (the artifact shipped in models/), a Hugging Face name, or a local path."""
    labels: dict[int, Literal["negative", "neutral", "positive"]] = Field(
        default_factory=lambda: {0: "negative", 1: "neutral", 2: "positive"}
    )
    backend: Literal["auto", "onnx", "torch"] = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    batch_size: int = Field(32, ge=1, le=1024)
    max_length: int = Field(128, ge=8, le=512)
    interval: Duration = timedelta(minutes=1)

    @field_validator("labels")
    @classmethod
    def _three(cls, v: dict[int, str]) -> dict[int, str]:
        if sorted(v.values()) != ["negative", "neutral", "positive"]:
            raise ValueError("must map class ids to negative, neutral and positive once each")
        return v


DEFAULT_RISK_TERMS = [
    "lawsuit", "lawyer", "attorney", "sue", "suing", "legal action", "court",
    "unsafe", "dangerous", "injury", "injured", "fire", "recall", "poisoning",
    "outage", "down", "not working", "broken",
    "data breach", "breach", "hacked", "leak", "leaked",
    "refund", "chargeback", "scam", "fraud",
    "cancel", "cancelling", "canceling", "cancelled", "unsubscribe",
    "discrimination", "racist", "sexist", "harassment",
]


class EscalationOverride(Strict):
    """Per-brand changes to the escalation rules; unset keys keep the global value."""

    min_negative_confidence: float | None = Field(None, ge=0, le=1)
    min_author_reach: int | None = Field(None, ge=0)
    min_engagement: int | None = Field(None, ge=0)
    risk_terms: list[str] | None = None
    extra_risk_terms: list[str] = Field(default_factory=list)


class EscalationConfig(Strict):
    min_negative_confidence: float = Field(0.75, ge=0, le=1)
    min_author_reach: int = Field(10_000, ge=0)
    min_engagement: int = Field(50, ge=0)
    risk_terms: list[str] = Field(default_factory=lambda: list(DEFAULT_RISK_TERMS))
    interval: Duration = timedelta(minutes=1)
    max_mention_age: Duration = timedelta(days=3)
    """Mentions older than this (by created_at) are never escalated, e.g. after a rescore."""
    overrides: dict[str, EscalationOverride] = Field(default_factory=dict)
    """Keyed by brand name (case-insensitive)."""

    def for_brand(self, name: str) -> EscalationConfig:
        """The rules for brand ``name``: the global ones with its override applied."""
        ov = next((o for k, o in self.overrides.items() if k.lower() == name.lower()), None)
        if ov is None:
            return self
        update = {k: v for k, v in ov.model_dump(exclude={"extra_risk_terms"}).items() if v is not None}
        terms = [*update.get("risk_terms", self.risk_terms), *ov.extra_risk_terms]
        update["risk_terms"] = terms
        return self.model_copy(update=update)


class SpikeConfig(Strict):
    """Storm detection (see monitor/spikes/): a sudden one-bucket spike or a sustained rise."""

    bucket: Duration = timedelta(hours=1)
    min_count: int = Field(8, ge=1)
    """A storm needs at least this many negatives (people) in its bucket or window."""
    min_relative_rise: float = Field(1.0, ge=0)
    """Spike test: one bucket must exceed expected by this fraction (1.0 = double)."""
    p_value: float = Field(0.0001, gt=0, lt=1)
    """Spike test: significance of one bucket's excess (judged every bucket: 1e-4 is about one chance hit a year)."""
    sustained_rise: float = Field(0.5, ge=0)
    """Sustained test: the window must run this fraction above expected (0.5 = one and a half times)."""
    sustained_threshold: float = Field(10.0, gt=0)
    """Sustained test: evidence needed (a log-likelihood ratio; higher = fewer, later alerts)."""
    min_negative_share_rise: float = Field(0.15, ge=0, le=1)
    people: bool = True
    """Count the distinct authors of negative mentions per bucket (one person's thread is one voice)."""
    warmup: Duration = timedelta(hours=24)
    """A brand or source pages nobody until it has been collected this long."""
    late_after: Duration = timedelta(hours=6)
    """Mentions collected this long after they were written are backfill: not judged, not learnt from."""
    baseline_days: int = Field(28, ge=1)
    seasonal_min_days: int = Field(7, ge=1)
    """Days of data before weekday factors are estimated (the time of day is used from day one)."""
    cooldown: Duration = timedelta(hours=6)
    interval: Duration = timedelta(minutes=5)

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, v: timedelta) -> timedelta:
        if v < timedelta(minutes=1) or v > timedelta(days=7):
            raise ValueError("must be between 1m and 7d (e.g. 1h)")
        return v


class SmtpConfig(Strict):
    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username_env: EnvVarName | None = "SMTP_USERNAME"
    password_env: EnvVarName | None = "SMTP_PASSWORD"
    timeout: float = Field(20, gt=0)


class AlertsConfig(Strict):
    recipients: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] = Field(
        default_factory=list
    )
    sender: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")] = "brand-monitor@localhost"
    smtp: SmtpConfig | None = None
    outbox_dir: Path = Path("data/outbox")
    dashboard_url: str = "http://localhost:8501"
    max_attempts: int = Field(20, ge=1)
    interval: Duration = timedelta(minutes=1)


class DashboardConfig(Strict):
    refresh: Duration = timedelta(seconds=60)
    cache_ttl: Duration = timedelta(seconds=30)
    page_size: int = Field(50, ge=5, le=500)


class DatabaseConfig(Strict):
    url: str = DEFAULT_DB_URL

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", v):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return v
