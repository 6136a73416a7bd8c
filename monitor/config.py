"""config.yaml, parsed once into a validated, frozen object.

Nothing here reads the environment at import time. Secrets never live in the file: the
file names environment variables (``*_env`` keys) and :func:`secret` reads them, or a
file named by ``<VAR>_FILE``, when a component needs the value.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator

from monitor.config_sections import (
    BrandConfig,
    Duration,
    EnvVarName,
    FileSource,
    HackerNewsSource,
    MastodonSource,
    RedditSource,
    RssSource,
    SourceBase,
    SourcesConfig,
    Strict,
    XSource,
)

__all__ = [
    "AlertsConfig", "BrandConfig", "Config", "ConfigError", "DashboardConfig", "DatabaseConfig", "EscalationConfig",
    "FileSource", "HackerNewsSource", "MastodonSource", "ModelConfig", "RedditSource", "RssSource", "SmtpConfig",
    "SourceBase", "SourcesConfig", "SpikeConfig", "XSource", "load_config", "masked_dump", "parse_config", "secret",
]

DEFAULT_DB_URL = "sqlite:///data/monitor.db"
class ConfigError(Exception):
    """config.yaml is missing, unreadable or invalid; ``problems`` holds one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def secret(var: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """Return the secret held in environment variable ``var``, or in the file ``<var>_FILE``.

    Returns None when neither is set. Never logs the value.
    """
    if not var:
        return None
    env = os.environ if env is None else env
    value = env.get(var)
    if value:
        return value.strip()
    path = env.get(f"{var}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return None


# ---------------------------------------------------------------- model, rules, alerts


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


# ---------------------------------------------------------------- the whole file


class Config(Strict):
    brands: list[BrandConfig] = Field(min_length=1)
    sources: SourcesConfig = SourcesConfig()
    database: DatabaseConfig = DatabaseConfig()
    model: ModelConfig = ModelConfig()
    escalation: EscalationConfig = EscalationConfig()
    spikes: SpikeConfig = SpikeConfig()
    alerts: AlertsConfig = AlertsConfig()
    dashboard: DashboardConfig = DashboardConfig()

    def cross_problems(self) -> list[str]:
        """Problems that span keys (duplicate brand names, unknown competitors), one line each."""
        names = [b.name for b in self.brands]
        lowered = [n.lower() for n in names]
        problems = []
        for i, n in enumerate(lowered):
            if lowered.index(n) != i:
                problems.append(f"brands[{i}].name: {names[i]!r} is used twice (brand names must be unique)")
        for i, b in enumerate(self.brands):
            for c in b.competitors:
                if c.lower() not in lowered:
                    problems.append(
                        f"brands[{i}].competitors: {c!r} is not a configured brand "
                        f"(add it under brands with is_own: false, or remove it)"
                    )
        return problems

    def brand(self, name: str) -> BrandConfig:
        """Return the brand called ``name`` (case-insensitive); raise KeyError if none."""
        for b in self.brands:
            if b.name.lower() == name.lower():
                return b
        raise KeyError(name)


_FIXES = {
    "missing": "add it",
    "extra_forbidden": "remove it or fix its spelling",
    "int_parsing": "write a whole number",
    "int_type": "write a whole number",
    "float_parsing": "write a number",
    "bool_parsing": "write true or false",
    "bool_type": "write true or false",
    "list_type": "write a list, e.g. [a, b]",
    "string_type": "write text",
    "literal_error": "use one of the allowed values",
    "string_pattern_mismatch": "fix its format",
    "too_short": "add at least one entry",
    "model_type": "write a mapping of keys",
    "dict_type": "write a mapping of keys",
}


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def format_errors(err: ValidationError, known: Any = None) -> list[str]:
    """Turn a pydantic error into one line per problem: the key path, what is wrong, the fix."""
    lines = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        path = _loc(loc)
        msg = e["msg"].removeprefix("Value error, ")
        fix = _FIXES.get(e["type"], "")
        if e["type"] == "extra_forbidden":
            fields = _fields_at(loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), fields, n=1)
            fix = f"did you mean {close[0]!r}?" if close else "remove it; allowed: " + ", ".join(fields)
            msg = "unknown key"
        elif e["type"] == "literal_error":
            fix = ""
        lines.append(f"{path}: {msg}" + (f" ({fix})" if fix else ""))
    return lines


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    model: Any = Config
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        ann = field.annotation
        args = getattr(ann, "__args__", None)
        if args:
            ann = next((a for a in args if hasattr(a, "model_fields")), ann)
        model = ann
    return sorted(getattr(model, "model_fields", {}))


def parse_config(data: Any) -> Config:
    """Validate a mapping already read from YAML; raise :class:`ConfigError` on problems."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(["(top level): config must be a mapping of keys (see README)"])
    try:
        cfg = Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_errors(err)) from None
    problems = cfg.cross_problems()
    if problems:
        raise ConfigError(problems)
    return cfg


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate ``path``; raise :class:`ConfigError` with one line per problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{p}: file not found (run `monitor init` or pass --config PATH)"]) from None
    except OSError as err:
        raise ConfigError([f"{p}: cannot read ({err.strerror})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        problem = getattr(err, "problem", None) or "invalid YAML"
        raise ConfigError([f"{p}: {problem} at {where} (fix the YAML syntax there)"]) from None
    return parse_config(data)


def masked_dump(cfg: Config, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The effective config as plain data, with each ``*_env`` key shown as set or unset."""
    env = os.environ if env is None else env
    data = cfg.model_dump(mode="json")

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k.endswith("_env") and isinstance(v, str):
                    state = "set" if secret(v, env) else "unset"
                    out[k] = f"{v} (********)" if state == "set" else f"{v} (unset)"
                else:
                    out[k] = walk(v)
            return out
        if isinstance(node, list):
            return [walk(x) for x in node]
        return node

    return walk(data)
