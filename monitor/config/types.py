"""The field types every config section shares: strict frozen models, durations, env-var names.

A leaf module (pydantic only), so collectors can declare their options with the same types.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}


def parse_duration(value: Any) -> Any:
    """``90s``, ``15m``, ``1h``, ``1d`` or a number of seconds as a timedelta; other types pass through.

    Hand-written (ten lines): pydantic parses ISO 8601 durations, not this form. Raises
    ValueError for text that is not a duration.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        m = _DURATION.match(value)
        if not m:
            raise ValueError(f"{value!r} is not a duration; write e.g. 90s, 15m, 1h or 1d")
        return timedelta(seconds=float(m.group(1)) * _UNIT_SECONDS[(m.group(2) or "s").lower()])
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
EnvVarName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class Strict(BaseModel):
    """A config section: unknown keys are errors, and the parsed value is frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
