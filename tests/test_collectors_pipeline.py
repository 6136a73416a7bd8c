"""The X collector through the real ingest pipeline: a rate limit mid-walk loses and repeats nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import responses
from sqlalchemy import select
from sqlmodel import Session

from monitor.context import App
from monitor.ingest.collect import collect_source
from monitor.store import Mention as MentionRow
from monitor.store.migrate import upgrade
from tests.conftest import write_config
from tests.conftest_collectors import payload

SEARCH = "https://api.twitter.com/2/tweets/search/recent"


def x_app(tmp_path: Path) -> Any:
    path = write_config(tmp_path, sources={"x": {"enabled": True}})
    app = App.from_file(path, env={"X_BEARER_TOKEN": "t"})
    upgrade(app.config.database.url)
    return app


def stored_ids(app: Any) -> list[str]:
    with Session(app.engine) as session:
        return list(session.execute(select(MentionRow.native_id).where(MentionRow.platform == "x")).scalars())


@responses.activate
def test_rate_limited_run_then_resume_stores_every_tweet_once(tmp_path: Path) -> None:
    app = x_app(tmp_path)
    responses.get(SEARCH, json=payload("x", "search_page1"))
    responses.get(SEARCH, status=429, json=payload("x", "error_429"),
                  headers={"x-rate-limit-reset": "1795000000"})
    first = collect_source(app, "x")
    assert first.status == "rate_limited" and first.pages == 1
    # the support reply names no brand in its text: the pipeline drops it, the cursor still moves
    assert sorted(stored_ids(app)) == ["1859000000000000103", "1859000000000000105"]

    responses.reset()
    responses.get(SEARCH, json=payload("x", "search_page2"))  # the rest of the first query's walk
    responses.get(SEARCH, json=payload("x", "search_empty"))  # the second brand's query
    second = collect_source(app, "x")
    assert second.status == "ok", second.message
    ids = stored_ids(app)
    assert sorted(ids) == ["1859000000000000101", "1859000000000000102", "1859000000000000103",
                           "1859000000000000105"]
    assert "until_id" in responses.calls[0].request.params
    app.engine.dispose()
