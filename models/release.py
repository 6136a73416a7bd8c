"""The ONNX precision decision for an artifact, made once after training and kept in meta.json."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.artifact import update_meta
from models.backends import PRECISIONS
from models.inference import Scorer
from models.metrics import scores

TOLERANCE = 0.005


def check_onnx_precision(folder: Path, texts: Sequence[str], labels: Sequence[int], *,
                         cache: str | None = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Score ``texts`` on the torch path and each ONNX precision of the artifact in ``folder``.

    Writes ``onnx_precision`` to meta.json: the fastest precision whose macro-recall is less
    than half a point below torch's (fp32 when none is), plus the measurements as
    ``onnx_check``; returns that dict. Raises ModelLoadError if the artifact cannot be loaded.
    """
    y = np.asarray(labels)
    check: dict[str, Any] = {"n": len(texts), "tolerance": TOLERANCE}
    preds: dict[str, np.ndarray] = {}
    for key in ("torch", *PRECISIONS):
        backend = "torch" if key == "torch" else "onnx"
        scorer = Scorer(str(folder), backend=backend, device="cpu", cache=cache,
                        precision=None if key == "torch" else key)
        scorer.load()
        if scorer.backend_name != backend:
            log("ONNX Runtime is unavailable here; leaving the ONNX precision at fp32")
            return check
        scorer.probabilities(list(texts[:64]))  # warm-up
        t0 = time.perf_counter()
        preds[key] = scorer.probabilities(list(texts)).argmax(1)
        seconds = time.perf_counter() - t0
        check[key] = {"macro_recall": round(scores(y, preds[key])["macro_recall"], 4),
                      "agreement_with_torch": round(float(np.mean(preds[key] == preds["torch"])), 4),
                      "tweets_per_s": round(len(texts) / seconds, 1)}
        log(f"{key}: val macro-recall {check[key]['macro_recall']:.4f}, agreement with torch "
            f"{check[key]['agreement_with_torch']:.4f}, {check[key]['tweets_per_s']:.0f} tweets/s")
    ref = check["torch"]["macro_recall"]
    chosen = next(p for p in PRECISIONS if p == "fp32" or ref - check[p]["macro_recall"] < TOLERANCE)
    update_meta(folder, onnx_precision=chosen, onnx_check=check)
    log(f"ONNX precision: {chosen}")
    return check
