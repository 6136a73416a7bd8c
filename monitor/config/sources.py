"""``sources``: one section per collector, built from the collectors' own declarations.

The section's fields and their defaults are each collector's ``Options`` model (see
:mod:`collectors.registry`); nothing about a source is written here.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import create_model

from collectors.base import SourceOptions
from collectors.registry import sources
from monitor.config.types import Strict


class SourcesBase(Strict):
    """What the generated ``SourcesConfig`` adds to its per-source fields."""

    def enabled(self) -> dict[str, SourceOptions]:
        """Return the enabled sources by name, in declaration order."""
        return {n: s for n, s in self if s.enabled}


@cache
def sources_model() -> type[SourcesBase]:
    """The ``sources`` section's model: a field per registered collector, defaulting to its Options()."""
    fields: dict[str, Any] = {name: (cls.Options, cls.Options()) for name, cls in sources().items()}
    return create_model("SourcesConfig", __base__=SourcesBase, **fields)


SourcesConfig = sources_model()
