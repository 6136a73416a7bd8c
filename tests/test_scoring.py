"""score_pending / rescore against a real SQLite file, with the real shipped model."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, select

from models.inference import Scorer
from monitor.scoring import corrections_dataset, mention_text, rescore, score_pending
from monitor.store import Correction, Mention, Sentiment, make_engine, session_scope

TEXTS = [
    ("I love this brand, best support ever", None),
    ("absolute trash, broke after one day", None),
    ("The shop opens at 9am tomorrow", None),
    ("totally worth it, no regrets", "Review: Acme X200"),
    ("my package never arrived and support ignores me", None),
]


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    """The shipped model on the torch path (no ONNX build in this module)."""
    return Scorer("default", backend="torch", device="cpu")


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """A SQLite file database with all tables and five unscored mentions."""
    eng = make_engine(f"sqlite:///{tmp_path / 'monitor.db'}")
    SQLModel.metadata.create_all(eng)
    with session_scope(eng) as s:
        for i, (text, title) in enumerate(TEXTS):
            s.add(Mention(platform="x", native_id=str(i), source="x", text=text, title=title,
                          created_at=datetime(2026, 1, 1, 12, i)))
    return eng


def _rows(engine: Engine) -> dict[int, Sentiment]:
    with session_scope(engine) as s:
        return {r.mention_id: r for r in s.exec(select(Sentiment)).all()}


def test_score_pending_scores_every_mention_once(engine: Engine, scorer: Scorer) -> None:
    assert score_pending(engine, scorer, batch_size=2) == 5
    rows = _rows(engine)
    assert len(rows) == 5
    assert {r.model_version for r in rows.values()} == {scorer.version}
    assert rows[1].label == "positive" and rows[2].label == "negative"
    assert all(abs(r.p_negative + r.p_neutral + r.p_positive - 1) < 1e-4 for r in rows.values())
    assert score_pending(engine, scorer) == 0


def test_score_pending_respects_limit(engine: Engine, scorer: Scorer) -> None:
    assert score_pending(engine, scorer, batch_size=2, limit=3) == 3
    assert len(_rows(engine)) == 3
    assert score_pending(engine, scorer, progress=True) == 2


def test_title_is_scored_with_the_text(engine: Engine, scorer: Scorer) -> None:
    score_pending(engine, scorer)
    expected = scorer.score([mention_text("Review: Acme X200", "totally worth it, no regrets")])[0]
    assert _rows(engine)[4].p_positive == pytest.approx(expected.p_positive, abs=1e-5)


def test_rescore_replaces_rows_from_other_versions(engine: Engine, scorer: Scorer) -> None:
    score_pending(engine, scorer)
    with session_scope(engine) as s:
        for r in s.exec(select(Sentiment).where(Sentiment.mention_id.in_([1, 2]))).all():
            r.model_version, r.label, r.p_negative = "old-model", "neutral", 0.0
            s.add(r)
    assert rescore(engine, scorer, batch_size=1) == 2
    rows = _rows(engine)
    assert {r.model_version for r in rows.values()} == {scorer.version}
    assert rows[1].label == "positive" and rows[2].label == "negative" and rows[2].p_negative > 0.5
    assert rescore(engine, scorer) == 0
    assert rescore(engine, scorer, only_other_versions=False) == 5


def test_corrections_dataset_joins_mention_text(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(Correction(mention_id=4, label="positive", corrected_by="ana"))
        s.add(Correction(mention_id=2, label="negative"))
    texts, labels = corrections_dataset(engine)
    assert labels == ["negative", "positive"]
    assert texts[1] == "Review: Acme X200\ntotally worth it, no regrets"
