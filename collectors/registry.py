"""Source name -> collector class, imported lazily so a missing optional client never breaks the rest."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from collectors.base import Collector

_CLASSES = {
    "file": "collectors.file:FileCollector",
    "x": "collectors.x:XCollector",
    "reddit": "collectors.reddit:RedditCollector",
    "hackernews": "collectors.hackernews:HackerNewsCollector",
    "mastodon": "collectors.mastodon:MastodonCollector",
    "rss": "collectors.rss:RssCollector",
}

SOURCE_NAMES = tuple(_CLASSES)


def collector_class(name: str) -> type[Collector]:
    """The class for source ``name``; raises KeyError naming the known sources."""
    try:
        target = _CLASSES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(SOURCE_NAMES)}") from None
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def build(name: str, options: Any, brands: list[Any], env: Mapping[str, str]) -> Collector:
    """An instance of source ``name`` with its options, the brands and the environment."""
    return collector_class(name)(options, brands, env)
