"""config.yaml, parsed once into a validated, frozen object: the whole file's model and its loading.

Nothing here reads the environment at import time. Secrets never live in the file: the
file names environment variables (``*_env`` keys) and :func:`monitor.config.secrets.secret`
reads them, or a file named by ``<VAR>_FILE``, when a component needs the value. The one
secret resolved at load time is ``database.url_env`` (the database URL, password included),
so every reader of ``database.url`` gets the real URL; printing the config masks it.

Any file that cannot be read as a config (missing, binary, not UTF-8, not YAML, not a
mapping, cut off mid-line) is a :class:`ConfigError`: one line naming the problem, exit 2.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError

from monitor.config.brands import BrandConfig
from monitor.config.secrets import secret
from monitor.config.sections import (
    AlertsConfig,
    DashboardConfig,
    DatabaseConfig,
    EscalationConfig,
    ModelConfig,
    SpikeConfig,
)
from monitor.config.sources import SourcesConfig
from monitor.config.types import Strict
from monitor.errors import MonitorError
from monitor.text import mask_url


class ConfigError(MonitorError):
    """config.yaml is missing, unreadable or invalid; ``problems`` holds one line each (exit code 2)."""

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


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
        for i, ch in enumerate(self.alerts.channels):
            problems += [f"alerts.channels[{i}].brands: {b!r} is not a configured brand (fix the name or remove it)"
                         for b in ch.brands if b.lower() not in lowered]
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


def parse_config(data: Any, env: Mapping[str, str] | None = None) -> Config:
    """Validate a mapping already read from YAML; raise :class:`ConfigError` on problems.

    ``env`` (default ``os.environ``) is where ``database.url_env`` is read from.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(["(top level): config must be a mapping of keys (see README)"])
    empty = [k for k, v in data.items() if v is None and k in Config.model_fields]
    if empty:
        raise ConfigError([f"{k}: is empty (write its keys, or remove the line; if the file was cut off "
                           "there, restore it)" for k in empty])
    try:
        cfg = Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_errors(err)) from None
    problems = cfg.cross_problems()
    if problems:
        raise ConfigError(problems)
    return _resolve_database(cfg, os.environ if env is None else env)


def _resolve_database(cfg: Config, env: Mapping[str, str]) -> Config:
    """``cfg`` with ``database.url`` taken from ``database.url_env`` when that is set."""
    var = cfg.database.url_env
    if not var:
        return cfg
    url = secret(var, env)
    if not url:
        raise ConfigError([f"database.url_env: environment variable {var} is not set (export it, or {var}_FILE, "
                           "or write database.url instead)"])
    try:
        database = DatabaseConfig(url=url, url_env=var)
    except ValidationError:
        raise ConfigError([f"database.url_env: the URL in {var} must start with sqlite:/// or postgresql:// "
                           f"(it is {mask_url(url)[:60]!r})"]) from None
    return cfg.model_copy(update={"database": database})


def read_text(p: Path) -> str:
    """The text of config file ``p``; raises :class:`ConfigError` (one line) when it cannot be a config."""
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"{p}: file not found; write one (README, 'config.yaml': at least one brand; the "
                           "repository's config.yaml is an example), or pass --config PATH or set MONITOR_CONFIG"]
                          ) from None
    except OSError as err:
        raise ConfigError([f"{p}: cannot read ({err.strerror})"]) from None
    if b"\x00" in data:
        raise ConfigError([f"{p}: is a binary file, not YAML text (point --config at your config.yaml)"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ConfigError([f"{p}: is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
                           "save it as UTF-8"]) from None
    closed_flow = text.rstrip().endswith(("}", "]"))  # a JSON-style file: a cut inside it fails to parse
    if text.strip() and not text.endswith(("\n", "\r")) and not closed_flow:
        last = text.rsplit("\n", 1)[-1]
        raise ConfigError([f"{p}: ends mid-line (line {text.count(chr(10)) + 1}: {last[:40]!r}), as a file cut "
                           "off while written does; check its end, then end it with a line break"])
    return text


def load_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> Config:
    """Read and validate ``path``; raise :class:`ConfigError` with one line per problem."""
    p = Path(path)
    text = read_text(p)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        problem = getattr(err, "problem", None) or " ".join(str(err).split())[:120] or "invalid YAML"
        raise ConfigError([f"{p}: {problem} at {where} (fix the YAML syntax there)"]) from None
    except RecursionError:
        raise ConfigError([f"{p}: nested too deeply to be a config (check the file)"]) from None
    return parse_config(data, env)


def masked_dump(cfg: Config, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The effective config as plain data: each ``*_env`` key shown as set or unset, every URL's password masked."""
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
        return mask_url(node) if isinstance(node, str) else node

    return walk(data)
