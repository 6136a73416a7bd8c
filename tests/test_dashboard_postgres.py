"""The dashboard's SQL on PostgreSQL (date_bin buckets, epoch arithmetic, Decimal sums).

Runs on the throwaway PostgreSQL server of tests/conftest.py's ``pg_url`` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from dashboard import queries
from dashboard.sql import MentionFilter
from monitor.store import utcnow
from tests.conftest import pg_database_of_its_own
from tests.fixtures_dashboard import Seed, open_app, seed, write_config


@pytest.fixture
def pg_seed(pg_url: str) -> Iterator[Seed]:
    """A seeded database of its own on the PostgreSQL server, dropped afterwards."""
    with pg_database_of_its_own(pg_url, "dash") as url:
        try:
            yield seed(url, utcnow())
        finally:
            queries.engine_for(url).dispose()


def test_aggregations_agree_with_the_seed_on_postgres(pg_seed: Seed) -> None:
    src = queries.Source(pg_seed.url, 0.5)
    start, end = pg_seed.now - timedelta(days=7), pg_seed.now + timedelta(minutes=1)
    totals = queries.brand_totals(src, start, end).set_index("brand_id")
    for name, bid in pg_seed.brand_ids.items():
        assert totals.loc[bid, "mentions"] == pg_seed.count(start, brand=name)
        assert totals.loc[bid, "negative"] == pg_seed.count(start, brand=name, label="negative")
    series = queries.brand_series(src, start, end, 6 * 3600, ("reddit",), by_platform=True)
    assert int(series["mentions"].sum()) == sum(
        len(m.brands) for m in pg_seed.mentions if m.created_at >= start and m.platform == "reddit")
    assert (series["bucket"].dt.hour % 6 == 0).all() and (series["bucket"].dt.minute == 0).all()
    f = MentionFilter(start, end, labels=("negative",), search="GLOBEX")
    assert queries.mention_count(src, f) == sum(
        1 for m in pg_seed.mentions if m.created_at >= start and m.label == "negative" and "Globex" in m.text)
    assert queries.escalation_timings(src, start, end)["ack_median"] == pytest.approx(5400)
    assert queries.backlog(src)["unscored"] == sum(1 for m in pg_seed.mentions if m.label is None)
    assert (queries.database_size(src) or 0) > 0


def test_pages_render_on_postgres(pg_seed: Seed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(write_config(tmp_path, pg_seed.url), monkeypatch)
    assert next(m.value for m in at.metric if m.label == "Mentions") == str(
        pg_seed.count(pg_seed.now - timedelta(days=7), brand="Acme"))
    for page in ("trends", "share_of_voice", "mentions", "escalations", "alerts", "health"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        expected = ["Not collecting as it should: **reddit** (failing), **hackernews** (late)"] if page == "health" else []
        assert [e.value for e in at.error] == expected, page
