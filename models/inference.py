"""Batch scoring: ``load_scorer(model_cfg) -> Scorer`` and ``Scorer.score(texts)``.

The model is checked cheaply when the scorer is made (so a bad ``model.name`` fails at
start-up with a one-line ModelLoadError) and loaded once, lazily, on the first score.

The shipped artifact scores through ONNX Runtime with the ``tokenizers`` library: neither
torch nor transformers is imported on that path, so a daemon with the model loaded stays
small and the first score is quick. Its ONNX file ships beside the weights
(``models/sentiment/model.onnx``); for any other model it is built once into the cache.
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
    offline_env,
    read_meta,
    resolve_base,
)
from models.backends import OnnxBackend, base_embeddings, cache_dir, length_batches, onnx_backend
from models.data import EMOTIONS, LABELS, preprocess
from models.heads import HeadSpec

log = logging.getLogger(__name__)

__all__ = ["ModelLoadError", "Score", "Scorer", "load_scorer"]
ONNX_FILE = "model.onnx"


@dataclass(frozen=True)
class Score:
    """One text's sentiment (the winning label and the three class probabilities) and, when the
    model has an emotion head, its strongest emotion and the four emotion probabilities."""

    label: str
    p_negative: float
    p_neutral: float
    p_positive: float
    emotion: str | None = None
    emotions: tuple[float, ...] | None = None


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


def _nvidia_driver() -> bool:
    """Whether this machine has an NVIDIA driver loaded (checked without importing torch)."""
    return Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidiactl").exists()


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


class FastTokenizer:
    """The base model's ``tokenizer.json`` through the ``tokenizers`` library (no torch, no transformers).

    Gives the same ids as ``AutoTokenizer(..., truncation=True, max_length=n)``: the file's
    normaliser, pre-tokeniser and [CLS]/[SEP] post-processor, truncated to ``max_length``.
    """

    def __init__(self, folder: str, max_length: int) -> None:
        from tokenizers import Tokenizer

        path = Path(folder) / "tokenizer.json"
        if not path.exists():
            raise ModelLoadError(f"base model folder {folder!r} has no tokenizer.json; reinstall the base model")
        self.tok = Tokenizer.from_file(str(path))
        self.tok.no_padding()
        self.tok.enable_truncation(max_length)
        self.pad_token_id = self.tok.token_to_id("[PAD]") or 0

    def __call__(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.tok.encode_batch(texts)]


class Scorer:
    """Scores texts with one model; see :func:`load_scorer` for the arguments.

    ``head`` picks which three-class head gives ``Score.label`` and :meth:`probabilities`
    (default: the artifact's primary head, sentiment toward the brand).
    """

    def __init__(self, name: str = "default", *, labels: dict[int, str] | None = None, backend: str = "auto",
                 device: str = "auto", batch_size: int = 32, max_length: int = 128,
                 cache: str | os.PathLike[str] | None = None, precision: str | None = None,
                 head: str | None = None, languages: list[str] | None = None) -> None:
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
            self.version: str = str(self._meta["version"])
            self.spec = HeadSpec.from_meta(self._meta["heads"])
            self.head = head or str(self._meta.get("primary", self.spec.names[0]))
            steps = self._meta.get("preprocessing", {})
            self._emoji = steps.get("emoji") == "names as words"
            self._slang = bool(steps.get("slang"))
            self.max_length = min(max_length, int(self._meta.get("max_length", max_length)))
            self._columns = list(range(self.spec.width))
        else:
            id2label = dict(labels or dict(enumerate(LABELS)))
            self.version = f"{name}@{self._fingerprint(name)}"
            self.spec = HeadSpec((("sentiment", LABELS),))
            self.head = "sentiment"
            self._emoji = self._slang = False
            if sorted(id2label.values()) != sorted(LABELS):
                raise ModelLoadError(f"model.labels for {name!r} must map class ids to negative, neutral and "
                                     "positive once each; fix model.labels")
            self._columns = [next(i for i, v in id2label.items() if v == lab) for lab in LABELS]
        declared = (self._meta or {}).get("languages", ["en"])
        self.languages: tuple[str, ...] | None = None if languages == ["*"] else tuple(languages or declared)
        """The languages this model scores (ISO 639-1); None = every language (a multilingual model)."""
        if self.head not in self.spec.names or self.spec.labels(self.head) != LABELS:
            raise ModelLoadError(f"model {name!r} has no three-class head {self.head!r}; heads: "
                                 f"{', '.join(self.spec.names)}")

    @staticmethod
    def _pick_device(device: str) -> str:
        """``auto``: CUDA when torch sees a GPU; on a machine without an NVIDIA driver, CPU without
        importing torch (the ONNX path then never loads it)."""
        if device == "cpu" or (device == "auto" and not _nvidia_driver()):
            return "cpu"
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

    @property
    def meta(self) -> dict[str, Any]:
        """The artifact's meta.json (empty for a plain Hugging Face model)."""
        return dict(self._meta or {})

    def load(self) -> None:
        """Load the tokenizer and backend now (idempotent); raise ModelLoadError if impossible."""
        if self._backend is not None:
            return
        use_onnx = self.requested_backend == "onnx" or (self.requested_backend == "auto" and self.device == "cpu")
        if self._folder is not None:
            assert self._meta is not None
            base = resolve_base(self._meta["base_model"])
            self._tok = FastTokenizer(base, self.max_length)
            precision = self._precision or self._meta.get("onnx_precision", "fp32")
            shipped = self._shipped_onnx(precision) if use_onnx else None
            if shipped is not None:
                try:  # the default path: no torch import at all
                    self._backend = OnnxBackend(shipped, embeddings=base_embeddings(base))
                    return
                except Exception as err:
                    log.warning("shipped ONNX model %s failed to load (%s); building one", shipped, _one_line(err))
            from models.artifact import load_artifact

            model, _, _ = load_artifact(self._folder)
        else:
            model, self._tok = self._load_hf()
            precision = self._precision or "fp32"
        if use_onnx:
            key = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in self.version)
            try:
                self._backend = onnx_backend(model, key, precision=precision, cache=self.cache)
                return
            except Exception as err:  # any export/runtime failure: the torch path still works
                log.warning("ONNX Runtime path for %s failed (%s); using torch", self.name, _one_line(err))
        from models.backends import TorchBackend

        self._backend = TorchBackend(model, self.device)

    def _shipped_onnx(self, precision: str) -> Path | None:
        """The artifact's own ``model.onnx`` when it was built from these very weights in ``precision``.

        Both files are checked against meta.json (a few milliseconds): a weights file that does not
        hash to the version raises ModelLoadError; an ONNX file built from other weights, in another
        precision or altered since is not used (the scorer builds one from the weights instead).
        """
        from models.artifact import weights_hash

        assert self._folder is not None and self._meta is not None
        if weights_hash(self._folder / "weights.safetensors") != self.version.rsplit("-", 1)[-1]:
            raise ModelLoadError(f"sentiment artifact {str(self._folder)!r} has corrupt weights (they do not hash to "
                                 f"{self.version}); retrain it with `monitor train` or restore the folder from git")
        info = self._meta.get("onnx") or {}
        path = self._folder / str(info.get("file", ONNX_FILE))
        if (not path.exists() or info.get("built_from") != self.version or info.get("precision") != precision
                or weights_hash(path) != info.get("sha256_12")):
            return None
        return path

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
        max_length = self.max_length

        def encode(texts: list[str]) -> list[list[int]]:
            return list(tok(texts, truncation=True, max_length=max_length)["input_ids"])

        encode.pad_token_id = tok.pad_token_id or 0  # type: ignore[attr-defined]
        return model.eval(), encode

    def encode(self, texts: list[str]) -> list[list[int]]:
        """Return the token ids the model sees for each text (preprocessed and truncated)."""
        self.load()
        return self._tok([preprocess(t, emoji_to_text=self._emoji, slang=self._slang) for t in texts])

    def logits(self, texts: list[str]) -> np.ndarray:
        """Return (n, width) logits of every head side by side (:attr:`spec` order)."""
        ids = self.encode(texts)
        out = np.zeros((len(ids), len(self._columns)), dtype=np.float32)
        pad_id = getattr(self._tok, "pad_token_id", 0) or 0
        for part, batch, mask in length_batches(ids, self.batch_size, pad_id):
            out[part] = self._backend.logits(batch, mask)
        return out[:, self._columns]

    def head_probabilities(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Every head's class probabilities for ``texts``, from one pass of the model."""
        if not texts:
            return {name: np.zeros((0, len(labels)), dtype=np.float32) for name, labels in self.spec.heads}
        z = self.logits(texts)
        return {name: softmax(z[:, self.spec.columns(name)]) for name in self.spec.names}

    def probabilities(self, texts: list[str], head: str | None = None) -> np.ndarray:
        """Return (n, k) class probabilities of ``head`` (default :attr:`head`: negative, neutral, positive)."""
        return self.head_probabilities(texts)[head or self.head]

    def score(self, texts: list[str]) -> list[Score]:
        """Return one Score per text, in input order (batches are length-sorted internally)."""
        probs = self.head_probabilities(texts)
        sentiment, emotion = probs[self.head], probs.get("emotion")
        out = []
        for i, p in enumerate(sentiment):
            e = emotion[i] if emotion is not None else None
            out.append(Score(LABELS[int(p.argmax())], float(p[0]), float(p[1]), float(p[2]),
                             EMOTIONS[int(e.argmax())] if e is not None else None,
                             tuple(float(x) for x in e) if e is not None else None))
        return out


def load_scorer(model_cfg: Any = None, *, cache: str | os.PathLike[str] | None = None) -> Scorer:
    """Return a Scorer for ``model_cfg`` (a ModelConfig or anything with the same fields).

    Fields: name ("default" = the shipped artifact, a Hugging Face name, a local model folder
    or a ``monitor train --out`` folder), labels (class id -> label, for non-default models),
    backend (auto|onnx|torch), device (auto|cpu|cuda), batch_size, max_length, languages (what
    the model covers; ``["*"]`` = every language). ``cache`` is the ONNX cache root (default
    $BRAND_MONITOR_CACHE or ~/.cache/brand-monitor).
    Raises ModelLoadError (one line: the model and the fix) when the model cannot be used offline.
    """
    def get(field: str, default: Any) -> Any:
        return getattr(model_cfg, field, default) if model_cfg is not None else default

    return Scorer(
        get("name", "default"), labels=get("labels", None), backend=get("backend", "auto"),
        device=get("device", "auto"), batch_size=get("batch_size", 32), max_length=get("max_length", 128),
        cache=cache, languages=get("languages", None),
    )
