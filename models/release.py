"""Releasing an artifact: choose its ONNX precision on the dev folds, then write ``model.onnx`` beside it.

The precision is a decision, so it is made on the training data's dev folds (the same ones
checkpoint selection used), never on validation. The chosen file is written into the
artifact folder with the word embeddings left out (they are read from the base model at load
time), so the default scoring path needs no export, no quantisation and no torch on first use.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from models.artifact import load_artifact, read_meta, update_meta, weights_hash
from models.backends import PRECISIONS, export_onnx
from models.data import LABELS, brand_split, default_split, read_labelled
from models.inference import ONNX_FILE, Scorer
from models.metrics import scores
from models.multitask import word_embedding_key
from models.train import in_dev_fold

TOLERANCE = 0.005


def dev_sets(settings: dict[str, Any], heads: list[str]) -> dict[str, tuple[list[str], list[int]]]:
    """The dev folds the run chose its checkpoint on (``settings`` as meta.json keeps them): the
    sentiment training file's rows held out by hash, and the brand dev split when there is a brand head."""
    fraction = float(settings.get("dev_fraction", 0.1))
    texts, labels = read_labelled(settings.get("train_file") or default_split("train"), "train")
    keep = [i for i, t in enumerate(texts) if in_dev_fold(t, fraction)]
    sets = {"sentiment": ([texts[i] for i in keep], [labels[i] for i in keep])}
    brand = settings.get("brand_data")
    if "brand" in heads and brand:
        sets["brand"] = brand_split("dev", None if brand == "default" else Path(brand))
    return sets


def _dev_score(scorer: Scorer, sets: dict[str, tuple[list[str], list[int]]]) -> tuple[float, dict[str, np.ndarray]]:
    preds = {h: scorer.probabilities(t, head=h).argmax(1) for h, (t, _) in sets.items() if h in scorer.spec.names}
    mr = [scores(np.asarray(sets[h][1]), p, len(LABELS))["macro_recall"] for h, p in preds.items()]
    return float(np.mean(mr)), preds


def check_onnx_precision(folder: Path, sets: dict[str, tuple[list[str], list[int]]], *, cache: str | None = None,
                         log: Callable[[str], None] = print) -> dict[str, Any]:
    """Score the dev folds on the torch path and each ONNX precision of the artifact in ``folder``.

    Writes ``onnx_precision`` to meta.json: the fastest precision whose mean dev macro-recall
    is less than half a point below torch's (fp32 when none is), plus the measurements as
    ``onnx_check``; returns that dict. Raises ModelLoadError if the artifact cannot be loaded.
    """
    check: dict[str, Any] = {"n": sum(len(t) for t, _ in sets.values()), "tolerance": TOLERANCE,
                             "on": "dev folds of the training data"}
    preds: dict[str, dict[str, np.ndarray]] = {}
    for key in ("torch", *PRECISIONS):
        backend = "torch" if key == "torch" else "onnx"
        scorer = Scorer(str(folder), backend=backend, device="cpu", cache=cache,
                        precision=None if key == "torch" else key)
        scorer.load()
        if scorer.backend_name != backend:
            log("ONNX Runtime is unavailable here; leaving the ONNX precision at fp32")
            return check
        scorer.probabilities(next(iter(sets.values()))[0][:64])  # warm-up
        t0 = time.perf_counter()
        mr, preds[key] = _dev_score(scorer, sets)
        seconds = time.perf_counter() - t0
        agree = float(np.mean(np.concatenate([preds[key][h] == preds["torch"][h] for h in preds[key]])))
        check[key] = {"dev_macro_recall": round(mr, 4), "agreement_with_torch": round(agree, 4),
                      "tweets_per_s": round(check["n"] / seconds, 1)}
        log(f"{key}: dev macro-recall {mr:.4f}, agreement with torch {agree:.4f}, "
            f"{check[key]['tweets_per_s']:.0f} tweets/s")
    ref = check["torch"]["dev_macro_recall"]
    chosen = next(p for p in PRECISIONS if p == "fp32" or ref - check[p]["dev_macro_recall"] < TOLERANCE)
    update_meta(folder, onnx_precision=chosen, onnx_check=check)
    log(f"ONNX precision: {chosen}")
    return check


def write_onnx(folder: Path, log: Callable[[str], None] = print) -> Path:
    """Write the artifact's ``model.onnx`` in its chosen precision, without the word embeddings."""
    meta = read_meta(folder)
    model, _, _ = load_artifact(folder)
    path = export_onnx(model, folder / ONNX_FILE, precision=meta.get("onnx_precision", "fp32"),
                       embeddings=word_embedding_key(model))
    update_meta(folder, onnx={"file": ONNX_FILE, "precision": meta.get("onnx_precision", "fp32"),
                              "sha256_12": weights_hash(path), "built_from": meta["version"]})
    log(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB)")
    return path


def release(folder: Path, *, cache: str | None = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Choose the ONNX precision on the dev folds and write ``model.onnx``; returns the precision check."""
    (folder / ONNX_FILE).unlink(missing_ok=True)
    meta = read_meta(folder)
    check = check_onnx_precision(folder, dev_sets(meta.get("settings", {}), list(meta["heads"])), cache=cache,
                                 log=log)
    write_onnx(folder, log=log)
    return check
