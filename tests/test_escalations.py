"""Escalation rules: who needs a human, why, how urgently, and one per conversation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from monitor.escalations import escalation_stats, flag_escalations, risk_terms_in
from monitor.escalations.workflow import transition
from monitor.store import Correction, Escalation, session_scope
from tests.fixtures_alerts import T0, add_brand, add_mention, make_config, make_db

NOW = T0 + timedelta(minutes=30)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return make_db(tmp_path)


@pytest.fixture
def acme(engine: Engine) -> int:
    return add_brand(engine, "Acme")


def escalations(engine: Engine) -> list[Escalation]:
    with session_scope(engine) as s:
        return list(s.exec(select(Escalation).order_by(Escalation.id)).all())


def test_high_reach_negative_is_escalated_with_reason(engine: Engine, acme: int) -> None:
    add_mention(engine, acme, "acme lost my parcel", author_reach=52_000, p_negative=0.93)
    assert flag_escalations(engine, make_config(), now=NOW) == 1
    [esc] = escalations(engine)
    assert "author reach 52,000 ≥ 10,000" in esc.reasons
    assert esc.reasons[0].startswith("negative 93%")
    assert esc.status == "open" and esc.severity == 1


def test_engagement_risk_term_and_own_handle(engine: Engine, acme: int) -> None:
    add_mention(engine, acme, "this acme thread is blowing up", engagement=400, conversation_id="c1")
    add_mention(engine, acme, "I want a REFUND from acme", conversation_id="c2")
    add_mention(engine, acme, "@acme your app ate my order", conversation_id="c3")
    add_mention(engine, acme, "replying to you", in_reply_to="acme", conversation_id="c4")
    assert flag_escalations(engine, make_config(), now=NOW) == 4
    reasons = [e.reasons[1:] for e in escalations(engine)]
    assert reasons == [["engagement 400 ≥ 50"], ["risk term: refund"], ["addressed to @acme"],
                       ["addressed to @acme"]]


def test_risk_terms_match_whole_words_and_phrases_only() -> None:
    terms = ["sue", "data breach", "down"]
    assert risk_terms_in("I will SUE them after this Data\nBreach", terms) == ["sue", "data breach"]
    assert risk_terms_in("pursue a downgrade, issue", terms) == []
    # one rule with brand matching (issue 10): a hashtag counts as the word, #lawsuit as lawsuit
    assert risk_terms_in("issue #sue", terms) == ["sue"]


def test_confident_positive_and_unsure_negative_are_not_escalated(engine: Engine, acme: int) -> None:
    add_mention(engine, acme, "@acme refund arrived, thanks!", p_negative=0.02, author_reach=90_000)
    add_mention(engine, acme, "@acme refund? cancelling?", p_negative=0.6, author_reach=90_000)
    add_mention(engine, acme, "@acme lawsuit?", p_negative=0.4, label="neutral")  # not even labelled negative
    add_mention(engine, acme, "acme is meh", p_negative=0.95)  # negative, but no other reason
    assert flag_escalations(engine, make_config(), now=NOW) == 0
    assert escalations(engine) == []


def test_a_person_correcting_the_label_wins(engine: Engine, acme: int) -> None:
    mid = add_mention(engine, acme, "@acme sick burn lol", p_negative=0.97)
    with session_scope(engine) as s:
        s.add(Correction(mention_id=mid, label="positive"))
    assert flag_escalations(engine, make_config(), now=NOW) == 0


def test_one_escalation_per_conversation_updated_by_later_replies(engine: Engine, acme: int) -> None:
    cfg = make_config()
    add_mention(engine, acme, "acme charged me twice, refund please", conversation_id="42")
    assert flag_escalations(engine, cfg, now=NOW) == 1
    [first] = escalations(engine)
    assert first.severity == 1
    add_mention(engine, acme, "same here, talking to my lawyer", conversation_id="42", author_reach=200_000)
    add_mention(engine, acme, "me too, refund", conversation_id="42")
    assert flag_escalations(engine, cfg, now=NOW + timedelta(minutes=1)) == 0
    [esc] = escalations(engine)
    assert esc.id == first.id and esc.conversation_key == "x:42"
    assert "risk term: lawyer" in esc.reasons and "author reach 200,000 ≥ 10,000" in esc.reasons
    assert esc.severity > first.severity
    assert esc.updated_at == NOW + timedelta(minutes=1)


def test_same_conversation_on_another_platform_is_separate(engine: Engine, acme: int) -> None:
    add_mention(engine, acme, "refund now", conversation_id="42", platform="x")
    add_mention(engine, acme, "refund now", conversation_id="42", platform="reddit")
    assert flag_escalations(engine, make_config(), now=NOW) == 2


def test_idempotent_and_only_new_scores_are_read(engine: Engine, acme: int) -> None:
    cfg = make_config()
    add_mention(engine, acme, "acme outage again", conversation_id="9")
    assert flag_escalations(engine, cfg, now=NOW) == 1
    before = escalations(engine)
    assert flag_escalations(engine, cfg, now=NOW + timedelta(minutes=1)) == 0
    assert escalations(engine) == before
    add_mention(engine, acme, "acme data breach?!", conversation_id="10")
    assert flag_escalations(engine, cfg, now=NOW + timedelta(minutes=2)) == 1


def test_severity_grows_with_reasons_reach_and_strong_risk(engine: Engine, acme: int) -> None:
    add_mention(engine, acme, "refund", conversation_id="a")
    add_mention(engine, acme, "@acme data breach, my lawyer will sue", conversation_id="b",
                author_reach=500_000, engagement=2_000)
    flag_escalations(engine, make_config(), now=NOW)
    low, high = escalations(engine)
    assert (low.severity, high.severity) == (1, 4)


def test_per_brand_override(engine: Engine, acme: int) -> None:
    cfg = make_config(escalation={"overrides": {"acme": {"min_author_reach": 500,
                                                         "extra_risk_terms": ["melted"]}}})
    add_mention(engine, acme, "acme charger melted", author_reach=800)
    flag_escalations(engine, cfg, now=NOW)
    [esc] = escalations(engine)
    assert esc.reasons[1:] == ["author reach 800 ≥ 500", "risk term: melted"]


def test_old_mentions_are_not_escalated(engine: Engine, acme: int) -> None:
    add_mention(engine, acme, "refund", created_at=NOW - timedelta(days=10))
    assert flag_escalations(engine, make_config(), now=NOW) == 0


def test_resolved_escalation_reopens_when_the_conversation_flares(engine: Engine, acme: int) -> None:
    cfg = make_config()
    add_mention(engine, acme, "refund", conversation_id="7")
    flag_escalations(engine, cfg, now=NOW)
    [esc] = escalations(engine)
    assert esc.id is not None
    transition(engine, esc.id, "resolved", now=NOW + timedelta(hours=1))
    add_mention(engine, acme, "still no refund, chargeback filed", conversation_id="7")
    assert flag_escalations(engine, cfg, now=NOW + timedelta(hours=2)) == 0
    [esc] = escalations(engine)
    assert esc.status == "open" and "risk term: chargeback" in esc.reasons


def test_escalation_stats_median_and_p90(engine: Engine, acme: int) -> None:
    for i in range(10):
        add_mention(engine, acme, "refund", conversation_id=f"s{i}")
    flag_escalations(engine, make_config(), now=NOW)
    for i, esc in enumerate(escalations(engine)):
        assert esc.id is not None
        transition(engine, esc.id, "acknowledged", now=NOW + timedelta(minutes=i + 1))
        if i < 5:
            transition(engine, esc.id, "resolved", now=NOW + timedelta(hours=i + 1))
    stats = escalation_stats(engine)
    assert stats.total == 10 and stats.by_status["resolved"] == 5
    assert stats.time_to_acknowledge_median == timedelta(minutes=5.5)
    assert stats.time_to_acknowledge_p90 == timedelta(minutes=9.1)
    assert stats.time_to_resolve_median == timedelta(hours=3)
    assert escalation_stats(engine, since=NOW + timedelta(days=1)).time_to_resolve_median is None


def test_a_hedged_legal_threat_is_escalated_below_the_confidence_bar(engine: Engine, acme: int) -> None:
    add_mention(engine, acme, "@acme your outage cost us a day, full refund or we call our lawyer",
                p_negative=0.47, label="negative", author_reach=120_000)
    add_mention(engine, acme, "acme outage, I want a refund", p_negative=0.47, label="negative")  # no strong risk: not enough
    assert flag_escalations(engine, make_config(), now=NOW) == 1
    [esc] = escalations(engine)
    assert esc.reasons[0] == "negative 47% (under 75%; strong risk term)"
    assert "risk term: lawyer" in esc.reasons and esc.severity == 4
