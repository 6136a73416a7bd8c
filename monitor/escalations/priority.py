"""The priority of a mention that may need a person: one number, 0-100, documented here and only here.

It is the sum of these parts (rounded, then clipped to 0-100):

=============  ======  ==========================================================================
part           points  from
=============  ======  ==========================================================================
negativity     0-40    40 x the model's ``p_negative``; in a mention addressed to the brand, a
                       strong risk phrase that is not excused counts as at least 0.9 (sarcasm
                       cannot hide it: see ``risk.py``)
risk           0-40    the heaviest category found: legal, safety, data breach 30; discrimination
                       25; outage or service failure, money 15; churn 12. A strong phrase counts
                       in full, a weak term half, times ``p_negative``; a weak term (or excused
                       phrase) that is negated or reported fixed counts nothing ("never had a
                       single outage", "you sorted my bill out"). Each further category adds 5.
anger          0-6     6 x the emotion head's ``p_anger`` x the negativity above: a furious
                       complaint outranks a sad or resigned one of the same negativity; anger
                       in a mention that is not negative counts for little (0 without an
                       emotion head)
addressed      10      written to one of the brand's handles, or a reply to one
reach          0-10    followers on a log scale: 100 -> 0, 10,000 -> 5, 1,000,000 -> 10
engagement     0-8     likes + replies + reposts + quotes, log scale: 0 -> 0, 1,000 -> 8
velocity       0-4     engagement per hour since posted, log scale: 100/h -> 4
repeat         0-8     the author's earlier mentions of the brand in ``repeat_window``: 3 -> 8
age            -15-0   how old the post was when it was judged: under an hour 0, two days -15
=============  ======  ==========================================================================

Every part moves smoothly with its input, so there is no cliff on any one signal: a
``p_negative`` of 0.744 and one of 0.75 differ by a quarter of a point. A mention is escalated
when its priority reaches ``escalation.min_priority`` (or by a strong risk phrase addressed
to the brand, ``rules.py``). The severity tier is a cut of the priority
(``escalation.tiers``): 4 urgent, 3 high, 2 medium, 1 low; the defaults were chosen so that
the urgent tier is about 5% of the queue (``monitor escalation-lab`` measures it). The queue
sorts by priority, then by the customer's post, oldest first.

The weights are a judgement, written down so a team can argue with them: the three risks
that can become a legal, safety or privacy incident outweigh the rest; reach and engagement
decide how many people see a complaint; a customer writing for the third time is waiting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta

from monitor.escalations.risk import CATEGORY_WORDS, RiskHit

NEGATIVITY_POINTS = 40.0
STRONG_RISK_CONCERN = 0.9
"""The ``p_negative`` an unexcused strong risk phrase counts as, at least."""
RISK_WEIGHTS = {"legal": 30.0, "safety": 30.0, "data_breach": 30.0, "discrimination": 25.0,
                "outage": 15.0, "money": 15.0, "churn": 12.0}
WEAK_RISK_SHARE = 0.5
EXTRA_CATEGORY_POINTS = 5.0
RISK_CAP = 40.0
ANGER_POINTS = 6.0
ANGRY = 0.5
"""The ``p_anger`` from which "angry" is among the reasons (when the anger part is at least 2.5 points)."""
ADDRESSED_POINTS = 10.0
REACH_POINTS, REACH_FLOOR, REACH_DECADES = 10.0, 2.0, 4.0
ENGAGEMENT_POINTS, ENGAGEMENT_DECADES = 8.0, 3.0
VELOCITY_POINTS, VELOCITY_DECADES = 4.0, 2.0
REPEAT_POINTS, REPEAT_FULL = 8.0, 3
AGE_POINTS, AGE_GRACE, AGE_FULL = 15.0, timedelta(hours=1), timedelta(hours=48)
TIER_NAMES = {4: "urgent", 3: "high", 2: "medium", 1: "low"}


@dataclass(frozen=True)
class Signals:
    """What the priority is computed from, for one mention and one brand."""

    p_negative: float
    risks: tuple[RiskHit, ...] = ()
    excused: frozenset[str] = frozenset()
    """Strong phrases excused (negated, and the model confidently positive): they count as weak."""
    addressed: bool = False
    author_reach: int = 0
    engagement: int = 0
    age: timedelta = timedelta(0)
    """How old the customer's post was when it was judged."""
    prior_contacts: int = 0
    p_anger: float = 0.0
    """The emotion head's probability of anger (0 when the model has no emotion head)."""


@dataclass(frozen=True)
class Priority:
    """The score, its parts in points, and the reasons a person reads (short words, biggest first)."""

    score: int
    parts: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)


def _clip(x: float) -> float:
    return min(1.0, max(0.0, x))


def _log_scale(value: float, floor: float, decades: float) -> float:
    """0 at 10**floor or below, 1 at 10**(floor + decades), linear in log10 between."""
    return _clip((math.log10(value) - floor) / decades) if value > 0 else 0.0


def strong_hits(signals: Signals) -> list[RiskHit]:
    """The strong risk phrases that count (not excused)."""
    return [h for h in signals.risks if h.strong and h.phrase not in signals.excused]


def _risk_points(signals: Signals) -> tuple[float, list[str]]:
    best: dict[str, float] = {}
    words: dict[str, str] = {}
    for hit in signals.risks:
        full = hit.strong and hit.phrase not in signals.excused
        if not full and hit.moot:
            continue  # "never had a single outage", "you sorted my bill out": named to say it is no risk
        points = RISK_WEIGHTS[hit.category] * (1.0 if full else WEAK_RISK_SHARE * signals.p_negative)
        if points > best.get(hit.category, -1.0):
            best[hit.category] = points
            words[hit.category] = hit.phrase
    if not best:
        return 0.0, []
    ranked = sorted(best, key=best.__getitem__, reverse=True)
    total = min(RISK_CAP, best[ranked[0]] + EXTRA_CATEGORY_POINTS * (len(ranked) - 1))
    return total, [f"{CATEGORY_WORDS[c]}: {words[c]}" for c in ranked]


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _short(n: int) -> str:
    for size, unit in ((1_000_000, "M"), (1_000, "k")):
        if n >= size:
            return f"{n / size:.1f}".rstrip("0").rstrip(".") + unit
    return str(n)


def compute(signals: Signals) -> Priority:
    """The :class:`Priority` of ``signals`` (see the module docstring for every part)."""
    concern = signals.p_negative
    strong = strong_hits(signals)
    if strong and signals.addressed:
        concern = max(concern, STRONG_RISK_CONCERN)
    hours = max(signals.age.total_seconds() / 3600, 0.0)
    risk, risk_words = _risk_points(signals)
    parts = {
        "negativity": NEGATIVITY_POINTS * _clip(concern),
        "risk": risk,
        "anger": ANGER_POINTS * _clip(signals.p_anger) * _clip(concern),
        "addressed": ADDRESSED_POINTS if signals.addressed else 0.0,
        "reach": REACH_POINTS * _log_scale(signals.author_reach, REACH_FLOOR, REACH_DECADES),
        "engagement": ENGAGEMENT_POINTS * _log_scale(1 + signals.engagement, 0.0, ENGAGEMENT_DECADES),
        "velocity": VELOCITY_POINTS * _log_scale(1 + signals.engagement / max(hours, 0.25), 0.0,
                                                 VELOCITY_DECADES),
        "repeat": REPEAT_POINTS * _clip(signals.prior_contacts / REPEAT_FULL),
        "age": -AGE_POINTS * _clip((signals.age - AGE_GRACE) / (AGE_FULL - AGE_GRACE)),
    }
    score = int(min(100, max(0, round(sum(parts.values())))))
    reasons = [f"negative {signals.p_negative:.0%}" + (" (tone reads positive)" if strong and signals.addressed
                                                      and signals.p_negative < 0.5 else "")]
    reasons += risk_words
    if signals.p_anger >= ANGRY and parts["anger"] >= 2.5:
        reasons.append("angry")
    if signals.prior_contacts:
        reasons.append(f"{_ordinal(signals.prior_contacts + 1)} contact")
    if parts["reach"] >= 2.5:
        reasons.append(f"reach {_short(signals.author_reach)}")
    if parts["engagement"] >= 2.5:
        reasons.append(f"engagement {_short(signals.engagement)}")
    if parts["age"] <= -3:
        reasons.append(f"found {hours:.0f}h late")
    return Priority(score=score, parts=parts, reasons=reasons)


def tier(score: int, urgent: int, high: int, medium: int) -> int:
    """The severity tier of a priority: 4 at ``urgent`` and above, 3 at ``high``, 2 at ``medium``, else 1."""
    return 4 if score >= urgent else 3 if score >= high else 2 if score >= medium else 1
