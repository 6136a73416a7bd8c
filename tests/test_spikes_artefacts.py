"""Storms and artefacts on a real SQLite file with a frozen clock: what must page and what must not.

Three weeks of Poisson history with a daily and weekly rhythm (as in test_spikes.py), then
the case: a one-author thread, a brand whose collection just started, a new source, a
collection outage, clock skew, bucket sizes that do not divide a day, empty stores.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from monitor.config import Config
from monitor.spikes.detect import detect_spikes
from monitor.store import Alert, JobState, session_scope
from tests.fixtures_alerts import (
    T0,
    add_brand,
    add_mention,
    bulk_history,
    daily_weekly_rate,
    make_config,
    make_db,
    plant,
)

DAY21 = T0 + timedelta(days=21)  # Monday of week four
HOUR = timedelta(hours=1)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return make_db(tmp_path)


def run(engine: Engine, cfg: Config, start: datetime, end: datetime, step: timedelta = HOUR) -> list[Alert]:
    """Detect at every step in [start, end); returns every alert created or changed, in order."""
    out: list[Alert] = []
    now = start
    while now < end:
        out += detect_spikes(engine, cfg, now=now)
        now += step
    return out


def alerts(engine: Engine) -> list[Alert]:
    with session_scope(engine) as s:
        return list(s.exec(select(Alert).order_by(Alert.id)).all())


def brand_with_history(engine: Engine, end: datetime = DAY21 + timedelta(days=2), base: float = 3.0,
                       name: str = "Acme") -> int:
    brand = add_brand(engine, name)
    bulk_history(engine, brand, T0, end, daily_weekly_rate(base))
    return brand


def test_an_empty_store_and_a_brand_without_mentions_raise_nothing(engine: Engine) -> None:
    cfg = make_config()
    assert detect_spikes(engine, cfg, now=DAY21) == []
    add_brand(engine, "Silent")
    assert run(engine, cfg, DAY21, DAY21 + 3 * HOUR) == []
    busy = brand_with_history(engine)
    plant(engine, busy, DAY21 + 13 * HOUR, 25, text="acme outage", spread=timedelta(minutes=50))
    [alert] = {a.id: a for a in run(engine, cfg, DAY21 + 12 * HOUR, DAY21 + 15 * HOUR)}.values()
    assert alert.brand_id == busy  # the silent brand neither alerts nor breaks the run


def test_one_customer_writing_twenty_complaints_is_one_voice(engine: Engine) -> None:
    brand = brand_with_history(engine)
    thread = DAY21 + 13 * HOUR
    for i in range(20):
        add_mention(engine, brand, f"acme still broken, day {i} of waiting", created_at=thread + timedelta(minutes=2 * i),
                    author="angry_customer", p_negative=0.95)
    assert run(engine, make_config(), thread, thread + 4 * HOUR) == []
    counted_by_mentions = make_config(spikes={"people": False})
    with session_scope(engine) as s:  # judge the same hour again, counting mentions
        s.delete(s.get(JobState, f"spikes:{brand}"))
    changed = run(engine, counted_by_mentions, thread + HOUR, thread + 2 * HOUR)
    assert [a.observed for a in changed] and changed[0].observed >= 20


def test_two_people_writing_most_of_an_hour_do_not_page_but_forty_people_do(engine: Engine) -> None:
    brand = brand_with_history(engine)
    hour = DAY21 + 14 * HOUR
    for i in range(19):
        add_mention(engine, brand, f"acme refund please #{i}", created_at=hour + timedelta(minutes=3 * i),
                    author=f"customer{i % 2}")
    assert run(engine, make_config(), hour, hour + 3 * HOUR) == []
    storm = DAY21 + 30 * HOUR
    plant(engine, brand, storm, 40, text="acme app down for everyone", spread=timedelta(minutes=55))
    [alert] = {a.id: a for a in run(engine, make_config(), storm, storm + 3 * HOUR)}.values()
    assert alert.details["window"]["people"] >= 40
    assert re.fullmatch(r"4\d negative mentions in the .+ from 4\d people; usually (about \d+|fewer than one)",
                        alert.details["summary"]), alert.details["summary"]


def test_a_brand_whose_collection_just_started_is_warming_up(engine: Engine) -> None:
    """The "86 vs 0.8 expected" artefact: a sparse backfill of the past days, then full collection."""
    brand = add_brand(engine)
    started = DAY21 + 10 * HOUR
    rate = daily_weekly_rate(6.0)
    bulk_history(engine, brand, started - timedelta(days=3), started, lambda t: 0.1 * rate(t),
                 collected_at=started)  # the first search returned a thin slice of the past
    bulk_history(engine, brand, started, started + timedelta(days=3), rate, seed=8)
    cfg = make_config()
    assert run(engine, cfg, started + HOUR, started + cfg.spikes.warmup) == []  # it looks like a storm, but no
    with session_scope(engine) as s:
        state = s.get(JobState, f"spikes:{brand}")
        assert state is not None and state.cursor["warming_up"] == ["test/x"]
    storm = started + timedelta(days=1, hours=10)
    plant(engine, brand, storm, 45, text="acme down everywhere", spread=timedelta(minutes=55))
    changed = run(engine, cfg, started + cfg.spikes.warmup, storm + 2 * HOUR)
    assert {a.window_start for a in changed} == {storm}  # warmed up: a real storm pages


def test_a_source_added_mid_week_is_not_a_storm(engine: Engine) -> None:
    brand = brand_with_history(engine, end=DAY21 + timedelta(days=3))
    added = DAY21 + timedelta(days=1, hours=9)
    rate = daily_weekly_rate(3.0)
    bulk_history(engine, brand, added - timedelta(days=5), added, lambda t: 0.2 * rate(t), platform="reddit",
                 collected_at=added, seed=9)
    bulk_history(engine, brand, added, DAY21 + timedelta(days=3), rate, platform="reddit", seed=10)  # doubles volume
    assert run(engine, make_config(), DAY21 + timedelta(hours=6), DAY21 + timedelta(days=3)) == []


def test_a_collection_outage_is_neither_a_drop_nor_a_spike(engine: Engine) -> None:
    brand = add_brand(engine)
    rate = daily_weekly_rate(5.0)
    outage = DAY21 + timedelta(days=1, hours=8)
    bulk_history(engine, brand, T0, outage, rate)
    bulk_history(engine, brand, outage + timedelta(hours=6), DAY21 + timedelta(days=3), rate, seed=11)
    assert run(engine, make_config(), DAY21 + timedelta(hours=12), DAY21 + timedelta(days=3)) == []


def test_mentions_from_the_future_wait_for_their_time(engine: Engine) -> None:
    brand = brand_with_history(engine)
    now = DAY21 + 13 * HOUR + timedelta(minutes=5)
    ahead = now + 2 * HOUR  # a platform whose clock runs two hours fast
    plant(engine, brand, ahead, 30, text="acme charged me twice", spread=timedelta(minutes=40))
    assert run(engine, make_config(), now, now + HOUR) == []
    changed = run(engine, make_config(), now + HOUR, ahead + 2 * HOUR)
    assert {a.window_start for a in changed} == {ahead.replace(minute=0)}


@pytest.mark.parametrize("size", [timedelta(hours=7), timedelta(minutes=50)])
def test_a_bucket_size_that_does_not_divide_a_day_still_works(engine: Engine, size: timedelta) -> None:
    brand = brand_with_history(engine)
    cfg = make_config(spikes={"bucket": f"{int(size.total_seconds() // 60)}m"})
    epoch = datetime(1970, 1, 1)
    storm = epoch + size * ((DAY21 + 12 * HOUR - epoch) // size)  # a bucket boundary
    assert run(engine, cfg, storm - 3 * size, storm, step=size) == []
    per_bucket = max(40, int(60 * size / HOUR))
    plant(engine, brand, storm, per_bucket, text="acme data breach", spread=size * 0.9)
    [alert] = {a.id: a for a in run(engine, cfg, storm, storm + 3 * size, step=size)}.values()
    assert alert.window_start == storm and alert.details["bucket_seconds"] == int(size.total_seconds())


def test_people_late_mentions_and_first_collection_count_the_same_on_postgresql(engine: Engine, pg_url: str) -> None:
    from sqlalchemy import text
    from sqlmodel import SQLModel

    from monitor.spikes.counts import unit_counts
    from monitor.store import make_engine

    pg = make_engine(pg_url)
    with pg.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    SQLModel.metadata.create_all(pg)
    start = DAY21 + 9 * HOUR
    try:
        results = []
        for db in (engine, pg):
            brand = add_brand(db)
            for i in range(12):  # one loud author, two quiet ones, one without a name; two collected a day late
                add_mention(db, brand, "acme broke", created_at=start + timedelta(minutes=4 * i),
                            author=("loud" if i < 8 else f"quiet{i % 2}") if i != 11 else "",
                            collected_at=start + timedelta(days=1) if i in (3, 4) else None,
                            platform="reddit" if i == 0 else "x")
            add_mention(db, brand, "acme fine", created_at=start + HOUR, p_negative=0.1, author="loud")
            with session_scope(db) as s:
                rows = unit_counts(db, s, start - HOUR, start + 3 * HOUR, HOUR, timedelta(hours=6))
            results.append(sorted((r.unit, r.bucket, r.total, r.scored, r.negative, r.people, r.scored_people, r.late,
                                   r.first_collected) for r in rows))
        assert results[0] == results[1]
        [x_hour] = [r for r in results[0] if r[0] == ("test", "x") and r[2] == 11]
        assert x_hour[4:8] == (11, 4, 4, 2)  # 11 negatives from loud, quiet0, quiet1 and one nameless; 2 late
    finally:
        pg.dispose()
