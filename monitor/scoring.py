"""Scoring: give every mention a Sentiment row, re-score after a model change, and keep a
person's correction beside the model's label.

Plain functions over an engine and a scorer (anything with ``version`` and
``score(texts) -> list[Score]``); the scheduler and the CLI wire them up.

Many scorers can share one backlog (``monitor run --only score`` on several machines, on
PostgreSQL): each claims a batch with ``SELECT ... FOR UPDATE SKIP LOCKED`` (:mod:`monitor.store.claims`),
scores it and commits, so every mention is scored once and a scorer that dies gives its batch
back. Every write of a Sentiment or Correction row goes through
:func:`monitor.store.rollups.tracking` in the same transaction, so the rollups stay exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from tqdm.auto import tqdm

from monitor.errors import WorkflowError
from monitor.store import Correction, Label, Mention, Sentiment, session_scope, utcnow
from monitor.store.claims import claim_batches, scan_floor
from monitor.store.rollups import tracking
from monitor.store.sql import unscored


class SupportsScore(Protocol):
    version: str

    def score(self, texts: list[str]) -> Sequence[Any]: ...


def mention_text(title: str | None, text: str) -> str:
    """Return the text the model scores: ``title + "\\n" + text`` when a title exists, else ``text``."""
    return f"{title}\n{text}" if title else text


def _write(session: Session, rows: list[dict[str, Any]], *, replace: bool) -> None:
    """Insert Sentiment rows; on a key clash replace the row (``replace``) or keep the existing one."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(Sentiment).values(rows)
    if replace:
        cols = ("label", "p_negative", "p_neutral", "p_positive", "model_version", "scored_at")
        stmt = stmt.on_conflict_do_update(
            index_elements=["mention_id"], set_={c: getattr(stmt.excluded, c) for c in cols}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=["mention_id"])
    with tracking(session, [r["mention_id"] for r in rows]):
        session.execute(stmt)


def _score_chunk(session: Session, scorer: SupportsScore, chunk: Sequence[Any], *, replace: bool) -> None:
    results = scorer.score([mention_text(title, text) for _, title, text in chunk])
    now = utcnow()
    rows = [
        {"mention_id": mid, "label": str(s.label), "p_negative": s.p_negative, "p_neutral": s.p_neutral,
         "p_positive": s.p_positive, "model_version": scorer.version, "scored_at": now}
        for (mid, _, _), s in zip(chunk, results, strict=True)
    ]
    _write(session, rows, replace=replace)


def _run(engine: Engine, scorer: SupportsScore, query: Any, count_query: Any, *, replace: bool,
         batch_size: int, limit: int | None, progress: bool, desc: str, after: int = 0) -> int:
    total = None
    if progress:  # counting the backlog reads every mention: only for the progress bar
        with session_scope(engine) as session:
            total = session.execute(count_query).scalar_one()
        total = min(total, limit) if limit is not None else total
    done = 0
    bar = tqdm(total=total, desc=desc, unit="mention", disable=not progress)
    with closing(claim_batches(engine, query, batch_size=batch_size, limit=limit, after=after)) as batches:
        for session, chunk in batches:
            _score_chunk(session, scorer, chunk, replace=replace)
            done += len(chunk)
            bar.update(len(chunk))
    bar.close()
    return done


def score_pending(engine: Engine, scorer: SupportsScore, *, batch_size: int = 256, limit: int | None = None,
                  progress: bool = False, full: bool = True) -> int:
    """Score mentions that have no Sentiment row yet, oldest id first, committing per chunk.

    Returns how many mentions were scored. Several scorers may run at once: each claims its
    own batches, so none scores a mention another has scored or holds. With ``full=False``
    the search for unscored mentions starts near the newest scored one (:func:`monitor.store.claims.scan_floor`)
    instead of reading every mention from the first. Raises what the scorer raises (e.g. ModelLoadError).
    """
    base = unscored(Mention.id, Mention.title, Mention.text)
    count = unscored(func.count())
    return _run(engine, scorer, base, count, replace=False, batch_size=batch_size, limit=limit,
                progress=progress, desc="score", after=0 if full else scan_floor(engine))


def rescore(engine: Engine, scorer: SupportsScore, *, only_other_versions: bool = True, batch_size: int = 256,
            limit: int | None = None, progress: bool = False) -> int:
    """Re-score mentions that already have a Sentiment row, replacing the row.

    With ``only_other_versions`` only rows whose model_version differs from ``scorer.version``
    are touched, so running it twice does no work the second time. Returns how many were
    re-scored. Corrections are never touched. Raises what the scorer raises.
    """
    base = select(Mention.id, Mention.title, Mention.text).join(Sentiment, Sentiment.mention_id == Mention.id)
    count = select(func.count()).select_from(Sentiment)
    if only_other_versions:
        base = base.where(Sentiment.model_version != scorer.version)
        count = count.where(Sentiment.model_version != scorer.version)
    return _run(engine, scorer, base, count, replace=True, batch_size=batch_size, limit=limit,
                progress=progress, desc="rescore")


def corrections_dataset(engine: Engine) -> tuple[list[str], list[str]]:
    """Return ``(texts, labels)`` for every user correction, text built like the scored text."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(Mention.title, Mention.text, Correction.label)
            .join(Correction, Correction.mention_id == Mention.id)
            .order_by(Mention.id)
        ).all()
    return [mention_text(t, x) for t, x, _ in rows], [str(lab) for _, _, lab in rows]


def correct_sentiment(engine: Engine, mention_id: int, label: str, *, by: str = "") -> Correction:
    """Store a person's label for a mention beside the model's score; returns the correction.

    Raises :class:`WorkflowError` for an unknown mention or label.
    """
    try:
        value = Label(label)
    except ValueError:
        raise WorkflowError(f"unknown label {label!r}; use negative, neutral or positive") from None
    with session_scope(engine) as session:
        if session.get(Mention, mention_id) is None:
            raise WorkflowError(f"mention {mention_id} does not exist")
        with tracking(session, [mention_id]):
            row = session.get(Correction, mention_id) or Correction(mention_id=mention_id, label=value)
            row.label = value
            row.corrected_by = by
            row.corrected_at = utcnow()
            session.add(row)
    return row
