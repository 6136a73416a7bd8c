"""Batch sentiment scoring: ``load_scorer(model_cfg) -> Scorer`` and ``Scorer.score(texts)``.

The model is checked cheaply when the scorer is made (so a bad ``model.name`` fails at
start-up with a one-line ModelLoadError) and loaded once, lazily, on the first score.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.artifact import (
    ModelLoadError,
    default_artifact_dir,
    is_artifact,
    load_artifact,
    offline_env,
    read_meta,
    resolve_base,
)
from models.backends import TorchBackend, cache_dir, onnx_backend
from models.data import LABELS, preprocess

log = logging.getLogger(__name__)

__all__ = ["ModelLoadError", "Score", "Scorer", "load_scorer"]


@dataclass(frozen=True)
class Score:
    """One text's sentiment: the winning label and the three class probabilities."""

    label: str
    p_negative: float
    p_neutral: float
    p_positive: float


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())[:200] or type(err).__name__


def _folder_fingerprint(folder: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(folder.iterdir()):
        if f.is_file():
            h.update(f"{f.name}:{f.stat().st_size};".encode())
            if f.name == "config.json":
                h.update(f.read_bytes())
    return h.hexdigest()[:12]


class Scorer:
    """Scores texts with one model; see :func:`load_scorer` for the arguments."""

    def __init__(self, name: str = "default", *, labels: dict[int, str] | None = None, backend: str = "auto",
                 device: str = "auto", batch_size: int = 32, max_length: int = 128,
                 cache: str | os.PathLike[str] | None = None, precision: str | None = None) -> None:
        offline_env()
        self._precision = precision
        self.name, self.batch_size, self.max_length = name, batch_size, max_length
        self.requested_backend = backend
        self.device = self._pick_device(device)
        self.cache = cache_dir(cache)
        self._meta: dict[str, Any] | None = None
        self._folder: Path | None = None
        self._tok: Any = None
        self._backend: Any = None
        if name == "default" or (Path(name).expanduser().is_dir() and is_artifact(Path(name).expanduser())):
            self._folder = default_artifact_dir() if name == "default" else Path(name).expanduser()
            self._meta = read_meta(self._folder)
            resolve_base(self._meta["base_model"])
            id2label = {int(k): v for k, v in self._meta["id2label"].items()}
            self.version: str = str(self._meta["version"])
            self._bias = np.asarray(self._meta.get("logit_bias", [0.0] * len(LABELS)), dtype=np.float32)
            steps = self._meta.get("preprocessing", {})
            self._emoji = steps.get("emoji") == "names as words"
            self._slang = bool(steps.get("slang"))
        else:
            id2label = dict(labels or dict(enumerate(LABELS)))
            self.version = f"{name}@{self._fingerprint(name)}"
            self._bias = np.zeros(len(LABELS), dtype=np.float32)
            self._emoji = self._slang = False
        if sorted(id2label.values()) != sorted(LABELS):
            raise ModelLoadError(f"model.labels for {name!r} must map class ids to negative, neutral and "
                                 "positive once each; fix model.labels")
        self._columns = [next(i for i, v in id2label.items() if v == lab) for lab in LABELS]

    @staticmethod
    def _pick_device(device: str) -> str:
        import torch

        if device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cuda" and not torch.cuda.is_available():
            raise ModelLoadError("model.device is 'cuda' but no CUDA GPU is available; set model.device "
                                 "to auto or cpu")
        return device

    @staticmethod
    def _fingerprint(name: str) -> str:
        src = resolve_base(name)
        if Path(src).is_dir():
            if not (Path(src) / "config.json").exists():
                raise ModelLoadError(f"model.name {name!r} is a folder without config.json; point it at a "
                                     "saved Hugging Face model or a `monitor train --out` folder")
            return _folder_fingerprint(Path(src))
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(name, "config.json")
        if not isinstance(hit, str):
            raise ModelLoadError(f"model.name {name!r} is not in the local cache and there is no network; "
                                 "download it once with network access or set model.name to a local folder")
        return Path(hit).parent.name[:12]

    @property
    def backend_name(self) -> str | None:
        """``onnx`` or ``torch`` once loaded (after any fallback), else None."""
        return getattr(self._backend, "name", None)

    def load(self) -> None:
        """Load the tokenizer and backend now (idempotent); raise ModelLoadError if impossible."""
        if self._backend is not None:
            return
        if self._folder is not None:
            model, self._tok, _ = load_artifact(self._folder)
        else:
            model, self._tok = self._load_hf()
        use_onnx = self.requested_backend == "onnx" or (self.requested_backend == "auto" and self.device == "cpu")
        if use_onnx:
            precision = self._precision or (self._meta or {}).get("onnx_precision", "fp32")
            key = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in self.version)
            try:
                self._backend = onnx_backend(model, key, precision=precision, cache=self.cache)
                return
            except Exception as err:  # any export/runtime failure: the torch path still works
                log.warning("ONNX Runtime path for %s failed (%s); using torch", self.name, _one_line(err))
        self._backend = TorchBackend(model, self.device)

    def _load_hf(self) -> tuple[Any, Any]:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        src = resolve_base(self.name)
        try:
            tok = AutoTokenizer.from_pretrained(src, local_files_only=True)
            model = AutoModelForSequenceClassification.from_pretrained(src, local_files_only=True)
        except Exception as err:
            raise ModelLoadError(f"model.name {self.name!r} could not be loaded ({_one_line(err)}); point it at "
                                 "a sequence-classification model available offline") from None
        if model.config.num_labels != len(self._columns):
            raise ModelLoadError(f"model.name {self.name!r} has {model.config.num_labels} classes, not 3; use a "
                                 "three-class sentiment model")
        return model.eval(), tok

    def encode(self, texts: list[str]) -> list[list[int]]:
        """Return the token ids the model sees for each text (preprocessed and truncated)."""
        self.load()
        clean = [preprocess(t, emoji_to_text=self._emoji, slang=self._slang) for t in texts]
        return list(self._tok(clean, truncation=True, max_length=self.max_length)["input_ids"])

    def logits(self, texts: list[str]) -> np.ndarray:
        """Return (n, 3) logits in negative, neutral, positive order with the artifact's bias applied."""
        ids = self.encode(texts)
        out = np.zeros((len(ids), len(self._columns)), dtype=np.float32)
        order = np.argsort([len(x) for x in ids], kind="stable")
        pad_id = self._tok.pad_token_id or 0
        for start in range(0, len(order), self.batch_size):
            part = order[start : start + self.batch_size]
            width = max(len(ids[i]) for i in part)
            batch = np.full((len(part), width), pad_id, dtype=np.int64)
            mask = np.zeros((len(part), width), dtype=np.int64)
            for row, i in enumerate(part):
                batch[row, : len(ids[i])] = ids[i]
                mask[row, : len(ids[i])] = 1
            out[part] = self._backend.logits(batch, mask)
        return out[:, self._columns] + self._bias

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """Return (n, 3) class probabilities in negative, neutral, positive order."""
        if not texts:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        z = self.logits(texts)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def score(self, texts: list[str]) -> list[Score]:
        """Return one Score per text, in input order (batches are length-sorted internally)."""
        probs = self.probabilities(texts)
        return [Score(LABELS[int(p.argmax())], float(p[0]), float(p[1]), float(p[2])) for p in probs]


def load_scorer(model_cfg: Any = None, *, cache: str | os.PathLike[str] | None = None) -> Scorer:
    """Return a Scorer for ``model_cfg`` (a ModelConfig or anything with the same fields).

    Fields: name ("default" = the shipped artifact, a Hugging Face name, a local model folder
    or a ``monitor train --out`` folder), labels (class id -> label, for non-default models),
    backend (auto|onnx|torch), device (auto|cpu|cuda), batch_size, max_length. ``cache`` is
    the ONNX cache root (default $BRAND_MONITOR_CACHE or ~/.cache/brand-monitor).
    Raises ModelLoadError (one line: the model and the fix) when the model cannot be used offline.
    """
    def get(field: str, default: Any) -> Any:
        return getattr(model_cfg, field, default) if model_cfg is not None else default

    return Scorer(
        get("name", "default"), labels=get("labels", None), backend=get("backend", "auto"),
        device=get("device", "auto"), batch_size=get("batch_size", 32), max_length=get("max_length", 128),
        cache=cache,
    )
