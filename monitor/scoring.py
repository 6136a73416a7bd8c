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
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from tqdm.auto import tqdm

from collectors.base import full_text
from monitor.errors import WorkflowError
from monitor.store import UNSUPPORTED, Correction, Label, Mention, Sentiment, session_scope, utcnow
from monitor.store.claims import claim_batches, scan_floor
from monitor.store.rollups import tracking
from monitor.store.sql import unscored


class SupportsScore(Protocol):
    version: str

    def score(self, texts: list[str]) -> Sequence[Any]: ...


UNKNOWN_LANGUAGES = frozenset({"und", "zxx", "qme", "qht", "qam", "qct", "qst", "art"})
"""Codes platforms use for "no language" (X: undetermined, media or hashtags only): scored as covered."""


@dataclass(frozen=True)
class Models:
    """The scorers a scoring run uses: ``main`` for the ``languages`` it covers (None = every language),
    ``multilingual`` (optional) for the rest; mentions neither covers are marked unsupported."""

    main: SupportsScore
    languages: frozenset[str] | None = frozenset({"en"})
    multilingual: SupportsScore | None = None

    @property
    def versions(self) -> set[str]:
        return {self.main.version} | ({self.multilingual.version} if self.multilingual else set())

    def route(self, language: str | None) -> SupportsScore | None:
        """The scorer for a mention in ``language`` (None or a platform's "undetermined": the main one)."""
        code = (language or "").split("-")[0].split("_")[0].lower()
        if not code or code in UNKNOWN_LANGUAGES or self.languages is None or code in self.languages:
            return self.main
        return self.multilingual


def as_models(scorer: SupportsScore | Models) -> Models:
    """``scorer`` as :class:`Models` (a bare scorer covers the languages it declares, else English)."""
    if isinstance(scorer, Models):
        return scorer
    langs = getattr(scorer, "languages", None)
    return Models(scorer, frozenset(langs) if langs is not None else frozenset({"en"}))


def mention_text(title: str | None, text: str) -> str:
    """Return the text the model scores: title and body as :func:`collectors.base.full_text` joins them."""
    return full_text(title, text)


SCORE_COLUMNS = ("label", "p_negative", "p_neutral", "p_positive", "model_version", "scored_at", "emotion", "p_anger",
                 "p_joy", "p_optimism", "p_sadness")


def _write(session: Session, rows: list[dict[str, Any]], *, replace: bool) -> None:
    """Insert Sentiment rows; on a key clash replace the row (``replace``) or keep the existing one."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(Sentiment).values(rows)
    if replace:
        stmt = stmt.on_conflict_do_update(
            index_elements=["mention_id"], set_={c: getattr(stmt.excluded, c) for c in SCORE_COLUMNS}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=["mention_id"])
    with tracking(session, [r["mention_id"] for r in rows]):
        session.execute(stmt)


def _row(mention_id: int, version: str, now: datetime, s: Any | None) -> dict[str, Any]:
    if s is None:  # a language no configured model covers: counted in volume, never in sentiment
        return {"mention_id": mention_id, "label": UNSUPPORTED, "p_negative": 0.0, "p_neutral": 0.0,
                "p_positive": 0.0, "model_version": version, "scored_at": now, "emotion": None, "p_anger": None,
                "p_joy": None, "p_optimism": None, "p_sadness": None}
    emotions = getattr(s, "emotions", None) or (None, None, None, None)
    return {"mention_id": mention_id, "label": str(s.label), "p_negative": s.p_negative, "p_neutral": s.p_neutral,
            "p_positive": s.p_positive, "model_version": version, "scored_at": now,
            "emotion": getattr(s, "emotion", None), "p_anger": emotions[0], "p_joy": emotions[1],
            "p_optimism": emotions[2], "p_sadness": emotions[3]}


def _score_chunk(session: Session, models: Models, chunk: Sequence[Any], *, replace: bool) -> None:
    """Score one chunk of ``(id, title, text, language)`` rows, each with the scorer its language routes to."""
    now = utcnow()
    groups: dict[int, tuple[SupportsScore | None, list[Any]]] = {}
    for row in chunk:
        scorer = models.route(row[3])
        groups.setdefault(id(scorer), (scorer, []))[1].append(row)
    rows = []
    for scorer, part in groups.values():
        if scorer is None:
            rows += [_row(r[0], models.main.version, now, None) for r in part]
            continue
        results = scorer.score([mention_text(title, text) for _, title, text, _ in part])
        rows += [_row(r[0], scorer.version, now, s) for r, s in zip(part, results, strict=True)]
    _write(session, rows, replace=replace)


def _run(engine: Engine, models: Models, query: Any, count_query: Any, *, replace: bool,
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
            _score_chunk(session, models, chunk, replace=replace)
            done += len(chunk)
            bar.update(len(chunk))
    bar.close()
    return done


def score_pending(engine: Engine, scorer: SupportsScore | Models, *, batch_size: int = 256,
                  limit: int | None = None, progress: bool = False, full: bool = True) -> int:
    """Score mentions that have no Sentiment row yet, oldest id first, committing per chunk.

    ``scorer`` is one scorer or :class:`Models` (a main and a multilingual one): a mention in a
    language no model covers gets an ``unsupported`` row. Returns how many mentions were scored.
    Several scorers may run at once: each claims its own batches, so none scores a mention
    another has scored or holds. With ``full=False`` the search for unscored mentions starts near
    the newest scored one (:func:`monitor.store.claims.scan_floor`) instead of reading every
    mention from the first. Raises what the scorer raises (e.g. ModelLoadError).
    """
    base = unscored(Mention.id, Mention.title, Mention.text, Mention.language)
    count = unscored(func.count())
    return _run(engine, as_models(scorer), base, count, replace=False, batch_size=batch_size, limit=limit,
                progress=progress, desc="score", after=0 if full else scan_floor(engine))


def rescore(engine: Engine, scorer: SupportsScore | Models, *, only_other_versions: bool = True, batch_size: int = 256,
            limit: int | None = None, progress: bool = False) -> int:
    """Re-score mentions that already have a Sentiment row, replacing the row.

    With ``only_other_versions`` only rows whose model_version differs from ``scorer.version``
    are touched, so running it twice does no work the second time. Returns how many were
    re-scored. Corrections are never touched. Raises what the scorer raises.
    """
    models = as_models(scorer)
    base = select(Mention.id, Mention.title, Mention.text, Mention.language).join(
        Sentiment, Sentiment.mention_id == Mention.id)
    count = select(func.count()).select_from(Sentiment)
    if only_other_versions:
        base = base.where(Sentiment.model_version.not_in(models.versions))
        count = count.where(Sentiment.model_version.not_in(models.versions))
    return _run(engine, models, base, count, replace=True, batch_size=batch_size, limit=limit,
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
