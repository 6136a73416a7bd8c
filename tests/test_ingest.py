"""The ingest pipeline: idempotent, atomic with the cursor, safe to read while it writes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlmodel import Session

from collectors.base import Engagement, Mention
from monitor.ingest import ingest_mentions, load_cursor
from monitor.store import DeadLetter, MentionBrand, SourceState
from monitor.store import Mention as MentionRow

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def mention(i: int, text: str = "Acme is down again", platform: str = "x") -> Mention:
    return Mention(platform=platform, native_id=str(i), text=text, created_at=T0 + timedelta(minutes=i),
                   author=f"user{i}", author_reach=i * 10, engagement=Engagement(likes=i, replies=1),
                   url=f"https://x.com/user{i}/status/{i}", language="en", raw={"id": str(i)})


def count(app: Any, model: Any = MentionRow) -> int:
    with Session(app.engine) as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_stores_matched_mentions_with_all_fields(app: Any) -> None:
    batch = [mention(1), mention(2, "Globex and Acme compared"), mention(3, "nothing relevant here")]
    result = ingest_mentions(app.engine, "x", batch, app.config.brands, {"since_id": "3"})
    assert (result.stored, result.unmatched, result.duplicates) == (2, 1, 0)
    with Session(app.engine) as s:
        row = s.execute(select(MentionRow).where(MentionRow.native_id == "1")).scalar_one()
        assert (row.author, row.author_reach, row.likes, row.engagement, row.language) == ("user1", 10, 1, 2, "en")
        assert row.created_at == datetime(2026, 11, 20, 12, 1)  # stored as naive UTC
        assert row.raw == {"id": "1"}
        links = s.execute(select(func.count()).select_from(MentionBrand)).scalar_one()
    assert links == 3  # mention 2 matches both brands
    assert load_cursor(app.engine, "x") == {"since_id": "3"}


def test_reingesting_the_same_batch_changes_nothing(app: Any) -> None:
    batch = [mention(i) for i in range(50)]
    first = ingest_mentions(app.engine, "x", batch, app.config.brands, {"n": 1})
    again = ingest_mentions(app.engine, "x", [*batch, mention(7)], app.config.brands, {"n": 1})
    assert first.stored == 50
    assert (again.stored, again.duplicates) == (0, 51)
    assert count(app) == 50
    with Session(app.engine) as s:
        assert s.get(SourceState, "x").mentions_collected == 50


def test_a_row_another_writer_stored_first_is_not_returned_as_stored(app: Any) -> None:
    from monitor.ingest import bulk
    from monitor.ingest.language import Language
    from monitor.store import session_scope, utcnow

    ingest_mentions(app.engine, "x", [mention(1)], app.config.brands)
    now, lang = utcnow(), Language("en", "platform")
    with session_scope(app.engine) as session:  # no duplicate check first: the insert itself must notice
        ids = bulk.allocate_ids(session, 2)
        stored = bulk.insert(session, [bulk.row(ids[0], mention(1), "x", now, lang),
                                       bulk.row(ids[1], mention(2), "x", now, lang)])
    assert stored == {ids[1]} and count(app) == 2
    with session_scope(app.engine) as session:
        ids = bulk.allocate_ids(session, 1)
        assert bulk.insert(session, [bulk.row(ids[0], mention(3), "x", now, lang)]) == {ids[0]}
    assert count(app) == 3


def test_same_id_on_another_platform_is_another_mention(app: Any) -> None:
    ingest_mentions(app.engine, "x", [mention(1)], app.config.brands)
    result = ingest_mentions(app.engine, "reddit", [mention(1, platform="reddit")], app.config.brands)
    assert result.stored == 1 and count(app) == 2


def test_empty_text_is_rejected_into_the_dead_letter_table_not_stored(app: Any) -> None:
    result = ingest_mentions(app.engine, "x", [mention(1, "  \x00 ")], app.config.brands)
    assert (result.stored, result.rejected) == (0, 1)
    with Session(app.engine) as s:
        [dead] = s.execute(select(DeadLetter)).scalars()
    assert (dead.source, dead.position, dead.field) == ("x", "x 1", "text")
    assert dead.reason == "text: empty (give the post's text)"


CRASH = textwrap.dedent(
    """
    import os, sys
    from datetime import UTC, datetime
    import monitor.ingest.pipeline as ingest
    from collectors.base import Mention
    from monitor.context import App

    app = App.from_file(sys.argv[1], env={})
    def die(*args, **kwargs):
        os._exit(9)   # the process dies after the mentions are inserted, before the cursor moves
    ingest.save_cursor = die
    batch = [Mention(platform="x", native_id=str(i), text="Acme outage", created_at=datetime(2026, 1, 1, tzinfo=UTC))
             for i in range(100)]
    ingest.ingest_mentions(app.engine, "x", batch, app.config.brands, {"since_id": "99"})
    """
)


def test_crash_between_batch_and_cursor_loses_and_duplicates_nothing(app: Any, config_path: Path) -> None:
    ingest_mentions(app.engine, "x", [mention(1000)], app.config.brands, {"since_id": "old"})
    proc = subprocess.run([sys.executable, "-c", CRASH, str(config_path)], capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    # Neither the mentions nor the cursor of the crashed batch were stored...
    assert count(app) == 1
    assert load_cursor(app.engine, "x") == {"since_id": "old"}
    # ...so the collector, resuming from the old cursor, delivers the batch again: stored exactly once.
    batch = [mention(i, "Acme outage") for i in range(100)]
    assert ingest_mentions(app.engine, "x", batch, app.config.brands, {"since_id": "99"}).stored == 100
    assert count(app) == 101
    assert load_cursor(app.engine, "x") == {"since_id": "99"}


def test_sqlite_is_in_wal_mode_with_a_busy_timeout(app: Any) -> None:
    with app.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() >= 5000


def test_dashboard_can_read_while_collectors_write(app: Any) -> None:
    """A reader polls counts while a writer ingests 40 batches; no 'database is locked', counts only grow."""
    stop = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def reader() -> None:
        from monitor.store import make_engine

        engine = make_engine(app.config.database.url)  # a separate engine, as the dashboard has
        try:
            while not stop.is_set():
                with engine.connect() as conn:
                    seen.append(conn.execute(text("SELECT count(*) FROM mention")).scalar_one())
                time.sleep(0.002)
        except BaseException as err:  # pragma: no cover - the assertion below reports it
            errors.append(err)
        finally:
            engine.dispose()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for b in range(40):
            batch = [mention(b * 100 + i) for i in range(100)]
            ingest_mentions(app.engine, "x", batch, app.config.brands, {"batch": b})
    finally:
        stop.set()
        thread.join()
    assert not errors, errors
    assert len(seen) > 5
    assert seen == sorted(seen)
    assert all(n % 100 == 0 for n in seen)  # a reader never sees half a batch
    assert count(app) == 4000


def test_a_mention_posted_on_the_hour_falls_in_that_hour_for_range_queries(app: Any) -> None:
    """Bulk ingest stores times in the one text format SQLAlchemy compares with on SQLite
    (``YYYY-MM-DD HH:MM:SS.ffffff``): a mention posted at exactly 13:00:00 was stored as
    ``... 13:00:00``, which sorts before the bound ``... 13:00:00.000000``, so a query for
    [13:00, 14:00) missed it and one for [12:00, 13:00) counted it."""
    on_the_hour = Mention(platform="x", native_id="h", text="Acme is down", created_at=T0 + timedelta(hours=1),
                          language="en")
    ingest_mentions(app.engine, "x", [on_the_hour, mention(5)], app.config.brands)
    with Session(app.engine) as s:
        def between(model: Any, a: datetime, b: datetime) -> int:
            when = model.created_at
            return s.execute(select(func.count()).select_from(model).where(when >= a, when < b)).scalar_one()
        for model in (MentionRow, MentionBrand):
            assert between(model, datetime(2026, 11, 20, 13), datetime(2026, 11, 20, 14)) == 1
            assert between(model, datetime(2026, 11, 20, 12), datetime(2026, 11, 20, 13)) == 1
        stored = s.execute(text("SELECT created_at, collected_at FROM mention WHERE native_id = 'h'")).one()
    assert stored[0] == "2026-11-20 13:00:00.000000"
    assert len(stored[1]) == len("2026-11-20 13:00:00.000000")
