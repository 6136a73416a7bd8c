"""The dashboard pages on a seeded database, through Streamlit's AppTest."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from monitor.store import Correction, Sentiment, make_engine
from tests import fixtures_dashboard as fx
from tests.fixtures_dashboard import HOSTILE_TEXT, Seed, open_app

dash_seed, dash_rw_seed = fx.dash_seed, fx.dash_rw_seed  # the fixtures, for pytest to find

BRAND_ORDER = ["Acme", "Globex", "Initech"]  # the brand in a storm first, then the configured order


def metrics(at: Any, label: str) -> list[str]:
    return [m.value for m in at.metric if m.label == label]


def cards(at: Any, label: str) -> dict[str, str]:
    """Brand -> the value of metric ``label`` on its card (the cards come in trouble order)."""
    names = [h.value.removesuffix(" (competitor)") for h in at.subheader if h.value.removesuffix(" (competitor)")
             in BRAND_ORDER]
    return dict(zip(names, metrics(at, label), strict=True))


def table(at: Any, column: str) -> Any:
    """The first dataframe shown that has ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def charts(at: Any) -> list[Any]:
    return list(at.get("vega_lite_chart"))


def week(seed: Seed, **match: object) -> int:
    return seed.count(seed.now - timedelta(days=7), **match)


def test_home_shows_each_brand_for_the_window(dash_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(dash_seed.config, monkeypatch)
    assert at.title[0].value == "What needs me now"
    assert metrics(at, "Mentions") == [f"{week(dash_seed, brand=b):,}" for b in BRAND_ORDER]
    scored = week(dash_seed, brand="Acme") - week(dash_seed, brand="Acme", label=None)
    negative = week(dash_seed, brand="Acme", label="negative")
    positive = week(dash_seed, brand="Acme", label="positive")
    assert metrics(at, "Negative share")[0] == f"{negative / scored:.0%}"
    assert metrics(at, "Net sentiment")[0] == f"{(positive - negative) / scored:+.2f}"
    assert metrics(at, "Open escalations") == ["8", "0", "0"]  # 5 open + 3 acknowledged
    assert metrics(at, "Active alerts") == ["1", "0", "0"]
    # the previous 7 days hold the 20 older mentions per brand: the change is against them
    acme_now, acme_before = week(dash_seed, brand="Acme"), 20
    mentions = next(m for m in at.metric if m.label == "Mentions")
    assert mentions.delta == f"{(acme_now - acme_before) / acme_before:+.0%}"
    # more mentions during a storm are not good news: the change is grey, never a green arrow
    color = type(mentions.proto).MetricColor
    assert mentions.proto.color == color.GRAY
    negative = next(m for m in at.metric if m.label == "Negative share")
    assert negative.delta is not None and negative.delta.startswith("-") and negative.proto.color == color.GREEN


def test_home_platform_and_window_change_the_counts(dash_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(dash_seed.config, monkeypatch)
    at.multiselect(key="platforms").set_value(["reddit"]).run()
    assert cards(at, "Mentions") == {b: f"{week(dash_seed, brand=b, platform='reddit'):,}" for b in BRAND_ORDER}
    at.multiselect(key="platforms").set_value([]).run()
    at.segmented_control(key="window").set_value("24h").run()
    day = {b: dash_seed.count(dash_seed.now - timedelta(hours=24), brand=b) for b in BRAND_ORDER}
    assert cards(at, "Mentions") == {b: str(n) for b, n in day.items()}
    assert day["Acme"] < week(dash_seed, brand="Acme")


def test_custom_dates_choose_the_window(dash_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(dash_seed.config, monkeypatch)
    at.segmented_control(key="window").set_value("Custom").run()
    first, last = (dash_seed.now - timedelta(days=4)).date(), (dash_seed.now - timedelta(days=3)).date()
    at.date_input(key="dates").set_value((first, last)).run()
    start = datetime.combine(first, time())
    end = start + timedelta(days=2)
    expected = {b: sum(1 for m in dash_seed.mentions if b in m.brands and start <= m.created_at < end)
                for b in BRAND_ORDER}
    assert cards(at, "Mentions") == {b: str(n) for b, n in expected.items()}
    assert any(f"{first} to {last}" in c.value for c in at.caption)


def test_mentions_filters_change_the_count(dash_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(dash_seed.config, monkeypatch, "mentions")
    assert metrics(at, "Matching mentions") == [f"{week(dash_seed):,}"]
    at.multiselect(key="sentiment").set_value(["negative"]).run()
    assert metrics(at, "Matching mentions") == [str(week(dash_seed, label="negative"))]
    at.multiselect(key="platforms").set_value(["x"]).run()
    assert metrics(at, "Matching mentions") == [str(week(dash_seed, label="negative", platform="x"))]
    at.multiselect(key="brands").set_value(["Globex"]).run()
    expected = week(dash_seed, label="negative", platform="x", brand="Globex")
    assert metrics(at, "Matching mentions") == [str(expected)]
    at.multiselect(key="brands").set_value([])
    at.multiselect(key="platforms").set_value([])
    at.multiselect(key="sentiment").set_value([])
    at.toggle(key="escalated").set_value(True).run()
    assert metrics(at, "Matching mentions") == ["12"]
    at.toggle(key="escalated").set_value(False)
    at.text_input(key="q").set_value("Mention 12 FEELS").run()
    assert metrics(at, "Matching mentions") == ["1"]  # case-insensitive; not "mention 120 feels"


def test_mentions_page_through_newest_first(dash_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(dash_seed.config, monkeypatch, "mentions")
    page = table(at, "corrected_label")
    assert len(page) == 25  # dashboard.page_size
    assert list(page["created_at"]) == sorted(page["created_at"], reverse=True)
    assert page["text"].iloc[0] == HOSTILE_TEXT
    assert page["url"].iloc[1].startswith("https://example.com/")
    at.number_input(key="m_page").set_value(15).run()
    assert len(table(at, "corrected_label")) == week(dash_seed) - 14 * 25
    assert at.download_button(key="m_export").label == "Export CSV"


def test_hostile_mention_text_is_shown_literally(dash_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(dash_seed.config, monkeypatch, "mentions")
    assert at.selectbox(key="m_selected").value == dash_seed.mentions[0].id
    assert HOSTILE_TEXT in [t.value for t in at.text]
    for md in [*at.markdown, *at.caption]:
        assert "<script>" not in md.value and "**markdown**" not in md.value
    at.switch_page("pages/alerts.py")
    at.query_params["alert"] = str(dash_seed.alert_ids[0])
    at.run()
    top = table(at, "author")
    assert top["text"].iloc[0] == HOSTILE_TEXT
    assert top["url"].iloc[0] is None  # a javascript: link is never offered
    for md in [*at.markdown, *at.caption, *at.error]:
        assert "<script>" not in md.value


def test_correction_persists_beside_the_model_score(dash_rw_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(dash_rw_seed.config, monkeypatch, "mentions")
    at.text_input(key="user_name").set_value("dana").run()
    mid = dash_rw_seed.mentions[0].id
    assert at.selectbox(key="m_selected").value == mid
    at.segmented_control(key="m_correct_to").set_value("positive").run()
    at.button(key="m_save").click().run()
    assert not at.exception
    with Session(make_engine(dash_rw_seed.url)) as s:
        correction, score = s.get(Correction, mid), s.get(Sentiment, mid)
    assert correction is not None and correction.label == "positive" and correction.corrected_by == "dana"
    assert score is not None and score.label == "negative" and score.p_negative == pytest.approx(0.8)
    assert metrics(at, "Model label") == ["negative"]
    assert metrics(at, "Correction") == ["positive"]
    assert any("corrected to positive" in s.value for s in at.success)


def test_trends_charts_mark_the_alerts(dash_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(dash_seed.config, monkeypatch, "trends")
    volume, net = charts(at)
    assert "strokeDash" in volume.proto.spec and "negative_volume" in str(volume.proto)
    assert "negative_volume" in str(net.proto)
    by_platform = table(at, "net sentiment")
    assert int(by_platform["mentions"].sum()) == week(dash_seed, brand="Acme")
    assert at.selectbox(key="brand").value == "Acme"  # the brand in a storm opens first
    at.selectbox(key="brand").set_value("Initech").run()
    assert int(table(at, "net sentiment")["mentions"].sum()) == week(dash_seed, brand="Initech")


def test_share_of_voice_against_competitors(dash_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(dash_seed.config, monkeypatch, "share_of_voice")
    sov = table(at, "share").set_index("brand")
    counts = {b: week(dash_seed, brand=b) for b in BRAND_ORDER}
    assert sov["mentions"].to_dict() == counts
    assert sov.loc["Acme", "share"] == pytest.approx(counts["Acme"] / sum(counts.values()))
    assert len(charts(at)) == 2


def test_health_tells_late_failing_and_disabled_sources(dash_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", "hunter2-not-for-eyes")
    from monitor.store import DeadLetter, make_engine, session_scope

    with session_scope(make_engine(dash_seed.url)) as s:  # two items reddit could not store
        for line in (3, 9):
            s.add(DeadLetter(source="reddit", position=f"t1_bad{line}", digest=f"d{line}", payload=b"{\"id\": null}",
                             payload_size=12, reason="id: missing", field="id"))
    at = open_app(dash_seed.config, monkeypatch, "health")
    assert metrics(at, "Rejected items") == ["2"]
    unscored = sum(1 for m in dash_seed.mentions if m.label is None)
    assert metrics(at, "Unscored backlog") == [str(unscored)]
    assert metrics(at, "Mentions stored") == [str(len(dash_seed.mentions))]
    assert metrics(at, "Database size")[0].endswith("KB")
    sources = table(at, "problem").set_index("source")
    assert sources.loc["reddit", "state"] == "failing" and sources.loc["reddit", "problem"] == "HTTP 429 rate limited"
    assert sources.loc["hackernews", "state"] == "late"  # every minute, last ran 22 minutes ago
    assert sources.loc["x", "state"] == "ok" and sources.loc["x", "collected"] == 250
    assert sources.loc["reddit", "rejected"] == 2 and sources.loc["x", "rejected"] == 0
    assert sources.loc["rss", "state"] == "disabled" and sources.loc["mastodon", "state"] == "disabled"
    assert list(sources.index[:2]) == ["reddit", "hackernews"]  # trouble first
    assert any("reddit" in e.value and "hackernews" in e.value for e in at.error)
    assert list(table(at, "model_version")["model_version"]) == ["minilm-sentiment@2026-11-01"]
    shown = " ".join(str(getattr(e, "value", "")) for e in at.main) + str(at.sidebar)
    assert "hunter2" not in shown
