"""Measure an escalation queue: how trustworthy and how workable it is, for today's rules and the old ones.

:func:`measure_queue` takes mentions with their gold truth and the model's scores, replays them
hour by hour through ingest and :func:`monitor.escalations.flag_escalations` on a temporary
SQLite file, and returns :class:`QueueFigures`: the queue's precision (the share of escalations
whose mention is truly negative or a planted risk complaint), the share of planted risk
complaints escalated (sarcastic ones apart), planted traps escalated, the size of the top tier
and the queue per day. The same scored rows are also judged by :func:`legacy_verdict`, the
rule before priorities (frozen here for comparison only), so before and after come from the
same data in the same run. The storm-detection suite can call it with its own mentions.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert
from sqlmodel import SQLModel, col, select

from collectors.base import full_text
from monitor.config import Config
from monitor.escalations import flag_escalations
from monitor.escalations.rules import JOB_NAME, addressed_handle
from monitor.ingest import ingest_mentions
from monitor.lab.escalation_data import Gold, LabMention
from monitor.store import (
    Brand,
    Escalation,
    EscalationEvent,
    JobState,
    Mention,
    MentionBrand,
    Sentiment,
    make_engine,
    session_scope,
    to_db,
)
from monitor.text import find_terms

LEGACY_RISK_TERMS = (
    "lawsuit", "lawyer", "attorney", "sue", "suing", "legal action", "court", "unsafe", "dangerous", "injury",
    "injured", "fire", "recall", "poisoning", "outage", "down", "not working", "broken", "data breach", "breach",
    "hacked", "leak", "leaked", "refund", "chargeback", "scam", "fraud", "cancel", "cancelling", "canceling",
    "cancelled", "unsubscribe", "discrimination", "racist", "sexist", "harassment",
)
LEGACY_STRONG = frozenset({
    "lawsuit", "lawyer", "attorney", "sue", "suing", "legal action", "court", "unsafe", "dangerous", "injury",
    "injured", "fire", "recall", "poisoning", "data breach", "breach", "hacked", "leak", "leaked",
    "discrimination", "racist", "sexist", "harassment", "chargeback", "fraud",
})


@dataclass(frozen=True)
class Score:
    """The model's probabilities for one text (what ``Scorer.score`` returns, reduced to plain numbers)."""

    label: str
    p_negative: float
    p_neutral: float
    p_positive: float
    p_anger: float | None = None


@dataclass
class QueueFigures:
    """How one rule's queue looks on one set of mentions."""

    rule: str
    mentions: int
    days: float
    escalated: int = 0
    per_day: float = 0.0
    precision: float | None = None
    real_escalated: int = 0
    real_precision: float | None = None
    negatives_caught: float | None = None
    """Share of the real, truly negative mentions that were escalated."""
    planted: int = 0
    planted_caught: int = 0
    coverage: float | None = None
    sarcastic: int = 0
    sarcastic_caught: int = 0
    controls: int = 0
    controls_escalated: int = 0
    top_tier: int = 0
    top_tier_share: float | None = None
    tiers: dict[int, int] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)
    """The planted risk complaints left out, for reading (the tuning part only: see ``missed_kinds``)."""
    missed_kinds: dict[str, int] = field(default_factory=dict)
    """How many planted risk complaints were left out per ``category kind`` (all the report part shows)."""
    priorities: list[int] = field(default_factory=list)
    """Every escalation's priority, sorted (empty for the old rule, which had none)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def legacy_verdict(text: str, p_negative: float, label: str, reach: int, engagement: int,
                   in_reply_to: str | None, handles: Sequence[str]) -> int | None:
    """The rule before priorities, as it was: its severity (1-4), or None when it did not escalate.

    Kept only to report before and after on the same data: ``p_negative >= 0.75`` and one of
    reach >= 10,000, engagement >= 50, a risk term, or addressed to the brand; a negative-labelled
    mention with a strong risk term down to 0.45.
    """
    if p_negative < 0.45:
        return None
    kinds: set[str] = set()
    bonus = 0
    if reach >= 10_000:
        kinds.add("reach")
        bonus += reach >= 100_000
    if engagement >= 50:
        kinds.add("engagement")
        bonus += engagement >= 500
    terms = find_terms(text, LEGACY_RISK_TERMS)
    strong = any(t in LEGACY_STRONG for t in terms)
    if p_negative < 0.75 and not (label == "negative" and strong):
        return None
    if terms:
        kinds.add("risk")
    bonus += strong
    if addressed_handle(text, in_reply_to, handles):
        kinds.add("addressed")
    if not kinds:
        return None
    return max(1, min(4, len(kinds) + bonus + (len(terms) >= 3)))


class Replay:
    """The mentions stored and scored once in a temporary SQLite file, ready to be judged by several rules."""

    def __init__(self, mentions: Sequence[LabMention], scores: Mapping[str, Score], config: Config,
                 folder: Path) -> None:
        self.config = config
        self.gold: dict[int, Gold] = {}
        self.engine = make_engine(f"sqlite:///{folder / 'escalation-lab.db'}")
        SQLModel.metadata.create_all(self.engine)
        incoming = [m.mention for m in mentions]
        by_native = {m.mention.native_id: m.gold for m in mentions}
        ingest_mentions(self.engine, "lab", incoming, config.brands)
        self.scores: dict[int, Score] = {}
        self.created: list[tuple[datetime, int]] = []
        with session_scope(self.engine) as session:
            for mention_id, native_id, created in session.exec(
                    select(Mention.id, Mention.native_id, Mention.created_at)).all():
                self.gold[int(mention_id)] = by_native[native_id]
                self.scores[int(mention_id)] = scores[native_id]
                self.created.append((created, int(mention_id)))
        self.created.sort()
        times = [to_db(m.mention.created_at) for m in mentions]
        self.start, self.end = min(times), max(times) + timedelta(hours=1)
        self.days = max((self.end - self.start).total_seconds() / 86400, 1.0)

    def run(self, config: Config | None = None, *, step: timedelta = timedelta(hours=1)) -> dict[int, Escalation]:
        """Replay hour by hour with ``config``: the mentions posted in the hour get their scores, then
        :func:`flag_escalations` runs; returns the escalations by mention id."""
        config = config or self.config
        with session_scope(self.engine) as session:
            for table in (EscalationEvent, Escalation, Sentiment):
                session.execute(delete(table))
            session.execute(delete(JobState).where(col(JobState.name) == JOB_NAME))
        clock, i = self.start + step, 0
        while clock <= self.end + step:
            values = []
            while i < len(self.created) and self.created[i][0] < clock:
                mention_id = self.created[i][1]
                s = self.scores[mention_id]
                values.append({"mention_id": mention_id, "label": s.label, "p_negative": s.p_negative,
                               "p_neutral": s.p_neutral, "p_positive": s.p_positive, "p_anger": s.p_anger,
                               "model_version": "lab", "scored_at": clock})
                i += 1
            if values:
                with session_scope(self.engine) as session:
                    session.execute(insert(Sentiment), values)
            flag_escalations(self.engine, config, now=clock)
            clock += step
        with session_scope(self.engine) as session:
            return {e.mention_id: e for e in session.exec(select(Escalation)).all()}

    def legacy(self) -> dict[int, int]:
        """Severity by mention id of what :func:`legacy_verdict` escalates."""
        handles = {b.name.lower(): b.handles for b in self.config.brands}
        out: dict[int, int] = {}
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(Mention, Brand.name)
                .join(MentionBrand, col(MentionBrand.mention_id) == col(Mention.id))
                .join(Brand, col(Brand.id) == col(MentionBrand.brand_id))).all()
            for m, brand in rows:
                s = self.scores[int(m.id or 0)]
                engagement = m.engagement or (m.likes + m.replies + m.reposts + m.quotes)
                severity = legacy_verdict(full_text(m.title, m.text), s.p_negative, s.label, m.author_reach,
                                          engagement,
                                          m.in_reply_to, handles.get(brand.lower(), []))
                if severity is not None:
                    out[int(m.id or 0)] = severity
        return out

    def figures(self, rule: str, severities: Mapping[int, int], texts: Mapping[int, str] | None = None) -> QueueFigures:
        """:class:`QueueFigures` of a queue given as severity (tier) by mention id."""
        f = QueueFigures(rule=rule, mentions=len(self.gold), days=round(self.days, 2))
        f.escalated = len(severities)
        f.per_day = round(f.escalated / self.days, 1)
        good = [self.gold[i].label == "negative" or self.gold[i].risky for i in severities]
        f.precision = _share(sum(good), len(good))
        real = [i for i in severities if self.gold[i].planted is None]
        f.real_escalated = len(real)
        f.real_precision = _share(sum(self.gold[i].label == "negative" for i in real), len(real))
        negatives = [i for i, g in self.gold.items() if g.planted is None and g.label == "negative"]
        f.negatives_caught = _share(sum(i in severities for i in negatives), len(negatives))
        for i, g in self.gold.items():
            if g.planted in ("plain", "sarcastic"):
                f.planted += 1
                f.planted_caught += i in severities
                if g.planted == "sarcastic":
                    f.sarcastic += 1
                    f.sarcastic_caught += i in severities
                if i not in severities:
                    kind = f"{g.category} {g.planted}"
                    f.missed_kinds[kind] = f.missed_kinds.get(kind, 0) + 1
                    if texts is not None:
                        f.missed.append(texts.get(i, ""))
            elif g.planted == "control":
                f.controls += 1
                f.controls_escalated += i in severities
        f.coverage = _share(f.planted_caught, f.planted)
        f.missed_kinds = dict(sorted(f.missed_kinds.items()))
        f.tiers = dict(sorted(Counter(severities.values()).items()))
        f.top_tier = f.tiers.get(4, 0)
        f.top_tier_share = _share(f.top_tier, f.escalated)
        return f

    def texts(self) -> dict[int, str]:
        with session_scope(self.engine) as session:
            return {int(i): t for i, t in session.exec(select(Mention.id, Mention.text)).all()}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def score_mentions(mentions: Sequence[LabMention], scorer: Any, batch: int = 256) -> dict[str, Score]:
    """The model's :class:`Score` for every mention, by native id (``scorer.score(texts)`` in batches)."""
    out: dict[str, Score] = {}
    for i in range(0, len(mentions), batch):
        chunk = mentions[i:i + batch]
        for m, s in zip(chunk, scorer.score([m.mention.full_text for m in chunk]), strict=True):
            emotions = getattr(s, "emotions", None)
            out[m.mention.native_id] = Score(s.label, float(s.p_negative), float(s.p_neutral), float(s.p_positive),
                                             float(emotions[0]) if emotions else None)
    return out


def measure_queue(mentions: Sequence[LabMention], scores: Mapping[str, Score], config: Config, *,
                  variants: Mapping[str, Config] | None = None, with_missed: bool = False) -> list[QueueFigures]:
    """Before (:func:`legacy_verdict`) and after (``config``, then each of ``variants``) on the same mentions.

    Returns one :class:`QueueFigures` per rule, "before" first. ``scores`` must hold every
    mention's native id (see :func:`score_mentions`).
    """
    with tempfile.TemporaryDirectory(prefix="escalation-lab-") as tmp:
        replay = Replay(mentions, scores, config, Path(tmp))
        try:
            texts = replay.texts() if with_missed else None
            out = [replay.figures("before", replay.legacy(), texts)]
            for name, cfg in {"after": config, **(variants or {})}.items():
                queue = replay.run(cfg)
                figures = replay.figures(name, {i: e.severity for i, e in queue.items()}, texts)
                figures.priorities = sorted(e.priority for e in queue.values())
                out.append(figures)
            return out
        finally:
            replay.engine.dispose()


def cut_for_share(values: Sequence[int], share: float) -> int:
    """The lowest priority cut that puts at most ``share`` of ``values`` at or above it."""
    ordered = sorted(values)
    for cut in range(0, 102):
        if sum(v >= cut for v in ordered) <= share * len(ordered):
            return cut
    return 101
