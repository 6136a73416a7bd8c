"""Spike detection on synthetic Poisson history with a daily and weekly rhythm.

Three weeks of negative mentions (evening peak about four times the night, quieter
weekends), then the case under test, with the detector run as the scheduler would: every
15 minutes or every hour with a frozen clock passed as ``now``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from monitor.config import Config
from monitor.jobs import run_detection
from monitor.spikes.detect import bucket_counts, bucket_index, detect_spikes
from monitor.spikes.evidence import upper_tail
from monitor.store import Alert, Mention, MentionBrand, session_scope
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

HISTORY = timedelta(days=21)
DAY21 = T0 + HISTORY  # Monday of week four
BASE = 3.0


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return make_db(tmp_path)


@pytest.fixture
def cfg() -> Config:
    return make_config()


def history(engine: Engine, end: datetime = DAY21 + timedelta(days=2),
            rate: Callable[[datetime], float] | None = None) -> int:
    brand = add_brand(engine)
    bulk_history(engine, brand, T0, end, rate or daily_weekly_rate(BASE))
    return brand


def run(engine: Engine, cfg: Config, start: datetime, end: datetime,
        step: timedelta = timedelta(hours=1)) -> dict[int, list[tuple[datetime, Alert]]]:
    """Run detection at each step in [start, end); returns each alert id's changes with the run time."""
    seen: dict[int, list[tuple[datetime, Alert]]] = {}
    now = start
    while now < end:
        for alert in detect_spikes(engine, cfg, now=now):
            assert alert.id is not None
            seen.setdefault(alert.id, []).append((now, alert))
        now += step
    return seen


def all_alerts(engine: Engine) -> list[Alert]:
    with session_scope(engine) as s:
        return list(s.exec(select(Alert).order_by(Alert.id)).all())


def test_a_week_of_ordinary_days_with_daily_peaks_raises_nothing(engine: Engine, cfg: Config) -> None:
    history(engine, end=DAY21 + timedelta(days=7))
    assert run(engine, cfg, DAY21 + timedelta(minutes=5), DAY21 + timedelta(days=7)) == {}
    # the evening peak really is a peak: about four times the night
    rate = daily_weekly_rate(BASE)
    assert rate(DAY21 + timedelta(hours=18)) > 3.5 * rate(DAY21 + timedelta(hours=3))


def test_planted_spike_fires_within_two_buckets_with_its_drivers(engine: Engine, cfg: Config) -> None:
    brand = history(engine)
    spike = DAY21 + timedelta(hours=13)
    plant(engine, brand, spike, 25, text="acme charger melted <b>fire</b>", spread=timedelta(minutes=55),
          reach=5_000)
    changes = run(engine, cfg, spike - timedelta(hours=3), spike + timedelta(hours=2),
                  step=timedelta(minutes=15))
    [seen] = changes.values()
    first_seen = seen[0][0]
    assert first_seen - spike <= 2 * cfg.spikes.bucket
    [alert] = all_alerts(engine)
    assert alert.kind == "negative_volume" and alert.resolved_at is None
    assert alert.window_start == spike
    assert alert.observed >= 25 and alert.observed >= 3 * alert.expected
    assert alert.p_value < cfg.spikes.p_value and 2 <= alert.severity <= 4
    top = alert.details["top_mentions"]
    assert len(top) == 5 and top[0]["reach"] >= top[-1]["reach"] >= 5_000
    assert {"id", "text", "url", "author", "reach"} <= set(top[0])
    assert "charger melted" in {t["term"] for t in alert.details["rising_terms"][:4]}  # a phrase, not two words


def test_fast_storm_is_caught_inside_its_own_bucket(engine: Engine, cfg: Config) -> None:
    brand = history(engine)
    spike = DAY21 + timedelta(hours=3)  # night: usually about one negative an hour
    plant(engine, brand, spike, 14, text="acme app down for everyone", spread=timedelta(minutes=15))
    changes = run(engine, cfg, spike, spike + timedelta(hours=1), step=timedelta(minutes=20))
    assert min(t for seen in changes.values() for t, _ in seen) == spike + timedelta(minutes=20)


def test_mentions_arriving_after_their_bucket_was_judged_still_fire(engine: Engine, cfg: Config) -> None:
    """A collector that was rate-limited delivers an hour's storm late: the judged bucket is judged again."""
    brand = history(engine)
    spike = DAY21 + timedelta(hours=3)
    assert run(engine, cfg, spike, spike + timedelta(hours=1, minutes=10), step=timedelta(minutes=20)) == {}
    plant(engine, brand, spike, 20, text="acme app down for everyone", spread=timedelta(minutes=50))
    changes = run(engine, cfg, spike + timedelta(hours=1, minutes=10), spike + timedelta(hours=2),
                  step=timedelta(minutes=20))
    [alert] = all_alerts(engine)
    assert alert.window_start == spike and alert.observed >= 20
    assert min(t for seen in changes.values() for t, _ in seen) == spike + timedelta(hours=1, minutes=10)


def test_slow_trend_raises_nothing(engine: Engine, cfg: Config) -> None:
    daily = daily_weekly_rate(BASE)

    def growing(t: datetime) -> float:  # the brand's negative volume triples over four weeks
        return daily(t) * (1 + 2 * (t - T0) / timedelta(days=28))

    history(engine, end=DAY21 + timedelta(days=7), rate=growing)
    assert run(engine, cfg, DAY21 + timedelta(days=4), DAY21 + timedelta(days=7)) == {}


def test_one_bucket_blip_under_the_minimum_count_raises_nothing(engine: Engine, cfg: Config) -> None:
    brand = history(engine)
    blip = DAY21 + timedelta(hours=4)
    plant(engine, brand, blip, 5, text="acme worst", spread=timedelta(minutes=30))
    changes = run(engine, cfg, blip, blip + timedelta(hours=3), step=timedelta(minutes=15))
    assert changes == {}
    with session_scope(engine) as s:  # it is a big rise, only too small to matter
        counts = bucket_counts(engine, s, blip, blip + timedelta(hours=1), cfg.spikes.bucket)
    observed = counts[brand][bucket_index(blip, cfg.spikes.bucket)][2]
    assert 5 <= observed < cfg.spikes.min_count


def test_long_storm_is_one_alert_updated_then_closed(engine: Engine, cfg: Config) -> None:
    brand = history(engine)
    storm = DAY21 + timedelta(hours=9)
    for h in range(6):
        plant(engine, brand, storm + timedelta(hours=h), 20, text=f"acme data breach hour{h}",
              spread=timedelta(minutes=58))
    changes = run(engine, cfg, storm, storm + timedelta(hours=10))
    assert len(changes) == 1
    [alert] = all_alerts(engine)
    assert len(changes[alert.id or 0]) >= 6  # opened, updated each hour, closed
    assert not alert.is_open and alert.closed_at == storm + timedelta(hours=6)
    assert alert.window_start == storm and alert.window_end == storm + timedelta(hours=6)
    assert len(alert.details["buckets"]) == 6 and alert.details["total_observed"] >= 120
    assert alert.details["rising_terms"][0]["term"] == "data breach"


def test_flare_within_cooldown_reopens_the_same_alert_after_it_a_new_one(engine: Engine, cfg: Config) -> None:
    brand = history(engine, end=DAY21 + timedelta(days=3))
    first = DAY21 + timedelta(hours=10)
    for start in (first, first + timedelta(hours=3), first + cfg.spikes.cooldown + timedelta(hours=6)):
        plant(engine, brand, start, 25, text="acme recall", spread=timedelta(minutes=50))
    run(engine, cfg, first, first + timedelta(hours=20))
    alerts = all_alerts(engine)
    assert len(alerts) == 2
    assert alerts[0].details["buckets"][-1]["start"] == (first + timedelta(hours=3)).isoformat()
    assert alerts[1].window_start == first + cfg.spikes.cooldown + timedelta(hours=6)


def test_unscored_bucket_waits_for_the_scorer(engine: Engine, cfg: Config) -> None:
    brand = history(engine)
    spike = DAY21 + timedelta(hours=13)
    plant(engine, brand, spike, 25, text="acme refund", spread=timedelta(minutes=50))
    with session_scope(engine) as s:  # one mention the scorer has not reached yet
        m = Mention(platform="x", native_id="unscored", source="test", text="acme", created_at=spike)
        s.add(m)
        s.flush()
        s.add(MentionBrand(mention_id=m.id or 0, brand_id=brand, created_at=spike))
    after = spike + timedelta(hours=1, minutes=5)
    assert detect_spikes(engine, cfg, now=after) == []
    assert len(detect_spikes(engine, cfg, now=after + timedelta(hours=1))) == 1


def test_negative_binomial_tail_asks_more_of_a_noisy_baseline() -> None:
    assert upper_tail(30, 4.0, 1.0) < 1e-9 < upper_tail(30, 4.0, 6.0) < 0.01


def test_new_brand_needs_a_day_before_it_can_alert(engine: Engine, cfg: Config) -> None:
    brand = add_brand(engine)
    for i in range(30):
        add_mention(engine, brand, "acme outage", created_at=T0 + timedelta(minutes=i))
    assert run(engine, cfg, T0 + timedelta(hours=1), T0 + timedelta(hours=3)) == {}


def test_run_detection_flags_escalations_then_spikes(engine: Engine, cfg: Config) -> None:
    brand = history(engine)
    spike = DAY21 + timedelta(hours=13)
    plant(engine, brand, spike, 25, text="@acme refund now", spread=timedelta(minutes=50), reach=20_000)
    report = run_detection(engine, cfg, now=spike + timedelta(hours=1, minutes=1))
    assert report.new_escalations == 25 and len(report.new_alerts) == 1 and report.updated_alerts == []
    assert str(report) == "25 new escalation(s), 1 new alert(s), 0 updated, 0 closed"
    later = run_detection(engine, cfg, now=spike + timedelta(hours=2, minutes=1))
    assert later.new_alerts == [] and str(later).endswith("0 updated, 1 closed")
