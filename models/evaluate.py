"""Evaluation of a scorer on labelled texts, and throughput benchmarks per inference path."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models.data import LABELS, parse_label
from models.inference import Scorer
from models.metrics import confusion, scores


@dataclass(frozen=True)
class EvalReport:
    """Scores of one model on one labelled set; ``confusion`` rows are true, columns predicted."""

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


def evaluate(scorer: Scorer, texts: Sequence[str], labels: Sequence[int | str]) -> EvalReport:
    """Score ``texts`` and compare with ``labels`` (class ids or label names).

    The model is loaded before the clock starts, so ``tweets_per_s`` covers preprocessing,
    tokenising and inference only. Raises ValueError for an unknown label or a length mismatch.
    """
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    y = np.asarray([parse_label(v, f"label {i + 1}") for i, v in enumerate(labels)], dtype=np.int64)
    scorer.load()
    t0 = time.perf_counter()
    probs = scorer.probabilities(list(texts))
    seconds = time.perf_counter() - t0
    pred = probs.argmax(axis=1) if len(texts) else np.zeros(0, dtype=np.int64)
    s = scores(y, pred)
    return EvalReport(
        n=len(texts), macro_recall=s["macro_recall"], accuracy=s["accuracy"], macro_f1=s["macro_f1"],
        recall={lab: s[f"recall_{i}"] for i, lab in enumerate(LABELS)},
        confusion=confusion(y, pred).tolist(), seconds=seconds,
        tweets_per_s=len(texts) / seconds if seconds > 0 else 0.0,
        model_version=scorer.version, backend=scorer.backend_name,
    )


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
