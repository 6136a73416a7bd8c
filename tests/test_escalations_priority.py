"""The priority: each part as documented, smooth in every signal, and its severity tiers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.config import ConfigError, parse_config
from monitor.escalations.priority import Signals, compute, tier
from monitor.escalations.risk import RiskHit

LEGAL = RiskHit("legal", "sue you", strong=True, negated=False)
REFUND = RiskHit("money", "refund", strong=False, negated=False)


def score(**kw: object) -> int:
    return compute(Signals(**{"p_negative": 0.9, **kw})).score  # type: ignore[arg-type]


def test_parts_add_up_as_documented() -> None:
    p = compute(Signals(p_negative=0.5, risks=(LEGAL,), addressed=True, author_reach=10_000, engagement=999,
                        age=timedelta(minutes=30), prior_contacts=3))
    assert p.parts["negativity"] == pytest.approx(36)  # a strong phrase to the brand counts as 0.9
    assert p.parts["risk"] == 30 and p.parts["addressed"] == 10 and p.parts["repeat"] == 8
    assert p.parts["reach"] == pytest.approx(5) and p.parts["engagement"] == pytest.approx(8)
    assert p.parts["velocity"] == pytest.approx(4) and p.parts["age"] == 0
    assert p.score == 100  # clipped
    assert p.reasons == ["negative 50%", "legal: sue you", "4th contact", "reach 10k", "engagement 999"]


def test_no_cliffs_a_small_change_in_any_signal_moves_the_score_a_little() -> None:
    assert abs(score(p_negative=0.744, risks=(REFUND,)) - score(p_negative=0.75, risks=(REFUND,))) <= 1
    assert abs(score(author_reach=9_900) - score(author_reach=10_100)) <= 1
    assert abs(score(engagement=49) - score(engagement=51)) <= 1
    assert abs(score(age=timedelta(hours=10)) - score(age=timedelta(hours=10, minutes=30))) <= 1


@pytest.mark.parametrize(("signal", "low", "high"), [
    ("p_negative", 0.6, 0.95),
    ("author_reach", 200, 200_000),
    ("engagement", 3, 3_000),
    ("prior_contacts", 0, 2),
    ("p_anger", 0.1, 0.9),
])
def test_more_of_a_signal_never_lowers_the_priority(signal: str, low: object, high: object) -> None:
    assert score(**{signal: high}) > score(**{signal: low})


def test_risk_weights_and_categories() -> None:
    breach = RiskHit("data_breach", "data breach", True, False)
    churn = RiskHit("churn", "never again", True, False)
    assert score(risks=(breach,)) > score(risks=(churn,)) > score()
    assert score(risks=(breach, churn)) == score(risks=(breach,)) + 5  # a further category adds 5
    assert score(risks=(REFUND,), p_negative=0.9) - score(p_negative=0.9) == 7  # weak: half of 15, times .9


def test_an_excused_phrase_counts_as_weak_and_sarcasm_needs_the_brand_addressed() -> None:
    excused = compute(Signals(p_negative=0.05, risks=(LEGAL,), excused=frozenset({"sue you"}), addressed=True))
    assert excused.parts["negativity"] == pytest.approx(2) and excused.parts["risk"] == pytest.approx(0.75)
    unaddressed = compute(Signals(p_negative=0.05, risks=(LEGAL,)))
    assert unaddressed.parts["negativity"] == pytest.approx(2)
    assert "tone reads positive" in compute(Signals(p_negative=0.05, risks=(LEGAL,), addressed=True)).reasons[0]


def test_a_negated_or_resolved_weak_term_adds_no_risk() -> None:
    outage = RiskHit("outage", "delay", strong=False, negated=False)
    assert compute(Signals(p_negative=0.8, risks=(outage,))).parts["risk"] > 0
    for moot in (RiskHit("outage", "delay", strong=False, negated=True),
                 RiskHit("outage", "delay", strong=False, negated=False, resolved=True)):
        p = compute(Signals(p_negative=0.8, risks=(moot,)))
        assert p.parts["risk"] == 0 and not any("delay" in r for r in p.reasons)


def test_a_post_found_late_loses_up_to_15_points() -> None:
    assert score(age=timedelta(minutes=50)) == score()
    assert score() - score(age=timedelta(hours=48)) == 15
    assert score(age=timedelta(days=5)) == score(age=timedelta(hours=48))


def test_tiers_are_cuts_of_the_priority_and_must_rise() -> None:
    assert [tier(p, 78, 62, 54) for p in (100, 78, 77, 62, 54, 53, 0)] == [4, 4, 3, 3, 2, 1, 1]
    with pytest.raises(ConfigError, match=r"escalation\.tiers: must rise: medium < high < urgent"):
        parse_config({"brands": [{"name": "A", "keywords": ["a"]}],
                      "escalation": {"tiers": {"urgent": 50, "high": 60, "medium": 40}}})


def test_the_retired_settings_say_what_replaced_them() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"brands": [{"name": "A", "keywords": ["a"]}],
                      "escalation": {"min_negative_confidence": 0.75, "overrides": {"a": {"min_engagement": 5}}}})
    assert "escalation: min_negative_confidence: replaced by min_priority" in err.value.problems[0]


def test_anger_weighs_in_a_negative_mention_and_little_in_another() -> None:
    furious = compute(Signals(p_negative=0.9, p_anger=0.95))
    resigned = compute(Signals(p_negative=0.9, p_anger=0.05))
    assert furious.parts["anger"] == pytest.approx(6 * 0.95 * 0.9)
    assert furious.score - resigned.score == round(furious.parts["anger"]) - round(resigned.parts["anger"])
    assert "angry" in furious.reasons and "angry" not in resigned.reasons
    assert compute(Signals(p_negative=0.1, p_anger=0.95)).parts["anger"] < 0.6  # anger at someone else
    assert compute(Signals(p_negative=0.9)).parts["anger"] == 0  # a model without an emotion head
