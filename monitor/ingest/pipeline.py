"""The ingest pipeline: check, match to brands, drop duplicates, store with the cursor.

A page of mentions, the items rejected on it (into the dead-letter table) and the source's
cursor are written in one transaction, so a crash between them can neither lose nor
duplicate an item, the cursor moves past a rejected item only once it is kept, and
re-ingesting the same page changes nothing. Text arrives normalised: :class:`Mention` does
it once for every source, so storage, matching and the model read the same text.
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
from collectors.edge import Rejected, check_mention, dump, json_safe
from monitor.config import BrandConfig
from monitor.ingest.deadletter import store_rejected
from monitor.ingest.language import Language
from monitor.ingest.matching import Judgement, Matcher
from monitor.store import Brand, Mention, MentionBrand, SourceState, session_scope, to_db, utcnow

log = logging.getLogger(__name__)
_CHUNK = 400


@dataclass
class IngestResult:
    """What one call stored: new mentions, duplicates skipped, mentions matching no brand,
    mentions whose brands all leave out their language (``language_dropped``), and items
    rejected into the dead-letter table."""

    stored: int = 0
    duplicates: int = 0
    unmatched: int = 0
    language_dropped: int = 0
    rejected: int = 0
    mention_ids: list[int] = field(default_factory=list)

    def __iadd__(self, other: IngestResult) -> IngestResult:
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.unmatched += other.unmatched
        self.language_dropped += other.language_dropped
        self.rejected += other.rejected
        self.mention_ids.extend(other.mention_ids)
        return self

    def __str__(self) -> str:
        return (f"{self.stored} new, {self.duplicates} duplicate, {self.unmatched} unmatched"
                + (f", {self.language_dropped} dropped for language" if self.language_dropped else "")
                + (f", {self.rejected} rejected (see `monitor rejected`)" if self.rejected else ""))


def judge_mention(matcher: Matcher, m: Incoming) -> Judgement:
    """Match ``m`` on the text as it is stored (title and body joined, normalised at the edge), in
    its language (the platform's, else detected)."""
    return matcher.judge(m.full_text, m.language)


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


def _row(m: Incoming, source: str, now: Any, language: Language) -> dict[str, Any]:
    e = m.engagement
    return {
        "platform": m.platform,
        "native_id": str(m.native_id),
        "source": source,
        "text": m.text,
        "title": m.title,
        "author": m.author or "",
        "author_reach": int(m.author_reach or 0),
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
        "raw": json_safe(dict(m.raw)),
    }


def ingest_mentions(
    engine: Engine,
    source: str,
    mentions: Sequence[Incoming],
    brands: Sequence[BrandConfig],
    cursor: dict[str, Any] | None = None,
    *,
    matcher: Matcher | None = None,
    rejected: Sequence[Rejected] = (),
) -> IngestResult:
    """Store the brand-matching, not-yet-stored ``mentions``, the ``rejected`` items (dead letters)
    and, if given, the new cursor, all in one transaction.

    A mention that breaks a storage rule (see :func:`collectors.edge.check_mention`) is
    rejected too, never stored as garbage. Returns counts; raises SQLAlchemy errors after
    rolling back (then nothing of the page is stored and the cursor stays).
    """
    with session_scope(engine) as session:
        result = store_page(session, source, mentions, brands, matcher=matcher, rejected=rejected)
        if cursor is not None:
            save_cursor(session, source, cursor, collected=result.stored)
    return result


def store_page(
    session: Session,
    source: str,
    mentions: Sequence[Incoming],
    brands: Sequence[BrandConfig],
    *,
    matcher: Matcher | None = None,
    rejected: Sequence[Rejected] = (),
) -> IngestResult:
    """:func:`ingest_mentions` inside the caller's transaction, without the cursor; returns counts."""
    matcher = matcher or Matcher(brands)
    result = IngestResult()
    now = utcnow()
    dead = list(rejected)
    candidates: dict[tuple[str, str], tuple[Incoming, Judgement]] = {}
    for m in mentions:
        problem = check_mention(m)
        if problem is not None:
            reason, fld = problem
            dead.append(Rejected(f"{m.platform} {m.native_id}"[:200], dump(json_safe(dict(m.raw))), reason, fld))
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
        candidates[key] = (m, judged)

    result.rejected = store_rejected(session, source, dead, now)
    brand_ids = sync_brands(session, brands)
    keys = list(candidates)
    for i in range(0, len(keys), _CHUNK):
        chunk = keys[i : i + _CHUNK]
        existing = session.execute(
            select(Mention.platform, Mention.native_id).where(tuple_(Mention.platform, Mention.native_id).in_(chunk))
        ).all()
        for key in existing:
            candidates.pop(tuple(key), None)
            result.duplicates += 1
    if candidates:
        rows = {key: _row(m, source, now, judged.language) for key, (m, judged) in candidates.items()}
        inserted = session.execute(
            insert(Mention).returning(Mention.id, Mention.platform, Mention.native_id), list(rows.values())
        ).all()
        links = []
        for mention_id, platform, native_id in inserted:
            created = rows[(platform, native_id)]["created_at"]
            result.mention_ids.append(mention_id)
            for name, terms in candidates[(platform, native_id)][1].brands.items():
                links.append({"mention_id": mention_id, "brand_id": brand_ids[name],
                              "created_at": created, "matched_terms": terms})
        session.execute(insert(MentionBrand), links)
        result.stored = len(inserted)
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
