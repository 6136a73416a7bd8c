"""What drove a spike, and why it fired in plain words.

The loudest negative mentions in its window, the terms that rose most, how many negative
mentions and people the window holds, and a one-sentence ``summary`` for the alert page
and email ("62 negative mentions in the last 3 hours from 48 people; usually about 15").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from monitor.config import Config
from monitor.spikes.counts import person_key
from monitor.spikes.phrases import doc_terms, prefer_phrases
from monitor.store import Alert, Brand, Correction, Mention, MentionBrand, Sentiment
from monitor.store.sql import effective_label

TOP_MENTIONS = 5
TOP_TERMS = 8
MAX_TEXTS = 3000


def _negative(brand_id: int, start: datetime, end: datetime) -> Any:
    label = effective_label()
    return (
        select(Mention)
        .join(MentionBrand, col(MentionBrand.mention_id) == col(Mention.id))
        .join(Sentiment, col(Sentiment.mention_id) == col(Mention.id))
        .outerjoin(Correction, col(Correction.mention_id) == col(Mention.id))
        .where(MentionBrand.brand_id == brand_id, col(MentionBrand.created_at) >= start,
               col(MentionBrand.created_at) < end, label == "negative")
    )


def top_mentions(session: Session, brand_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The most visible negative mentions in [start, end): reach plus engagement, highest first."""
    query = _negative(brand_id, start, end).order_by(
        (col(Mention.author_reach) + col(Mention.engagement) * 10).desc(), col(Mention.id)
    ).limit(TOP_MENTIONS)
    return [
        {"id": m.id, "text": m.text[:500], "url": m.url, "author": m.author, "reach": m.author_reach,
         "engagement": m.engagement, "platform": m.platform, "created_at": m.created_at.isoformat()}
        for m in session.exec(query).all()
    ]


def rising_terms(
    session: Session, brand_id: int, start: datetime, end: datetime, *, baseline: timedelta,
    ignore: set[str] | None = None,
) -> list[dict[str, Any]]:
    """Words and two-word phrases (:mod:`monitor.spikes.phrases`, no filler) in more of the window's
    negative mentions than usual, biggest rise first; a word a rising phrase explains is left out.

    Each is ``{"term", "count", "share", "baseline_share"}``: how many window mentions use it,
    and the fraction of window and of baseline (the ``baseline`` before ``start``) negative
    mentions that do. Terms used by fewer than two window mentions are left out.
    """
    ignore = {w.lower() for w in (ignore or set())}

    def texts(a: datetime, b: datetime) -> list[str]:
        q = _negative(brand_id, a, b).order_by(col(Mention.created_at).desc()).limit(MAX_TEXTS)
        return [m.text for m in session.exec(q).all()]

    window, before = texts(start, end), texts(start - baseline, start)
    if not window:
        return []
    w_counts, b_counts = doc_terms(window, ignore), doc_terms(before, ignore)
    n_w, n_b = len(window), max(len(before), 1)
    scored = []
    for term, c in w_counts.items():
        if c < 2:
            continue
        share, base = c / n_w, b_counts.get(term, 0) / n_b
        if share > base:
            scored.append((share - base, c, term, share, base))
    scored.sort(key=lambda s: (-s[0], -s[1], s[2]))
    drop = prefer_phrases([(t, c) for _, c, t, _, _ in scored[:TOP_TERMS * 3]])
    return [{"term": t, "count": c, "share": round(sh, 3), "baseline_share": round(b, 3)}
            for _, c, t, sh, b in [s for s in scored if s[2] not in drop][:TOP_TERMS]]


def details_for(session: Session, config: Config, brand: Brand, alert: Alert) -> dict[str, Any]:
    """Top negative mentions and rising terms for the alert's window, for its ``details``."""
    assert brand.id is not None
    ignore: set[str] = set()
    try:
        bcfg = config.brand(brand.name)
        ignore = {w.lower().lstrip("@") for t in [*bcfg.terms, *bcfg.handles] for w in t.split()}
        ignore |= {f"@{w}" for w in ignore}
    except KeyError:
        ignore = {brand.name.lower()}
    return {
        "top_mentions": top_mentions(session, brand.id, alert.window_start, alert.window_end),
        "rising_terms": rising_terms(session, brand.id, alert.window_start, alert.window_end,
                                     baseline=timedelta(days=7), ignore=ignore),
    }


def window_counts(session: Session, brand_id: int, start: datetime, end: datetime) -> tuple[int, int]:
    """(negative mentions, distinct people behind them) for the brand in ``[start, end)``."""
    query = _negative(brand_id, start, end).with_only_columns(func.count(), func.count(func.distinct(person_key())))
    mentions, people = session.execute(query).one()
    return int(mentions or 0), int(people or 0)


def duration_words(span: timedelta) -> str:
    """``span`` as "hour", "3 hours", "45 minutes", "2 days"."""
    minutes = round(span.total_seconds() / 60)
    if minutes < 60:
        return "minute" if minutes == 1 else f"{minutes} minutes"
    hours = minutes / 60
    if hours < 48 or hours % 24:
        n = round(hours) if abs(hours - round(hours)) < 0.05 else round(hours, 1)
        return "hour" if n == 1 else f"{n:g} hours"
    return f"{round(hours / 24)} days"


def _about(expected: float) -> str:
    return "fewer than one" if expected < 1 else f"about {round(expected):,}"


def summary(kind: str, *, mentions: int, people: int, expected: float, start: datetime, end: datetime,
            ongoing: bool, share: tuple[float, float, int] = (0.0, 0.0, 0)) -> str:
    """One sentence saying why the alert fired, in plain words.

    For a volume alert: "62 negative mentions in the last 3 hours from 48 people; usually
    about 15" (``expected`` is what the baseline expected over the same window); for a share
    alert: "45% of 40 people's mentions were negative in the last hour; usually 20%". A
    window that is not ``ongoing`` is named by its start ("in the 3 hours from Mon 14:00 UTC").
    """
    span = duration_words(end - start)
    when = f"in the last {span}" if ongoing else f"in the {span} from {start:%a %H:%M} UTC"
    if kind == "negative_share":
        observed, usual, total = share
        return f"{observed:.0%} of {total:,} people's mentions were negative {when}; usually {usual:.0%}"
    who = "1 person" if people == 1 else f"{people:,} people"
    noun = "negative mention" if mentions == 1 else "negative mentions"
    return f"{mentions:,} {noun} {when} from {who}; usually {_about(expected)}"
