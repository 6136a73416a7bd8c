"""Evaluation of a scorer on labelled texts, the standard suites, and throughput per inference path.

The standard suites (``monitor eval`` with no file) are what every model change is judged on:
TweetEval sentiment validation (the ``sentiment`` head), the held-out test split of the
brand-directed sets (the primary ``brand`` head), TweetEval emotion validation (the
``emotion`` head) and the hand-written challenge set in ``models/challenge/`` (sarcasm,
negation, slang, emoji, news, questions, promotions, complaints, praise; the primary head).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.data import EMOTIONS, LABELS, brand_split, default_split, emotion_split, parse_label, read_labelled
from models.inference import Scorer
from models.metrics import confusion, scores

CHALLENGE = Path(__file__).resolve().parent / "challenge" / "challenge.jsonl"


@dataclass(frozen=True)
class EvalReport:
    """Scores of one head on one labelled set; ``confusion`` rows are true, columns predicted."""

    n: int
    macro_recall: float
    accuracy: float
    macro_f1: float
    recall: dict[str, float]
    confusion: list[list[int]]
    seconds: float
    tweets_per_s: float
    model_version: str
    backend: str | None
    labels: tuple[str, ...] = field(default=LABELS)
    precision: dict[str, float] = field(default_factory=dict)
    head: str = ""
    majority_accuracy: float = 0.0
    """Accuracy of always answering the most frequent true class (the baseline to beat)."""


def _label_ids(labels: Sequence[int | str], classes: tuple[str, ...]) -> np.ndarray:
    if classes == LABELS:
        return np.asarray([parse_label(v, f"label {i + 1}") for i, v in enumerate(labels)], dtype=np.int64)
    out = []
    for i, v in enumerate(labels):
        s = str(v).strip().lower()
        if s in classes:
            out.append(classes.index(s))
        elif s.isdigit() and int(s) < len(classes):
            out.append(int(s))
        else:
            raise ValueError(f"label {i + 1}: {v!r} is not one of {', '.join(classes)}")
    return np.asarray(out, dtype=np.int64)


def evaluate(scorer: Scorer, texts: Sequence[str], labels: Sequence[int | str], head: str | None = None) -> EvalReport:
    """Score ``texts`` with ``head`` (default the scorer's primary) and compare with ``labels``.

    The model is loaded before the clock starts, so ``tweets_per_s`` covers preprocessing,
    tokenising and inference only. Raises ValueError for an unknown label, head or a length mismatch.
    """
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    head = head or scorer.head
    if head not in scorer.spec.names:
        raise ValueError(f"the model has no {head!r} head (heads: {', '.join(scorer.spec.names)})")
    classes = scorer.spec.labels(head)
    y = _label_ids(labels, classes)
    scorer.load()
    t0 = time.perf_counter()
    probs = scorer.probabilities(list(texts), head=head)
    seconds = time.perf_counter() - t0
    pred = probs.argmax(axis=1) if len(texts) else np.zeros(0, dtype=np.int64)
    n = len(classes)
    s = scores(y, pred, n)
    counts = np.bincount(y, minlength=n)
    return EvalReport(
        n=len(texts), macro_recall=s["macro_recall"], accuracy=s["accuracy"], macro_f1=s["macro_f1"],
        recall={lab: s[f"recall_{i}"] for i, lab in enumerate(classes)},
        confusion=confusion(y, pred, n).tolist(), seconds=seconds,
        tweets_per_s=len(texts) / seconds if seconds > 0 else 0.0,
        model_version=scorer.version, backend=scorer.backend_name, labels=classes,
        precision={lab: s[f"precision_{i}"] for i, lab in enumerate(classes)}, head=head,
        majority_accuracy=float(counts.max() / max(len(y), 1)),
    )


def read_challenge(path: Path = CHALLENGE) -> list[dict[str, str]]:
    """The challenge set's rows: ``{"category", "label", "text"}``."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def challenge(scorer: Scorer, path: Path = CHALLENGE) -> dict[str, Any]:
    """Accuracy of the primary head per challenge category, and every miss.

    Returns ``{"accuracy", "by_category": {cat: (right, total)}, "misses": [(cat, text, label, got)]}``.
    """
    rows = read_challenge(path)
    got = [s.label for s in scorer.score([r["text"] for r in rows])]
    by: dict[str, list[int]] = {}
    misses = []
    for r, g in zip(rows, got, strict=True):
        tally = by.setdefault(r["category"], [0, 0])
        tally[1] += 1
        if g == r["label"]:
            tally[0] += 1
        else:
            misses.append((r["category"], r["text"], r["label"], g))
    right = sum(v[0] for v in by.values())
    return {"accuracy": right / max(len(rows), 1), "by_category": {k: tuple(v) for k, v in by.items()},
            "misses": misses}


def standard_suites(scorer: Scorer) -> list[tuple[str, list[str], list[int], str]]:
    """``(title, texts, labels, head)`` for each standard suite this model has a head for.

    Raises FileNotFoundError when ../shared/data is missing.
    """
    suites = [("TweetEval sentiment validation", *read_labelled(default_split("val"), "val"), "sentiment")]
    if "brand" in scorer.spec.names:
        suites.append(("brand-directed test split (SXSW + Apple, held out)", *brand_split("test"), "brand"))
    if "emotion" in scorer.spec.names:
        texts, ids = emotion_split("val")
        suites.append(("TweetEval emotion validation", texts, [EMOTIONS[i] for i in ids], "emotion"))
    return [(t, list(x), list(y), h) for t, x, y, h in suites if h in scorer.spec.names]


def _paths() -> list[tuple[str, str]]:
    import torch

    paths = [("torch", "cpu"), ("onnx", "cpu")]
    if torch.cuda.is_available():
        paths.append(("torch", "cuda"))
    return paths


def bench_scoring(texts: Sequence[str], batch_sizes: Sequence[int] = (1, 32, 128), *, name: str = "default",
                  max_length: int = 128, max_texts: dict[int, int] | None = None,
                  cache: str | None = None) -> list[dict[str, Any]]:
    """Return one dict per available inference path and batch size: backend, device, batch_size,
    n, seconds, tweets_per_s and model_version. Prints nothing.

    Each path is loaded and warmed up before timing (an ONNX build happens outside the clock).
    ``max_texts`` caps the texts per batch size (e.g. ``{1: 300}``, since batch 1 is slow).
    A path that cannot run here (ONNX export failing and falling back to torch) is left out.
    Raises ModelLoadError when the model itself cannot be loaded.
    """
    rows: list[dict[str, Any]] = []
    for backend, device in _paths():
        scorer = Scorer(name, backend=backend, device=device, max_length=max_length, cache=cache)
        scorer.load()
        if scorer.backend_name != backend:
            continue
        for bs in batch_sizes:
            scorer.batch_size = bs
            part = list(texts[: (max_texts or {}).get(bs, len(texts))])
            scorer.probabilities(part[: max(bs, 8)])  # warm-up
            t0 = time.perf_counter()
            scorer.probabilities(part)
            seconds = time.perf_counter() - t0
            rows.append({"backend": backend, "device": device, "batch_size": bs, "n": len(part),
                         "seconds": round(seconds, 3), "tweets_per_s": round(len(part) / seconds, 1),
                         "model_version": scorer.version})
    return rows
