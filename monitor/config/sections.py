"""The config sections of the core: database, model, escalation rules, spikes, alerts (and their channels),
dashboard (time zone, login)."""

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
    bucket: Duration = timedelta(hours=1)
    min_count: int = Field(8, ge=1)
    min_relative_rise: float = Field(1.0, ge=0)
    """Observed must exceed expected by this fraction (1.0 = double)."""
    p_value: float = Field(0.001, gt=0, lt=1)
    min_negative_share_rise: float = Field(0.15, ge=0, le=1)
    baseline_days: int = Field(28, ge=1)
    seasonal_min_days: int = Field(14, ge=1)
    cooldown: Duration = timedelta(hours=6)
    interval: Duration = timedelta(minutes=5)


class SmtpConfig(Strict):
    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username_env: EnvVarName | None = "SMTP_USERNAME"
    password_env: EnvVarName | None = "SMTP_PASSWORD"
    timeout: float = Field(20, gt=0)


class ChannelConfig(Strict):
    """One alert destination: an Apprise URL (Slack, Microsoft Teams, Discord, a JSON webhook, ...)
    read from the environment variable ``url_env``, never from config.yaml."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
    """Shown on the alert's page beside the delivery; unique; ``email`` is the built-in email channel."""
    url_env: EnvVarName
    brands: list[str] = Field(default_factory=list)
    """Only alerts of these brands (case-insensitive); empty = every brand."""
    min_severity: int = Field(1, ge=1, le=4)
    """Only alerts at least this severe (1 low, 2 medium, 3 high, 4 critical)."""

    def wants(self, brand: str, severity: int) -> bool:
        """Whether an alert of ``brand`` at ``severity`` goes to this channel."""
        in_scope = not self.brands or brand.lower() in {b.lower() for b in self.brands}
        return in_scope and severity >= self.min_severity


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
    channels: list[ChannelConfig] = Field(default_factory=list)

    @field_validator("channels")
    @classmethod
    def _unique(cls, v: list[ChannelConfig]) -> list[ChannelConfig]:
        names = [c.name for c in v]
        for name in names:
            if name == "email":
                raise ValueError("'email' is the built-in email channel (alerts.recipients); name yours otherwise")
            if names.count(name) > 1:
                raise ValueError(f"channel name {name!r} is used twice; each channel needs its own name")
        return v


class AuthConfig(Strict):
    """Who may open the dashboard: named users with bcrypt-hashed passwords and a role each."""

    enabled: bool = True
    users_file: Path | None = None
    """A YAML file of users (see README); relative paths are read from the working directory."""
    users_env: EnvVarName = "MONITOR_DASHBOARD_USERS"
    """An environment variable holding the same YAML (or ``<VAR>_FILE`` naming such a file)."""
    cookie_key_env: EnvVarName = "MONITOR_DASHBOARD_COOKIE_KEY"
    """The key that signs the stay-signed-in cookie; without it a random one per server start."""
    cookie_days: float = Field(7, ge=0, le=90)
    """How long a sign-in lasts in the browser (0: only while the tab is open)."""


class DashboardConfig(Strict):
    refresh: Duration = timedelta(seconds=60)
    cache_ttl: Duration = timedelta(seconds=30)
    page_size: int = Field(50, ge=5, le=500)
    time_zone: str = "UTC"
    """The team's time zone (IANA name, e.g. Europe/London): every time on the dashboard and in alerts."""
    auth: AuthConfig = AuthConfig()

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{v!r} is not a time zone; use an IANA name such as Europe/London or UTC") from None
        return v


class DatabaseConfig(Strict):
    url: str = DEFAULT_DB_URL
    url_env: EnvVarName | None = None
    """The environment variable holding the whole URL (password included); when set, it replaces ``url``."""

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", v):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return v
