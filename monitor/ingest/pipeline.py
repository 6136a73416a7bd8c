"""The ingest pipeline: normalise, match to brands, drop duplicates, store with the cursor.

A page of mentions and the source's cursor are written in one transaction, so a crash
between the two can neither lose nor duplicate a mention, and re-ingesting the same page
changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, tuple_
from sqlalchemy.engine import Engine
from sqlmodel import Session

from collectors.base import Mention as Incoming
from collectors.base import full_text
from monitor.config import BrandConfig
from monitor.ingest.language import Language
from monitor.ingest.matching import Judgement, Matcher
from monitor.store import Brand, Mention, MentionBrand, SourceState, session_scope, to_db, utcnow
from monitor.text import normalise_text

log = logging.getLogger(__name__)
_CHUNK = 400


@dataclass
class IngestResult:
    """What one call stored: new mentions, duplicates skipped, mentions matching no brand, and
    mentions whose brands all leave out their language (``language_dropped``)."""

    stored: int = 0
    duplicates: int = 0
    unmatched: int = 0
    invalid: int = 0
    language_dropped: int = 0
    mention_ids: list[int] = field(default_factory=list)

    def __iadd__(self, other: IngestResult) -> IngestResult:
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.unmatched += other.unmatched
        self.invalid += other.invalid
        self.language_dropped += other.language_dropped
        self.mention_ids.extend(other.mention_ids)
        return self


def judge_mention(matcher: Matcher, m: Incoming) -> Judgement:
    """Match ``m`` on the text as it will be stored (title and body joined), in its language
    (the platform's, else detected)."""
    return matcher.judge(full_text(m.title, normalise_text(m.text or "")), m.language)


def match_brands(matcher: Matcher, m: Incoming) -> dict[str, list[str]]:
    """The brands ``m`` mentions in a language they watch (see :func:`judge_mention`)."""
    return judge_mention(matcher, m).brands


def sync_brands(session: Session, brands: Iterable[BrandConfig]) -> dict[str, int]:
    """Make sure every configured brand has a row; returns name -> id."""
    rows = {b.name: b for b in session.exec(select(Brand)).scalars()}
    for cfg in brands:
        row = rows.get(cfg.name)
        if row is None:
            row = Brand(name=cfg.name, is_own=cfg.is_own)
            session.add(row)
            rows[cfg.name] = row
        elif row.is_own != cfg.is_own:
            row.is_own = cfg.is_own
            session.add(row)
    session.flush()
    return {name: row.id for name, row in rows.items() if row.id is not None}


def _row(m: Incoming, source: str, text: str, now: Any, language: Language) -> dict[str, Any]:
    e = m.engagement
    return {
        "platform": m.platform,
        "native_id": str(m.native_id),
        "source": source,
        "text": text,
        "title": m.title,
        "author": m.author or "",
        "author_reach": max(int(m.author_reach or 0), 0),
        "likes": e.likes,
        "replies": e.replies,
        "reposts": e.reposts,
        "quotes": e.quotes,
        "engagement": e.total,
        "url": m.url or "",
        "language": language.code,
        "language_source": language.source,
        "conversation_id": m.conversation_id,
        "in_reply_to": m.in_reply_to,
        "created_at": to_db(m.created_at),
        "collected_at": now,
        "raw": dict(m.raw),
    }


def ingest_mentions(
    engine: Engine,
    source: str,
    mentions: Sequence[Incoming],
    brands: Sequence[BrandConfig],
    cursor: dict[str, Any] | None = None,
    *,
    matcher: Matcher | None = None,
) -> IngestResult:
    """Store the brand-matching, not-yet-stored ``mentions`` and, if given, the new cursor.

    Everything happens in one transaction: either the mentions and the cursor are both
    stored, or neither is. Returns counts; raises SQLAlchemy errors after rolling back.
    """
    matcher = matcher or Matcher(brands)
    result = IngestResult()
    now = utcnow()
    candidates: dict[tuple[str, str], tuple[dict[str, Any], dict[str, list[str]]]] = {}
    for m in mentions:
        text = normalise_text(m.text or "")
        if not text and not m.title:
            result.invalid += 1
            continue
        key = (m.platform, str(m.native_id))
        if key in candidates:
            result.duplicates += 1
            continue
        judged = judge_mention(matcher, m)
        if not judged.brands:
            if judged.dropped:
                result.language_dropped += 1
            else:
                result.unmatched += 1
            continue
        candidates[key] = (_row(m, source, text, now, judged.language), judged.brands)

    with session_scope(engine) as session:
        brand_ids = sync_brands(session, brands)
        keys = list(candidates)
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i : i + _CHUNK]
            existing = session.execute(
                select(Mention.platform, Mention.native_id).where(
                    tuple_(Mention.platform, Mention.native_id).in_(chunk)
                )
            ).all()
            for key in existing:
                candidates.pop(tuple(key), None)
                result.duplicates += 1
        if candidates:
            rows = [row for row, _ in candidates.values()]
            inserted = session.execute(
                insert(Mention).returning(Mention.id, Mention.platform, Mention.native_id), rows
            ).all()
            links = []
            for mention_id, platform, native_id in inserted:
                row, matched = candidates[(platform, native_id)]
                result.mention_ids.append(mention_id)
                for name, terms in matched.items():
                    links.append({"mention_id": mention_id, "brand_id": brand_ids[name],
                                  "created_at": row["created_at"], "matched_terms": terms})
            session.execute(insert(MentionBrand), links)
            result.stored = len(inserted)
        if cursor is not None:
            save_cursor(session, source, cursor, collected=result.stored)
    return result


def save_cursor(session: Session, source: str, cursor: dict[str, Any], *, collected: int = 0) -> None:
    """Set ``source``'s cursor and add ``collected`` to its count, inside the caller's transaction."""
    state = session.get(SourceState, source) or SourceState(name=source)
    state.cursor = dict(cursor)
    state.mentions_collected += collected
    session.add(state)
    session.flush()


def load_cursor(engine: Engine, source: str) -> dict[str, Any]:
    """The stored cursor for ``source`` (``{}`` before its first run)."""
    with Session(engine) as session:
        state = session.get(SourceState, source)
        return dict(state.cursor) if state and state.cursor else {}
