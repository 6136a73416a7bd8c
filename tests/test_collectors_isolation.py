"""Collectors built through the registry fail alone: one source down, the others still deliver."""

from __future__ import annotations

import json

import responses

from collectors import registry
from collectors.base import RetriableError
from collectors.hackernews import HackerNewsSource
from collectors.rss import RssSource
from collectors.x import XSource
from tests.conftest_collectors import brand, drain, fast, payload

NEWS = "https://technews.example.com/feed.xml"


@responses.activate
def test_one_source_500s_forever_while_the_others_deliver() -> None:
    brands = [brand("Acme")]
    responses.get("https://hn.algolia.com/api/v1/search_by_date", status=500)
    responses.get(NEWS, body=payload("rss", "news.rss.xml"), content_type="application/rss+xml")
    responses.get("https://api.twitter.com/2/tweets/search/recent", json=payload("x", "search_page2"))
    sources = {
        "hackernews": HackerNewsSource(enabled=True),
        "rss": RssSource(enabled=True, feeds=[NEWS]),
        "x": XSource(enabled=True),
    }
    runs = {name: drain(fast(registry.build(name, opts, brands, {"X_BEARER_TOKEN": "t"})))
            for name, opts in sources.items()}
    assert isinstance(runs["hackernews"].error, RetriableError)
    assert runs["hackernews"].mentions == [] and runs["hackernews"].cursors == []
    assert runs["rss"].error is None and len(runs["rss"].mentions) == 3
    assert runs["x"].error is None and len(runs["x"].mentions) == 2
    json.dumps([m.raw for r in runs.values() for m in r.mentions])


def test_registry_builds_every_source() -> None:
    from collectors.mastodon import MastodonSource
    from collectors.reddit import RedditSource

    options = {"x": XSource(), "reddit": RedditSource(), "hackernews": HackerNewsSource(),
               "mastodon": MastodonSource(), "rss": RssSource()}
    for name, opts in options.items():
        c = registry.build(name, opts, [brand("Acme")], {})
        assert c.name == name
