"""config.yaml, parsed once into a validated, frozen :class:`Config` and passed in.

- :mod:`monitor.config.types`: the shared field types (strict models, durations, env-var names);
- :mod:`monitor.config.secrets`: :func:`secret`, the one way secrets are read;
- :mod:`monitor.config.brands`: the ``brands`` section;
- :mod:`monitor.config.sources`: the ``sources`` section, built from the collectors' declarations;
- :mod:`monitor.config.sections`: database, model, escalation, spikes, alerts, dashboard;
- :mod:`monitor.config.loading`: the whole file: reading, validation, errors, the masked dump.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_HOMES = {
    "BrandConfig": "brands",
    "Config": "loading", "ConfigError": "loading", "format_errors": "loading", "load_config": "loading",
    "masked_dump": "loading", "parse_config": "loading",
    "secret": "secrets",
    "DEFAULT_DB_URL": "sections", "AlertsConfig": "sections", "AuthConfig": "sections", "ChannelConfig": "sections",
    "RiskCategory": "sections", "TierCuts": "sections", "DashboardConfig": "sections", "DatabaseConfig": "sections",
    "EscalationConfig": "sections",
    "EscalationOverride": "sections", "ModelConfig": "sections", "SmtpConfig": "sections", "SpikeConfig": "sections",
    "SourcesConfig": "sources",
    "Duration": "types", "EnvVarName": "types", "Strict": "types", "parse_duration": "types",
}
__all__ = [  # every key of _HOMES
    "DEFAULT_DB_URL",
    "AlertsConfig",
    "AuthConfig",
    "BrandConfig",
    "ChannelConfig",
    "Config",
    "ConfigError",
    "DashboardConfig",
    "DatabaseConfig",
    "Duration",
    "EnvVarName",
    "EscalationConfig",
    "EscalationOverride",
    "ModelConfig",
    "RiskCategory",
    "SmtpConfig",
    "SourcesConfig",
    "SpikeConfig",
    "Strict",
    "TierCuts",
    "format_errors",
    "load_config",
    "masked_dump",
    "parse_config",
    "parse_duration",
    "secret",
]


def __getattr__(name: str) -> Any:
    """Re-export each name from its module on first use.

    Lazy on purpose: the collectors import the leaf modules (``types``, ``secrets``) while
    ``sources`` imports the collectors, so importing everything here up front would be circular.
    """
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


if TYPE_CHECKING:
    from monitor.config.brands import BrandConfig
    from monitor.config.loading import Config, ConfigError, format_errors, load_config, masked_dump, parse_config
    from monitor.config.secrets import secret
    from monitor.config.sections import (
        DEFAULT_DB_URL,
        AlertsConfig,
        AuthConfig,
        ChannelConfig,
        DashboardConfig,
        DatabaseConfig,
        EscalationConfig,
        EscalationOverride,
        ModelConfig,
        RiskCategory,
        SmtpConfig,
        SpikeConfig,
        TierCuts,
    )
    from monitor.config.sources import SourcesConfig
    from monitor.config.types import Duration, EnvVarName, Strict, parse_duration
