"""The dashboard's aggregates come from the rollups and follow every write at once: a person's
correction moves the brand card, an unsupported-language mention counts in volume but never in
negative share or net sentiment, and the model's emotions draw the trends page's emotion chart.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from dashboard import queries
from monitor.scoring import correct_sentiment
from monitor.store import Sentiment, make_engine, session_scope
from monitor.store.rollups import tracking
from tests import fixtures_dashboard as fx
from tests.fixtures_dashboard import Seed, open_app

dash_rw_seed = fx.dash_rw_seed  # the fixture, for pytest to find


def _acme_card(at: Any, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)  # Acme, in a storm, comes first


def _week(seed: Seed) -> list[fx.SeedMention]:
    since = seed.now - fx.timedelta(days=7)
    return [m for m in seed.mentions if m.created_at >= since and "Acme" in m.brands]


def test_a_correction_moves_the_brand_card_at_once(dash_rw_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    week = _week(dash_rw_seed)
    scored = [m for m in week if m.label]
    negative = sum(m.label == "negative" for m in scored)
    at = open_app(dash_rw_seed.config, monkeypatch)
    assert _acme_card(at, "Negative share") == f"{negative / len(scored):.0%}"
    engine = make_engine(dash_rw_seed.url)
    positive = [m for m in scored if m.label == "positive"][:5]
    for m in positive:
        correct_sentiment(engine, m.id, "negative", by="ana")
    unscored = next(m for m in week if m.label is None)
    correct_sentiment(engine, unscored.id, "negative", by="ana")  # a person labels one the model has not
    engine.dispose()
    queries.clear()  # written outside the dashboard, which clears its cache after its own actions
    at = open_app(dash_rw_seed.config, monkeypatch)
    assert _acme_card(at, "Negative share") == f"{(negative + 6) / (len(scored) + 1):.0%}"
    assert _acme_card(at, "Scored") == f"{len(scored) + 1:,}"


def test_unsupported_languages_count_in_volume_never_in_sentiment(dash_rw_seed: Seed,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    week = _week(dash_rw_seed)
    scored = [m for m in week if m.label]
    negative = sum(m.label == "negative" for m in scored)
    engine = make_engine(dash_rw_seed.url)
    moved = [m for m in scored if m.label == "neutral"][:10]
    with session_scope(engine) as s, tracking(s, [m.id for m in moved]):  # as scoring marks an uncovered language
        s.execute(update(Sentiment).where(Sentiment.mention_id.in_([m.id for m in moved]))
                  .values(label="unsupported", p_negative=0.0, p_neutral=0.0, p_positive=0.0))
    engine.dispose()
    queries.clear()  # written outside the dashboard, which clears its cache after its own actions
    at = open_app(dash_rw_seed.config, monkeypatch)
    assert _acme_card(at, "Mentions") == f"{len(week):,}"
    assert _acme_card(at, "Scored") == f"{len(scored) - 10:,}"
    assert _acme_card(at, "Negative share") == f"{negative / (len(scored) - 10):.0%}"


def test_emotions_draw_the_trends_emotion_chart(dash_rw_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(dash_rw_seed.url)
    with Session(engine) as s:
        ids = [int(i) for i in s.execute(select(Sentiment.mention_id)).scalars()]
    with session_scope(engine) as s, tracking(s, ids):
        for k, mid in enumerate(ids):
            s.execute(update(Sentiment).where(Sentiment.mention_id == mid)
                      .values(emotion=("anger", "joy", "optimism", "sadness")[k % 4]))
    engine.dispose()
    queries.clear()  # written outside the dashboard, which clears its cache after its own actions
    at = open_app(dash_rw_seed.config, monkeypatch, "trends")
    assert "Emotions" in [h.value for h in at.subheader]
    charts = list(at.get("vega_lite_chart"))
    assert len(charts) == 3 and "anger" in str(charts[2].proto)
