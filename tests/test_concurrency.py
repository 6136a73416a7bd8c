"""The scheduler runs jobs in threads: scoring and collecting write the same SQLite file at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from collectors.base import Mention
from monitor.ingest import ingest_mentions
from monitor.scoring import score_pending
from monitor.store import Sentiment

T0 = datetime(2026, 11, 20, tzinfo=UTC)


def _batch(b: int, n: int = 50) -> list[Mention]:
    return [Mention(platform="x", native_id=f"{b}-{i}", text=f"Acme outage day {b}, post {i}, so annoying",
                    created_at=T0 + timedelta(minutes=b * n + i)) for i in range(n)]


def test_scoring_while_collectors_write_loses_nothing(app: Any) -> None:
    ingest_mentions(app.engine, "x", _batch(0), app.config.brands)
    scorer = app.scorer
    scorer.score(["warm up"])
    errors: list[BaseException] = []
    stop = threading.Event()

    def collector() -> None:
        try:
            for b in range(1, 40):
                ingest_mentions(app.engine, "x", _batch(b), app.config.brands, {"b": b})
        except BaseException as err:  # reported by the assertion below
            errors.append(err)
        finally:
            stop.set()

    thread = threading.Thread(target=collector)
    thread.start()
    scored = 0
    try:
        while not stop.is_set():
            scored += score_pending(app.engine, scorer, batch_size=64)
    except BaseException as err:
        errors.append(err)
    thread.join()
    assert not errors, errors
    scored += score_pending(app.engine, scorer, batch_size=64)
    with Session(app.engine) as s:
        assert s.execute(select(func.count()).select_from(Sentiment)).scalar_one() == 40 * 50 == scored
