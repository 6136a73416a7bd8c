"""The care team's workspace through AppTest: what needs me now, an alert's own page, acting on it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from monitor.store import Alert, make_engine
from tests import fixtures_dashboard as fx
from tests.fixtures_dashboard import HOSTILE_TEXT, Seed, open_app, write_config

dash_seed, dash_rw_seed = fx.dash_seed, fx.dash_rw_seed


def shown(at: Any) -> str:
    """Every text the page shows, joined."""
    return " ".join(str(getattr(e, "value", "")) for e in at.main) + " " + " ".join(
        str(getattr(e, "label", "")) for e in at.main)


def open_alert(at: Any, alert_id: int) -> Any:
    at.switch_page("pages/alerts.py")
    at.query_params["alert"] = str(alert_id)
    return at.run()


def test_home_puts_the_storm_first_in_plain_words(dash_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(dash_seed.config, monkeypatch)
    [banner] = at.error  # the only active alert, high: red
    assert banner.value.startswith("**Acme** · High: 6× the usual negative mentions")
    assert "42 negative mentions in an hour, usually about 6" in banner.value
    assert "nobody has acknowledged it yet" in banner.value and "going on for 5 hours" in banner.value
    assert "e-22" not in shown(at) and "negative_volume" not in shown(at) and "p-value" not in shown(at)
    links = [(p.proto.label, p.proto.page, dict(p.proto.query_string.split("=") for _ in [0]))
             for p in at.get("page_link") if p.proto.query_string.startswith("alert=")]
    assert links == [("Open the alert", "alerts", {"alert": str(dash_seed.alert_ids[0])})]
    names = [h.value for h in at.subheader]
    assert names[:2] == ["Needs a reply", "Brands, most in trouble first"]
    assert names[2] == "Acme"  # the brand in a storm is the first card
    inbox = next(d.value for d in at.dataframe if "what the customer wrote" not in d.value.columns
                 and "text" in d.value.columns)
    # the inbox's own order (issue 13): highest priority first, each with its tier
    assert list(inbox["priority"]) == sorted(inbox["priority"], reverse=True) and len(inbox) == 8
    assert set(inbox["tier"]) <= {"urgent", "high", "medium", "low"}


def test_alert_page_tells_what_happened_and_where_it_went(dash_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_alert(open_app(dash_seed.config, monkeypatch), dash_seed.alert_ids[0])
    assert not at.exception
    assert at.header[0].value == "Acme: negative storm"
    values = {m.label: m.value for m in at.metric}
    assert values["At the peak"] == "42"
    assert values["Usually"] == "about 6" and values["How bad"] == "High"
    [chart] = at.get("vega_lite_chart")
    assert '"y2": {"field": "high"' in chart.proto.spec  # the usual range as a band
    assert "\u201coutage\u201d in 40% of negative mentions \\(usually 2%\\)" in shown(at)
    top = next(d.value for d in at.dataframe if "what they wrote" not in d.value.columns and "reach" in d.value)
    assert list(top["reach"]) == ["120k"] and top["text"].iloc[0] == HOSTILE_TEXT
    sent = next(d.value for d in at.dataframe if "channel" in d.value).set_index("channel")
    assert sent.loc["email", "status"] == "sent" and sent.loc["care-slack", "status"] == "failed"
    assert sent.loc["care-slack", "problem"] == "care-slack did not accept the alert: HTTP 500"
    assert "e-22" not in shown(at) and "p_value" not in shown(at)


def test_acknowledge_and_resolve_are_recorded_with_who_and_when(
    dash_rw_seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    aid = dash_rw_seed.alert_ids[0]
    at = open_alert(open_app(dash_rw_seed.config, monkeypatch), aid)
    at.button(key="alert_ack").click().run()
    assert any("sign in (or enter your name) first" in e.value for e in at.error)  # nobody acts anonymously
    at.text_input(key="user_name").set_value("kim").run()
    at.button(key="alert_ack").click().run()
    assert not at.exception and any("acknowledged by kim" in s.value for s in at.success)
    assert at.query_params["alert"] == [str(aid)] or at.query_params["alert"] == str(aid)  # still on its page
    at.text_input(key="user_name").set_value("sam").run()
    at.button(key="alert_resolve").click().run()
    with Session(make_engine(dash_rw_seed.url)) as s:
        alert = s.get(Alert, aid)
    assert alert is not None and (alert.acknowledged_by, alert.resolved_by) == ("kim", "sam")
    assert alert.acknowledged_at is not None and alert.resolved_at is not None
    assert "acknowledged by **kim**" in shown(at) and "resolved by **sam**" in shown(at)
    at.switch_page("pages/home.py").run()
    assert not at.error and any("No storm right now" in s.value for s in at.success)  # resolved: no banner


def test_the_alert_list_opens_an_alert_in_the_url(dash_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(dash_seed.config, monkeypatch, "alerts")
    at.segmented_control(key="window").set_value("30d").run()
    listing = next(d.value for d in at.dataframe if "how bad" in d.value)
    assert list(listing["brand"]) == ["Acme", "Globex"]
    assert list(listing["how bad"]) == ["High: 6× the usual negative mentions", "Medium: 5× the usual negative mentions"]
    assert list(listing["page"]) == [f"./alerts?alert={i}" for i in dash_seed.alert_ids]
    at.selectbox(key="a_pick").set_value(dash_seed.alert_ids[1]).run()
    assert at.query_params["alert"] in (str(dash_seed.alert_ids[1]), [str(dash_seed.alert_ids[1])])
    assert at.header[0].value == "Globex: negative storm"


def test_an_unknown_alert_says_so(dash_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_alert(open_app(dash_seed.config, monkeypatch), 999)
    assert "There is no alert #999" in at.warning[0].value


def test_times_are_in_the_team_zone(dash_seed: Seed, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    config = write_config(tmp_path, dash_seed.url, time_zone="Asia/Tokyo")
    at = open_app(config, monkeypatch)
    assert "JST" in at.error[0].value and "times in Asia/Tokyo" in at.sidebar.caption[0].value
    start = dash_seed.now - timedelta(hours=5)
    assert f"{(start + timedelta(hours=9)):%H:%M} JST" in at.error[0].value


def test_custom_dates_are_the_team_zone_days(dash_seed: Seed, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from datetime import datetime, time

    from tests.test_dashboard import BRAND_ORDER, cards

    config = write_config(tmp_path, dash_seed.url, time_zone="Asia/Tokyo")
    at = open_app(config, monkeypatch)
    at.segmented_control(key="window").set_value("Custom").run()
    assert at.date_input(key="dates").label == "Dates (Asia/Tokyo)"
    day = (dash_seed.now - timedelta(days=3)).date()
    at.date_input(key="dates").set_value((day, day)).run()
    start = datetime.combine(day, time()) - timedelta(hours=9)  # midnight in Tokyo, in UTC
    expected = {b: sum(1 for m in dash_seed.mentions if b in m.brands and start <= m.created_at < start + timedelta(days=1))
                for b in BRAND_ORDER}
    assert cards(at, "Mentions") == {b: str(n) for b, n in expected.items()}


def test_a_shared_link_opens_the_same_filters(dash_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_CONFIG", str(dash_seed.config))
    at = AppTest.from_file(str(fx.APP), default_timeout=60)  # a fresh browser session on a shared link
    at.switch_page("pages/mentions.py")
    at.query_params.update({"sentiment": "negative", "window": "24h", "brands": "Globex"})
    at.run()
    assert at.multiselect(key="sentiment").value == ["negative"] and at.segmented_control(key="window").value == "24h"
    assert at.multiselect(key="brands").value == ["Globex"]
    expected = dash_seed.count(dash_seed.now - timedelta(hours=24), label="negative", brand="Globex")
    assert [m.value for m in at.metric if m.label == "Matching mentions"] == [str(expected)]
