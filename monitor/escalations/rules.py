"""Escalation rules: flag the negative mentions a person should answer, one per conversation.

A mention is escalated when the model is confident it is negative (``p_negative >=
min_negative_confidence``, and no person corrected it to something else) AND at least one
of: high author reach, high engagement, a risk term (whole word or phrase, any case), or it
is addressed to one of the brand's own handles. Each escalation keeps human-readable
reasons and a severity 1-4. Later replies in the same conversation update the existing
escalation; they never open a second one.

:func:`flag_escalations` only reads mentions scored since its last run (a watermark in the
``job_state`` table, with a small overlap), so it is cheap to run every minute and running
it twice changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from collectors.base import full_text
from monitor.config import BrandConfig, Config, EscalationConfig
from monitor.store import (
    Brand,
    Correction,
    Escalation,
    EscalationStatus,
    JobState,
    Label,
    Mention,
    MentionBrand,
    Sentiment,
    session_scope,
    utcnow,
)
from monitor.text import find_terms, fold, handle_name, handle_regex

JOB_NAME = "escalations"
WATERMARK_OVERLAP = timedelta(minutes=5)
"""Re-read this much before the watermark: a scoring transaction that committed late is not missed."""
MAX_REASONS = 12
STRONG_RISKS = frozenset({
    "lawsuit", "lawyer", "attorney", "sue", "suing", "legal action", "court", "unsafe", "dangerous",
    "injury", "injured", "fire", "recall", "poisoning", "data breach", "breach", "hacked", "leak",
    "leaked", "discrimination", "racist", "sexist", "harassment", "chargeback", "fraud",
})
"""Risk terms that add a severity level on their own (legal, safety, data, discrimination)."""
STRONG_RISK_MARGIN = 0.3
"""How far under ``min_negative_confidence`` a negative-labelled mention with a strong risk may be."""


@dataclass(frozen=True)
class Verdict:
    """Why one mention needs a human: its reasons and severity (1-4)."""

    reasons: list[str]
    severity: int


def risk_terms_in(text: str, terms: Iterable[str]) -> list[str]:
    """The configured risk terms found in ``text`` as whole words/phrases (``#lawsuit`` too), folded, in order."""
    return find_terms(text, terms)


def addressed_handle(text: str, in_reply_to: str | None, handles: Iterable[str]) -> str | None:
    """The brand handle the mention is addressed to (in its text or as reply target), or None."""
    folded = fold(text)
    for handle in handles:
        if re.search(handle_regex(handle), folded):
            return handle
        if in_reply_to and fold(in_reply_to.lstrip("@")) == handle_name(handle):
            return handle
    return None


def evaluate(
    mention: Mention, p_negative: float, rules: EscalationConfig, brand: BrandConfig | None,
    *, labelled_negative: bool = True,
) -> Verdict | None:
    """Apply the rules to one mention; returns a :class:`Verdict`, or None if it needs no human.

    A mention under ``min_negative_confidence`` still qualifies when negative is its label,
    it names a strong risk (legal, safety, data breach, discrimination) and ``p_negative`` is
    within ``STRONG_RISK_MARGIN`` of the bar: a hedged legal threat must not be missed.
    """
    if p_negative < rules.min_negative_confidence - STRONG_RISK_MARGIN:
        return None
    reasons: list[str] = []
    bonus = 0
    if rules.min_author_reach and mention.author_reach >= rules.min_author_reach:
        reasons.append(f"author reach {mention.author_reach:,} ≥ {rules.min_author_reach:,}")
        bonus += mention.author_reach >= 10 * rules.min_author_reach
    engagement = mention.engagement or (mention.likes + mention.replies + mention.reposts + mention.quotes)
    if rules.min_engagement and engagement >= rules.min_engagement:
        reasons.append(f"engagement {engagement:,} ≥ {rules.min_engagement:,}")
        bonus += engagement >= 10 * rules.min_engagement
    text = full_text(mention.title, mention.text)
    terms = risk_terms_in(text, rules.risk_terms)
    confident = p_negative >= rules.min_negative_confidence
    if not confident and not (labelled_negative and any(t in STRONG_RISKS for t in terms)):
        return None
    reasons.extend(f"risk term: {t}" for t in terms)
    bonus += any(t in STRONG_RISKS for t in terms)
    handle = addressed_handle(text, mention.in_reply_to, brand.handles if brand else [])
    if handle:
        reasons.append(f"addressed to {handle}")
    if not reasons:
        return None
    reasons.insert(0, f"negative {p_negative:.0%} ≥ {rules.min_negative_confidence:.0%}" if confident else
                   f"negative {p_negative:.0%} (under {rules.min_negative_confidence:.0%}; strong risk term)")
    return Verdict(reasons=reasons, severity=_severity(reasons, bonus))


def _kind(reason: str) -> str:
    return reason.split(":")[0] if ":" in reason else " ".join(reason.split()[:2])


def _severity(reasons: list[str], bonus: int) -> int:
    kinds = {_kind(r) for r in reasons if not r.startswith("negative ")}
    risk_count = sum(r.startswith("risk term:") for r in reasons)
    return max(1, min(4, len(kinds) + bonus + (risk_count >= 3)))


def conversation_key(mention: Mention) -> str:
    """``platform:conversation_id``, falling back to the mention's own native id."""
    return f"{mention.platform}:{mention.conversation_id or mention.native_id}"


def _merge(esc: Escalation, verdict: Verdict, now: datetime) -> bool:
    reasons = list(esc.reasons)
    for r in verdict.reasons:
        if r not in reasons and len(reasons) < MAX_REASONS:
            reasons.append(r)
    severity = max(esc.severity, verdict.severity)
    if reasons == esc.reasons and severity == esc.severity:
        return False
    esc.reasons = reasons
    esc.severity = severity
    esc.updated_at = now
    if esc.status == EscalationStatus.resolved:
        esc.status = EscalationStatus.open
        esc.resolved_at = None
    return True


def flag_escalations(engine: Engine, config: Config, *, now: datetime | None = None) -> int:
    """Escalate the mentions scored since the last run; returns how many new escalations it opened.

    Idempotent: a mention already seen only re-merges the same reasons. A resolved escalation
    whose conversation gets a new qualifying reply is reopened; a dismissed one only gains the
    reasons. Raises SQLAlchemy errors from the database unchanged (the watermark does not move).
    """
    now = now or utcnow()
    brands_cfg = {b.name.lower(): b for b in config.brands}
    created = 0
    with session_scope(engine) as session:
        state = session.get(JobState, JOB_NAME) or JobState(name=JOB_NAME)
        brands = {b.id: b for b in session.exec(select(Brand)).all()}
        oldest = now - config.escalation.max_mention_age
        label = Correction.label
        query = (
            select(Mention, MentionBrand.brand_id, Sentiment.p_negative, Sentiment.scored_at, label,
                   Sentiment.label)
            .join(MentionBrand, col(MentionBrand.mention_id) == col(Mention.id))
            .join(Sentiment, col(Sentiment.mention_id) == col(Mention.id))
            .outerjoin(Correction, col(Correction.mention_id) == col(Mention.id))
            .where(col(Mention.created_at) >= oldest)
            .where(col(Sentiment.p_negative) >= _lowest_threshold(config))
            .order_by(col(Sentiment.scored_at), col(Mention.id))
        )
        if state.watermark is not None:
            query = query.where(col(Sentiment.scored_at) > state.watermark - WATERMARK_OVERLAP)
        watermark = state.watermark
        pending: dict[tuple[int, str], Escalation] = {}
        for mention, brand_id, p_neg, scored_at, corrected, model_label in session.exec(query).all():
            watermark = max(watermark or scored_at, scored_at)
            if corrected is not None and corrected != Label.negative:
                continue
            brand = brands.get(brand_id)
            brand_cfg = brands_cfg.get(brand.name.lower()) if brand else None
            rules = config.escalation.for_brand(brand.name) if brand else config.escalation
            verdict = evaluate(mention, 1.0 if corrected == Label.negative else p_neg, rules, brand_cfg,
                               labelled_negative=model_label == Label.negative)
            if verdict is None:
                continue
            key = (brand_id, conversation_key(mention))
            esc = pending.get(key) or _existing(session, *key)
            if esc is None:
                assert mention.id is not None
                esc = Escalation(mention_id=mention.id, brand_id=brand_id, conversation_key=key[1],
                                 reasons=verdict.reasons, severity=verdict.severity,
                                 created_at=now, updated_at=now)
                created += 1
            elif not _merge(esc, verdict, now):
                continue
            pending[key] = esc
            session.add(esc)
        state.watermark = watermark
        state.updated_at = now
        session.add(state)
    return created


def _lowest_threshold(config: Config) -> float:
    values = [config.escalation.min_negative_confidence]
    values += [o.min_negative_confidence for o in config.escalation.overrides.values()
               if o.min_negative_confidence is not None]
    return min(values) - STRONG_RISK_MARGIN


def _existing(session: Session, brand_id: int, key: str) -> Escalation | None:
    return session.exec(
        select(Escalation).where(Escalation.brand_id == brand_id, Escalation.conversation_key == key)
    ).first()
