"""Escalation rules: who needs a human, why, how urgently, and one per conversation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from monitor.escalations import escalation_stats, flag_escalations
from monitor.escalations.workflow import transition
from monitor.store import Correction, Escalation, EscalationEvent, session_scope
from tests.fixtures_alerts import T0, add_brand, add_mention, make_config, make_db

NOW = T0 + timedelta(minutes=30)
SARCASM = "@acme thank you for leaving my 74 y/o grandma stranded at the gate for 9 hours. I will never fly you again"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return make_db(tmp_path)


@pytest.fixture
def acme(engine: Engine) -> int:
    return add_brand(engine, "Acme")


def escalations(engine: Engine) -> list[Escalation]:
    with session_scope(engine) as s:
        return list(s.exec(select(Escalation).order_by(Escalation.id)).all())


def by_text(engine: Engine) -> dict[str, Escalation]:
    from monitor.store import Mention

    with session_scope(engine) as s:
        rows = s.exec(select(Escalation, Mention.text).join(Mention, Mention.id == Escalation.mention_id)).all()
        return {text: esc for esc, text in rows}


def test_a_confident_complaint_to_the_brand_is_escalated_with_short_reasons(engine: Engine, acme: int) -> None:
    add_mention(engine, acme, "@acme lost my parcel AGAIN, third week of this", p_negative=0.97,
                author_reach=52_000, created_at=NOW - timedelta(minutes=10))
    assert flag_escalations(engine, make_config(), now=NOW) == 1
    [esc] = escalations(engine)
    assert esc.reasons == ["negative 97%", "outage: lost my parcel", "reach 52k", "to @acme"]
    assert 0 <= esc.priority <= 100 and esc.status == "open" and esc.version == 1


def test_sarcasm_does_not_hide_a_strong_risk_phrase_addressed_to_the_brand(engine: Engine, acme: int) -> None:
    # the shipped model reads this as praise (p_negative 0.09, p_positive 0.86)
    add_mention(engine, acme, SARCASM, p_negative=0.09, label="positive")
    add_mention(engine, acme, "acme left my grandma stranded, never fly them again", p_negative=0.09,
                label="positive")  # not addressed to the brand: the phrase alone does not force it
    assert flag_escalations(engine, make_config(), now=NOW) == 1
    [esc] = escalations(engine)
    assert esc.reasons[:3] == ["negative 9% (tone reads positive)", "outage: stranded", "churn: never fly you again"]


def test_a_negated_phrase_is_excused_only_when_the_model_is_confidently_positive(engine: Engine,
                                                                                  acme: int) -> None:
    cfg = make_config(escalation={"confident_positive": 0.45})  # these fixtures give p_positive = (1 - p_neg) / 2
    add_mention(engine, acme, "@acme I would never sue you, best support ever", p_negative=0.05)  # .475: confident
    add_mention(engine, acme, "@acme keep ignoring me and I will sue you", p_negative=0.05)  # not negated
    add_mention(engine, acme, "@acme not cancelling my subscription, yet. fix the app", p_negative=0.4,
                label="neutral")  # negated, but p_positive .3 is not confident
    flag_escalations(engine, cfg, now=NOW)
    assert set(by_text(engine)) == {"@acme keep ignoring me and I will sue you",
                                    "@acme not cancelling my subscription, yet. fix the app"}


def test_a_risk_named_to_say_it_is_none_counts_for_nothing(engine: Engine, acme: int) -> None:
    """Grateful customers name the risk they did not suffer; the model often reads them as negative anyway
    (these p_negative are the shipped model's on the first three texts, from the escalation lab's tune traps)."""
    add_mention(engine, acme, "@acme I'm not leaving, you sorted my bill out in five minutes. great support",
                p_negative=0.87)  # a weak term said to be dealt with
    add_mention(engine, acme, "@acme not cancelling my subscription after all, you guys sorted it out in minutes. "
                "thank you!", p_negative=0.61)  # a negated strong phrase in a text that reports the fix
    add_mention(engine, acme, "@acme I would never sue you, you are the best. just wanted to say thanks for the help "
                "today", p_negative=0.51)  # a negated strong phrase in praise
    add_mention(engine, acme, "@acme my bill is wrong again and nobody answers", p_negative=0.87)  # the same term, meant
    add_mention(engine, acme, "@acme not cancelling my subscription, yet. fix the app", p_negative=0.6,
                label="neutral")  # "fix" asks for a fix: nothing was dealt with
    add_mention(engine, acme, "@acme the bill is still not sorted after three calls", p_negative=0.87)  # negated fix
    flag_escalations(engine, make_config(), now=NOW)
    assert set(by_text(engine)) == {"@acme my bill is wrong again and nobody answers",
                                    "@acme not cancelling my subscription, yet. fix the app",
                                    "@acme the bill is still not sorted after three calls"}


@pytest.mark.parametrize(("tone", "escalated"), [(0.45, True), (0.9, False)])
def test_the_model_reading_praise_around_a_problem_is_sarcasm(engine: Engine, acme: int, tone: float,
                                                             escalated: bool) -> None:
    # no stock praise frame in these words: only the model's tone (p_positive .475 here) can say it is praise
    cfg = make_config(escalation={"sarcasm_tone": tone})
    add_mention(engine, acme, "@acme four hours delayed on the tarmac, what a day", p_negative=0.05,
                label="positive")
    add_mention(engine, acme, "@acme no delay at all today, smooth flight", p_negative=0.05,
                label="positive")  # negated: praise, and no problem
    flag_escalations(engine, cfg, now=NOW)
    found = by_text(engine)
    assert list(found) == (["@acme four hours delayed on the tarmac, what a day"] if escalated else [])
    if escalated:
        assert "outage: delayed" in found["@acme four hours delayed on the tarmac, what a day"].reasons


def test_no_cliff_at_a_threshold_0744_and_075_are_treated_alike(engine: Engine, acme: int) -> None:
    for p in (0.744, 0.75):
        add_mention(engine, acme, f"@acme where is my refund ({p})", p_negative=p, author_reach=300)
        add_mention(engine, acme, f"@acme this is meh ({p})", p_negative=p, author_reach=300)
    flag_escalations(engine, make_config(), now=NOW)
    found = by_text(engine)
    assert set(found) == {"@acme where is my refund (0.744)", "@acme where is my refund (0.75)"}
    assert abs(found["@acme where is my refund (0.744)"].priority - found["@acme where is my refund (0.75)"].priority) <= 1


def test_priority_orders_the_queue_by_risk_reach_engagement_and_repeat_contact(engine: Engine, acme: int) -> None:
    at = NOW - timedelta(minutes=20)
    add_mention(engine, acme, "@acme your app is useless", p_negative=0.93, created_at=at)
    add_mention(engine, acme, "@acme your app is useless!", p_negative=0.93, author_reach=400_000, engagement=900,
                created_at=at)
    add_mention(engine, acme, "@acme the charger caught fire, my lawyer will call", p_negative=0.93, created_at=at)
    for i in range(3):  # the same customer, a third time within the week
        add_mention(engine, acme, f"@acme still waiting for an answer #{i}", p_negative=0.93, author="kay",
                    created_at=at - timedelta(hours=2 - i))
    flag_escalations(engine, make_config(), now=NOW)
    p = {text: esc.priority for text, esc in by_text(engine).items()}
    assert p["@acme the charger caught fire, my lawyer will call"] > p["@acme your app is useless!"] \
        > p["@acme your app is useless"]
    assert p["@acme still waiting for an answer #2"] > p["@acme still waiting for an answer #0"]
    assert "3rd contact" in by_text(engine)["@acme still waiting for an answer #2"].reasons


def test_a_post_found_late_ranks_below_the_same_post_found_at_once(engine: Engine, acme: int) -> None:
    add_mention(engine, acme, "@acme double charged, want my money back", created_at=NOW - timedelta(minutes=5))
    add_mention(engine, acme, "@acme double charged, want my money back!", created_at=NOW - timedelta(hours=40))
    flag_escalations(engine, make_config(), now=NOW)
    found = by_text(engine)
    late = found["@acme double charged, want my money back!"]
    assert late.priority < found["@acme double charged, want my money back"].priority
    assert "found 40h late" in late.reasons


def test_severity_tiers_are_cut_from_the_priority(engine: Engine, acme: int) -> None:
    add_mention(engine, acme, "@acme refund", p_negative=0.9, conversation_id="a")
    add_mention(engine, acme, "@acme data breach, my lawyer will sue you", p_negative=0.95, conversation_id="b",
                author_reach=500_000, engagement=2_000)
    cfg = make_config()
    flag_escalations(engine, cfg, now=NOW)
    low, high = escalations(engine)
    tiers = cfg.escalation.tiers
    assert high.severity == 4 and high.priority >= tiers.urgent
    assert low.severity == (3 if low.priority >= tiers.high else 2 if low.priority >= tiers.medium else 1)


def test_tiers_follow_the_configured_cuts(tmp_path: Path) -> None:
    engine = make_db(tmp_path)
    brand = add_brand(engine)
    add_mention(engine, brand, "@acme refund", p_negative=0.9)  # priority 53
    flag_escalations(engine, make_config(escalation={"tiers": {"urgent": 60, "high": 55, "medium": 50}}), now=NOW)
    assert [(e.priority, e.severity) for e in escalations(engine)] == [(53, 2)]


def test_a_person_correcting_the_label_wins(engine: Engine, acme: int) -> None:
    mid = add_mention(engine, acme, "@acme sick burn lol, stranded in my own jokes", p_negative=0.97)
    low = add_mention(engine, acme, "@acme meh", p_negative=0.1)
    with session_scope(engine) as s:
        s.add(Correction(mention_id=mid, label="positive"))
        s.add(Correction(mention_id=low, label="negative"))
    flag_escalations(engine, make_config(), now=NOW)
    assert [e.mention_id for e in escalations(engine)] == [low]
    assert escalations(engine)[0].reasons[0] == "negative 100%"


def test_one_escalation_per_conversation_updated_by_later_replies(engine: Engine, acme: int) -> None:
    cfg = make_config()
    add_mention(engine, acme, "@acme charged me twice, refund please", conversation_id="42")
    assert flag_escalations(engine, cfg, now=NOW) == 1
    [first] = escalations(engine)
    add_mention(engine, acme, "same here, talking to my lawyer", conversation_id="42", author_reach=200_000,
                in_reply_to="acme")
    add_mention(engine, acme, "me too", conversation_id="42", p_negative=0.2)
    assert flag_escalations(engine, cfg, now=NOW + timedelta(minutes=1)) == 0
    [esc] = escalations(engine)
    assert esc.id == first.id and esc.conversation_key == "x:42"
    assert "legal: lawyer" in esc.reasons and "reach 200k" in esc.reasons
    assert esc.priority > first.priority and esc.severity >= first.severity and esc.version == 2
    assert esc.updated_at == NOW + timedelta(minutes=1)


def test_same_conversation_on_another_platform_is_separate(engine: Engine, acme: int) -> None:
    add_mention(engine, acme, "@acme refund now", conversation_id="42", platform="x")
    add_mention(engine, acme, "@acme refund now", conversation_id="42", platform="reddit")
    assert flag_escalations(engine, make_config(), now=NOW) == 2


def test_idempotent_and_only_new_scores_are_read(engine: Engine, acme: int) -> None:
    cfg = make_config()
    add_mention(engine, acme, "@acme outage again", conversation_id="9")
    assert flag_escalations(engine, cfg, now=NOW) == 1
    before = escalations(engine)
    assert flag_escalations(engine, cfg, now=NOW + timedelta(minutes=1)) == 0
    assert escalations(engine) == before
    add_mention(engine, acme, "@acme data breach?!", conversation_id="10")
    assert flag_escalations(engine, cfg, now=NOW + timedelta(minutes=2)) == 1


def test_per_brand_override(engine: Engine, acme: int) -> None:
    cfg = make_config(escalation={"overrides": {"acme": {"min_priority": 95,
                                                         "risk_phrases": {"safety": ["melted"]}}}})
    add_mention(engine, acme, "@acme charger melted", p_negative=0.05)  # a strong phrase of its own
    add_mention(engine, acme, "@acme your app is useless", p_negative=0.99)  # under this brand's bar
    flag_escalations(engine, cfg, now=NOW)
    [esc] = escalations(engine)
    assert esc.reasons[1] == "safety: melted"


def test_old_mentions_are_not_escalated(engine: Engine, acme: int) -> None:
    add_mention(engine, acme, "@acme refund", created_at=NOW - timedelta(days=10))
    assert flag_escalations(engine, make_config(), now=NOW) == 0


def test_resolved_escalation_reopens_when_the_conversation_flares(engine: Engine, acme: int) -> None:
    cfg = make_config()
    add_mention(engine, acme, "@acme refund", conversation_id="7")
    flag_escalations(engine, cfg, now=NOW)
    [esc] = escalations(engine)
    assert esc.id is not None
    transition(engine, esc.id, "resolved", by="sam", now=NOW + timedelta(hours=1))
    add_mention(engine, acme, "@acme chargeback filed", conversation_id="7")
    assert flag_escalations(engine, cfg, now=NOW + timedelta(hours=2)) == 0
    [esc] = escalations(engine)
    assert esc.status == "open" and "money: chargeback" in esc.reasons
    with session_scope(engine) as s:
        trail = [(e.actor, e.action) for e in s.exec(select(EscalationEvent).order_by(EscalationEvent.id))]
    assert trail == [("monitor", "flagged"), ("sam", "resolved"), ("monitor", "reopened")]


def test_escalation_stats_median_and_p90_and_dismissed_counted_once(engine: Engine, acme: int) -> None:
    for i in range(10):
        add_mention(engine, acme, "@acme refund", conversation_id=f"s{i}")
    flag_escalations(engine, make_config(), now=NOW)
    for i, esc in enumerate(escalations(engine)):
        assert esc.id is not None
        transition(engine, esc.id, "acknowledged", by="sam", now=NOW + timedelta(minutes=i + 1))
        if i < 5:
            transition(engine, esc.id, "resolved", by="sam", now=NOW + timedelta(hours=i + 1))
        elif i == 9:
            transition(engine, esc.id, "dismissed", by="sam", now=NOW + timedelta(hours=9))
    stats = escalation_stats(engine)
    assert stats.total == 10 and stats.by_status == {"open": 0, "acknowledged": 4, "resolved": 5, "dismissed": 1}
    assert stats.time_to_acknowledge_median == timedelta(minutes=5.5)
    assert stats.time_to_acknowledge_p90 == timedelta(minutes=9.1)
    assert stats.time_to_resolve_median == timedelta(hours=3)  # the dismissed one is not a resolution
    assert escalation_stats(engine, since=NOW + timedelta(days=1)).time_to_resolve_median is None


def test_an_angry_complaint_outranks_a_sad_one_of_the_same_negativity(engine: Engine, acme: int) -> None:
    add_mention(engine, acme, "@acme charged twice and your agent hung up on me", p_negative=0.9, p_anger=0.97,
                created_at=NOW - timedelta(minutes=10), conversation_id="c1")
    add_mention(engine, acme, "@acme my order never came, I was looking forward to it", p_negative=0.9, p_anger=0.02,
                created_at=NOW - timedelta(minutes=10), conversation_id="c2")
    flag_escalations(engine, make_config(), now=NOW)
    esc = by_text(engine)
    angry, sad = esc["@acme charged twice and your agent hung up on me"], esc[
        "@acme my order never came, I was looking forward to it"]
    assert angry.priority - sad.priority == 5  # 6 x 0.97 x 0.9 = 5.2 points of anger against 0.1
    assert "angry" in angry.reasons and "angry" not in sad.reasons
