"""Alerts in plain words, and acknowledge / resolve with who and when."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.alerts import actions, wording
from monitor.errors import WorkflowError
from tests.fixtures_alerts import add_brand, make_db
from tests.test_delivery import NOW, make_alert


def test_numbers_read_as_people_say_them() -> None:
    assert [wording.count(n) for n in (0, 7, 950, 1200, 120_000, 2_345_678)] == ["0", "7", "950", "1.2k", "120k",
                                                                                  "2.3M"]
    assert [wording.percent(s) for s in (0.344, 0.004, 1.0, None)] == ["34%", "0.4%", "100%", "—"]
    assert wording.usual(0.8) == "under 1" and wording.usual(6.4) == "about 6"
    assert wording.times_usual(29, 0.8) == "36× the usual" and wording.times_usual(3, 2) == "1.5× the usual"
    assert wording.severity_word(4) == "critical"


def test_times_in_the_team_zone_with_utc_beside() -> None:
    t = datetime(2026, 7, 14, 13, 5)  # naive UTC
    assert wording.local_and_utc(t, "Europe/Berlin") == "Tue 14 Jul 15:05 CEST (13:05 UTC)"
    assert wording.local_and_utc(t, "UTC") == "Tue 14 Jul 13:05 UTC"
    assert wording.since(t, t + timedelta(hours=3), True, t) == "going on for 3 hours"


def test_the_summary_prefers_detections_own_sentence() -> None:
    details = {"bucket_seconds": 3600, "total_observed": 64, "total_expected": 1.4}
    assert wording.summary("negative_volume", 29, 0.8, details) == (
        "29 negative mentions in an hour, usually under 1; 64 in the whole storm so far, usually about 1.")
    said = "62 negative mentions in the last 3 hours from 48 people; usually about 15."
    assert wording.summary("negative_volume", 29, 0.8, {**details, "summary": said}) == said
    assert wording.drivers({"rising_terms": [{"term": "refund delay", "count": 9, "share": 0.4,
                                              "baseline_share": 0.02}]}) == [
        "\u201crefund delay\u201d in 40% of negative mentions (usually 2%)"]


def test_acknowledge_then_resolve_records_who_and_when(tmp_path: Path) -> None:
    engine = make_db(tmp_path)
    alert_id = make_alert(engine, add_brand(engine))
    with pytest.raises(WorkflowError, match="sign in"):
        actions.acknowledge(engine, alert_id, by="  ")
    alert = actions.acknowledge(engine, alert_id, by="kim", now=NOW)
    assert (alert.acknowledged_by, alert.acknowledged_at) == ("kim", NOW)
    with pytest.raises(WorkflowError, match="already acknowledged by kim"):
        actions.acknowledge(engine, alert_id, by="sam", now=NOW + timedelta(minutes=1))
    alert = actions.resolve(engine, alert_id, by="sam", now=NOW + timedelta(hours=1))
    assert (alert.resolved_by, alert.resolved_at, alert.acknowledged_by) == ("sam", NOW + timedelta(hours=1), "kim")
    with pytest.raises(WorkflowError, match="already resolved by sam"):
        actions.resolve(engine, alert_id, by="kim")
    with pytest.raises(WorkflowError, match="does not exist"):
        actions.acknowledge(engine, 999, by="kim")
    assert actions.reopen(engine, alert_id, by="kim").resolved_at is None


def test_resolving_an_unacknowledged_alert_acknowledges_it_too(tmp_path: Path) -> None:
    engine = make_db(tmp_path)
    alert = actions.resolve(engine, make_alert(engine, add_brand(engine)), by="dana", now=NOW)
    assert (alert.acknowledged_by, alert.acknowledged_at, alert.resolved_by) == ("dana", NOW, "dana")
