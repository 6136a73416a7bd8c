"""Escalation rules: flag the mentions a person should answer, one per conversation, with a priority.

A mention is escalated for a brand when either

- its **priority** (``priority.py``: negativity, risk, addressed to the brand, reach,
  engagement and its velocity, repeated contact, age) reaches ``escalation.min_priority``; or
- it is **addressed to the brand** and names a **strong risk phrase** (``risk.py``), unless
  the phrase is negated *and* the model is confidently positive (``p_positive >=
  escalation.confident_positive``) or the words are kind (a fix reported, or praise). Sarcasm
  reads as praise to the model, so the tone alone never excuses "thank you for leaving my grandma
  stranded" (its phrase is not negated). A mention that **reads like** one of
  a category's example complaints (``semantic.py``, ``escalation.semantic``), in wording no list
  holds, counts as a weak term of that category, and as a strong phrase when praise frames it.

A person's correction wins: corrected to negative counts as ``p_negative`` 1; corrected to
anything else is never escalated. Each escalation keeps short reasons, its priority and its
severity tier. Later replies in the same conversation update the escalation (reasons are
added, the priority only rises); they never open a second one, and they reopen a resolved one.

:func:`flag_escalations` only reads mentions scored since its last run (a watermark in the
``job_state`` table, with a small overlap), so it is cheap to run every minute and running
it twice changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from collectors.base import full_text
from monitor.config import BrandConfig, Config, EscalationConfig
from monitor.escalations.priority import REPEAT_POINTS, Priority, Signals, compute, strong_hits, tier
from monitor.escalations.risk import RiskHit, find_risks, praise_frame, praised, says_resolved
from monitor.escalations.semantic import Resemblance, RiskExamples, risk_examples
from monitor.store import (
    UNSUPPORTED,
    Brand,
    Correction,
    Escalation,
    EscalationEvent,
    EscalationStatus,
    JobState,
    Label,
    Mention,
    MentionBrand,
    Sentiment,
    session_scope,
    utcnow,
)
from monitor.text import fold, handle_name, handle_regex

JOB_NAME = "escalations"
RULES_ACTOR = "monitor"
"""Who the audit trail names when the rules open, raise or reopen an escalation."""
WATERMARK_OVERLAP = timedelta(minutes=5)
"""Re-read this much before the watermark: a scoring transaction that committed late is not missed."""
MAX_REASONS = 12


@dataclass(frozen=True)
class Verdict:
    """Why one mention needs a human: short reasons, the priority (0-100) and its severity tier (1-4)."""

    reasons: list[str]
    priority: int
    severity: int


def addressed_handle(text: str, in_reply_to: str | None, handles: Iterable[str]) -> str | None:
    """The brand handle the mention is addressed to (in its text or as reply target), or None."""
    folded = fold(text)
    for handle in handles:
        if re.search(handle_regex(handle), folded):
            return handle
        if in_reply_to and fold(in_reply_to.lstrip("@")) == handle_name(handle):
            return handle
    return None


def excused(risks: Iterable[RiskHit], p_positive: float, rules: EscalationConfig, *, kind: bool = False,
            ) -> frozenset[str]:
    """The strong phrases that do not count: negated, in a mention the model reads as confidently positive
    or whose words are kind (``kind``: it says the problem was dealt with, "not cancelling after all, you
    sorted it out", or praises, "I would never sue you, thanks for the help")."""
    if p_positive < rules.confident_positive and not kind:
        return frozenset()
    return frozenset(h.phrase for h in risks if h.strong and h.negated)


def resembles(hit: Resemblance, sarcastic: bool, close: bool = False) -> RiskHit:
    """A risk found by resemblance ("like 'I was overcharged'"): weak, as a listed weak term is, and
    strong when praise frames it (sarcasm, the case the model's tone gets wrong) or it is ``close``
    to its example (a plainly worded complaint the model reads as neutral)."""
    return RiskHit(hit.category, f"like '{hit.example}'", strong=sarcastic or close, negated=False,
                   sarcastic=sarcastic)


def signals_for(mention: Mention, p_negative: float, p_positive: float, rules: EscalationConfig,
                brand: BrandConfig | None, *, now: datetime, prior_contacts: int = 0,
                p_anger: float | None = None, examples: RiskExamples | None = None) -> tuple[Signals, str | None]:
    """The :class:`Signals` of one mention for one brand, and the handle it is addressed to (or None).

    With ``examples``, a mention addressed to the brand that names no strong risk phrase is also
    compared with the example complaints; one it resembles adds a hit of that category, weak (it
    raises the priority with the negativity: "is the app down?" resembles an outage too) unless
    praise frames it, which is sarcasm and strong.
    """
    text = full_text(mention.title, mention.text)
    praise = p_positive >= rules.sarcasm_tone  # the model reads the text as praise
    risks = tuple(find_risks(text, rules.risk_phrases, rules.risk_terms, praise=praise))
    handle = addressed_handle(text, mention.in_reply_to, brand.handles if brand else [])
    if examples is not None and handle is not None and not any(h.strong for h in risks):
        # praise around a risk the customer says did not happen or was fixed ("no delay at all today,
        # smooth flight") is no sarcasm, as for the lists' weak terms
        moot = any(h.moot for h in risks)
        framed = praise_frame(text, praise) and not moot
        hit = examples.match(text, framed=framed)
        if hit is not None:
            # close to an example, a plainly worded text is the complaint whatever the model reads in its tone,
            # unless it says the problem is over; a praising one is sarcasm (framed, above) or gratitude
            close = (examples.close(hit) and not moot and not says_resolved(text)
                     and not praised(text, praise))
            risks = (*risks, resembles(hit, framed, close))
    engagement = mention.engagement or (mention.likes + mention.replies + mention.reposts + mention.quotes)
    kind = any(h.strong and h.negated for h in risks) and (
        says_resolved(text) or praised(text, praise))
    signals = Signals(p_negative=p_negative, risks=risks, excused=excused(risks, p_positive, rules, kind=kind),
                      addressed=handle is not None, author_reach=mention.author_reach, engagement=engagement,
                      age=max(now - mention.created_at, timedelta(0)), prior_contacts=prior_contacts,
                      p_anger=p_anger or 0.0)
    return signals, handle


def judge(signals: Signals, handle: str | None, rules: EscalationConfig) -> Verdict | None:
    """The :class:`Verdict` for these signals, or None when the mention needs no person."""
    priority: Priority = compute(signals)
    forced = handle is not None and bool(strong_hits(signals))
    if priority.score < rules.min_priority and not forced:
        return None
    reasons = list(priority.reasons)
    if handle:
        reasons.append(f"to {handle}")
    cuts = rules.tiers
    return Verdict(reasons=reasons[:MAX_REASONS], priority=priority.score,
                   severity=tier(priority.score, cuts.urgent, cuts.high, cuts.medium))


def evaluate(mention: Mention, p_negative: float, rules: EscalationConfig, brand: BrandConfig | None, *,
             p_positive: float = 0.0, now: datetime | None = None, prior_contacts: int = 0,
             p_anger: float | None = None, examples: RiskExamples | None = None) -> Verdict | None:
    """Apply the rules to one mention; returns a :class:`Verdict`, or None if it needs no human.

    ``now`` (default: the mention's own time) sets the post's age; ``prior_contacts`` is how
    many earlier mentions of the brand its author wrote within ``repeat_window``.
    """
    signals, handle = signals_for(mention, p_negative, p_positive, rules, brand,
                                  now=now or mention.created_at, prior_contacts=prior_contacts, p_anger=p_anger,
                                  examples=examples)
    return judge(signals, handle, rules)


def conversation_key(mention: Mention) -> str:
    """``platform:conversation_id``, falling back to the mention's own native id."""
    return f"{mention.platform}:{mention.conversation_id or mention.native_id}"


def prior_contacts(session: Session, mention: Mention, brand_id: int, window: timedelta) -> int:
    """How many mentions of the brand the same author (same platform) wrote in ``window`` before this one."""
    if not mention.author:
        return 0
    stmt = (select(func.count()).select_from(Mention)
            .join(MentionBrand, col(MentionBrand.mention_id) == col(Mention.id))
            .where(Mention.platform == mention.platform, Mention.author == mention.author,
                   MentionBrand.brand_id == brand_id, col(Mention.created_at) >= mention.created_at - window,
                   col(Mention.created_at) < mention.created_at, col(Mention.id) != mention.id))
    return int(session.exec(stmt).one())


def _merge(session: Session, esc: Escalation, verdict: Verdict, rules: EscalationConfig, now: datetime) -> bool:
    """Fold a later reply's verdict into ``esc``; returns whether anything changed (and records it)."""
    reasons = list(esc.reasons)
    for r in verdict.reasons:
        if r not in reasons and len(reasons) < MAX_REASONS:
            reasons.append(r)
    priority = max(esc.priority, verdict.priority)
    if reasons == esc.reasons and priority == esc.priority:
        return False
    cuts = rules.tiers
    esc.reasons, esc.priority = reasons, priority
    esc.severity = max(esc.severity, tier(priority, cuts.urgent, cuts.high, cuts.medium))
    esc.updated_at, esc.updated_by = now, RULES_ACTOR
    esc.version += 1
    action = "updated"
    before = esc.status
    if esc.status == EscalationStatus.resolved:
        esc.status, esc.resolved_at, action = EscalationStatus.open, None, "reopened"
    session.add(EscalationEvent(escalation_id=esc.id, at=now, actor=RULES_ACTOR, action=action,
                                from_status=before, to_status=esc.status,
                                detail=f"new reply; priority {priority}"))
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
        query = (
            select(Mention, MentionBrand.brand_id, Sentiment.p_negative, Sentiment.p_positive, Sentiment.scored_at,
                   Correction.label, Sentiment.label, Sentiment.p_anger)
            .join(MentionBrand, col(MentionBrand.mention_id) == col(Mention.id))
            .join(Sentiment, col(Sentiment.mention_id) == col(Mention.id))
            .outerjoin(Correction, col(Correction.mention_id) == col(Mention.id))
            .where(col(Mention.created_at) >= now - config.escalation.max_mention_age)
            .order_by(col(Sentiment.scored_at), col(Mention.id))
        )
        if state.watermark is not None:
            query = query.where(col(Sentiment.scored_at) > state.watermark - WATERMARK_OVERLAP)
        watermark = state.watermark
        pending: dict[tuple[int, str], Escalation] = {}
        rules_of: dict[int, EscalationConfig] = {}
        rows = session.exec(query).all()
        examples = risk_examples(config.escalation.semantic)
        if examples is not None:  # one batch for every addressed text, instead of one model call each
            examples.nearest(_addressed_texts(rows, brands, brands_cfg))
        for mention, brand_id, p_neg, p_pos, scored_at, corrected, model_label, p_anger in rows:
            watermark = max(watermark or scored_at, scored_at)
            if _passed_over(corrected, model_label):
                continue
            if corrected == Label.negative:
                p_neg, p_pos = 1.0, 0.0
            brand = brands.get(brand_id)
            if brand_id not in rules_of:
                rules_of[brand_id] = config.escalation.for_brand(brand.name) if brand else config.escalation
            rules = rules_of[brand_id]
            brand_cfg = brands_cfg.get(brand.name.lower()) if brand else None
            verdict = _verdict(session, mention, brand_id, p_neg, p_pos, rules, brand_cfg, now, p_anger, examples)
            if verdict is None:
                continue
            key = (brand_id, conversation_key(mention))
            esc = pending.get(key) or _existing(session, *key)
            if esc is None:
                assert mention.id is not None
                esc = Escalation(mention_id=mention.id, brand_id=brand_id, conversation_key=key[1],
                                 reasons=verdict.reasons, priority=verdict.priority, severity=verdict.severity,
                                 created_at=now, updated_at=now, updated_by=RULES_ACTOR)
                session.add(esc)
                session.flush()
                session.add(EscalationEvent(escalation_id=esc.id, at=now, actor=RULES_ACTOR, action="flagged",
                                            to_status=esc.status, detail=f"priority {verdict.priority}"))
                created += 1
            elif not _merge(session, esc, verdict, rules, now):
                continue
            pending[key] = esc
            session.add(esc)
        state.watermark = watermark
        state.updated_at = now
        session.add(state)
    return created


def _passed_over(corrected: Label | None, model_label: str | None) -> bool:
    """Whether the rules never judge this mention: a person corrected it to other than negative, or no
    model covers its language (no sentiment to act on; a person may still correct it)."""
    if corrected is not None:
        return corrected != Label.negative
    return model_label == UNSUPPORTED


def _addressed_texts(rows: Iterable[tuple], brands: dict[int, Brand],  # type: ignore[type-arg]
                     brands_cfg: dict[str, BrandConfig]) -> list[str]:
    """The texts of the rows addressed to their brand's handle (the ones compared with the examples)."""
    texts = []
    for row in rows:
        if _passed_over(corrected=row[5], model_label=row[6]):
            continue
        mention, brand = row[0], brands.get(row[1])
        cfg = brands_cfg.get(brand.name.lower()) if brand else None
        text = full_text(mention.title, mention.text)
        if cfg is not None and addressed_handle(text, mention.in_reply_to, cfg.handles) is not None:
            texts.append(text)
    return texts


def _verdict(session: Session, mention: Mention, brand_id: int, p_neg: float, p_pos: float,
             rules: EscalationConfig, brand: BrandConfig | None, now: datetime,
             p_anger: float | None = None, examples: RiskExamples | None = None) -> Verdict | None:
    """Judge one mention; the author's earlier contacts are counted only when they could change the outcome."""
    signals, handle = signals_for(mention, p_neg, p_pos, rules, brand, now=now, p_anger=p_anger,
                                  examples=examples)
    first = compute(signals)
    forced = handle is not None and bool(strong_hits(signals))
    if first.score + REPEAT_POINTS < rules.min_priority and not forced:
        return None
    contacts = prior_contacts(session, mention, brand_id, rules.repeat_window)
    if contacts:
        signals, handle = signals_for(mention, p_neg, p_pos, rules, brand, now=now, prior_contacts=contacts,
                                      p_anger=p_anger, examples=examples)
    return judge(signals, handle, rules)


def _existing(session: Session, brand_id: int, key: str) -> Escalation | None:
    return session.exec(
        select(Escalation).where(Escalation.brand_id == brand_id, Escalation.conversation_key == key)
    ).first()
