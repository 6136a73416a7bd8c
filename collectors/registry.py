"""Every source, found from the collector modules' own declarations.

Each module in this package that defines a :class:`~collectors.base.Collector` subclass
with a ``name`` is a source: the config's ``sources`` section (its ``Options``), the
secrets it reads and the class the runner builds all come from that one declaration.
Collector modules import their platform clients (tweepy, praw, feedparser, requests) only
when they run, so finding them here is cheap.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from functools import cache
from typing import Any

import collectors
from collectors.base import Collector, StreamCollector


@cache
def sources() -> dict[str, type[Collector]]:
    """Source name -> collector class, ordered by the classes' ``order`` then name."""
    found: dict[str, type[Collector]] = {}
    for info in pkgutil.iter_modules(collectors.__path__):
        module = importlib.import_module(f"collectors.{info.name}")
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, Collector) and value not in (Collector, StreamCollector)
                    and value.__module__ == module.__name__ and getattr(value, "name", None)):
                if value.name in found and found[value.name] is not value:
                    raise RuntimeError(f"two collectors are named {value.name!r}: {found[value.name]} and {value}")
                found[value.name] = value
    return dict(sorted(found.items(), key=lambda kv: (kv[1].order, kv[0])))


def source_names() -> tuple[str, ...]:
    """Every source's name, in config order."""
    return tuple(sources())


def collector_class(name: str) -> type[Collector]:
    """The class for source ``name``; raises KeyError naming the known sources."""
    try:
        return sources()[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(sources())}") from None


def build(name: str, options: Any, brands: list[Any], env: Mapping[str, str]) -> Collector:
    """An instance of source ``name`` with its options, the brands and the environment."""
    return collector_class(name)(options, brands, env)
