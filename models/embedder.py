"""Sentence embeddings from the base model, for "does this read like that?" questions.

all-MiniLM-L6-v2 (the offline base model) was trained by sentence-transformers for semantic
similarity: the mean of its token vectors, normalised, puts texts that say the same thing
close together whatever their words. The sentiment model's own encoder cannot do this any
more: fine-tuning bent its space around tone (every complaint sits near every other,
whatever it is about). The escalation rules use these embeddings to recognise a risk
complaint written in words no phrase list holds (``monitor/escalations/semantic.py``).

The default path, like the sentiment model's, is an int8 ONNX file shipped in
``models/embedder/`` without the word-embedding matrix (read from the installed base model
at load time), run by ONNX Runtime with the ``tokenizers`` library: no torch import, a few
milliseconds a text. For another base model (``escalation.semantic.model``) the file is
built once into the ONNX cache, which needs torch. ``monitor build-embedder`` rebuilds the
shipped file.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from models.artifact import DEFAULT_BASE, ModelLoadError, offline_env, resolve_base, weights_hash
from models.backends import OnnxBackend, base_embeddings, cache_dir, export_onnx, length_batches

log = logging.getLogger(__name__)

ONNX_FILE = "model.onnx"
META_FILE = "meta.json"
PRECISION = "int8"
MAX_LENGTH = 128
_WORD_EMBEDDINGS = "encoder.embeddings.word_embeddings.weight"


def shipped_dir() -> Path:
    """The folder of the shipped embedder (``models/embedder``)."""
    return Path(__file__).resolve().parent / "embedder"


def _encoder_module(base: str) -> Any:
    """A torch module: ids, mask -> the normalised mean of the base model's token vectors."""
    offline_env()
    import torch
    from transformers import AutoModel

    from models.multitask import mean_pool

    src = resolve_base(base)
    try:
        encoder = AutoModel.from_pretrained(src, local_files_only=True, add_pooling_layer=False)
    except (OSError, TypeError):
        raise ModelLoadError(f"embedding model {base!r} is not available offline; download it once with network "
                             "access or set escalation.semantic.model to a local folder") from None

    class SentenceEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        @property
        def config(self) -> Any:
            return self.encoder.config

        def set_attn_implementation(self, value: str) -> None:
            self.encoder.set_attn_implementation(value)

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return torch.nn.functional.normalize(mean_pool(hidden, attention_mask), dim=-1)

    return SentenceEncoder().eval()


def build(out: Path, base: str = DEFAULT_BASE, precision: str = PRECISION) -> Path:
    """Export the sentence encoder of ``base`` to ``out/model.onnx`` (without its word embeddings) and
    write ``out/meta.json``; returns the ONNX path. Needs torch. (The graph's one output is named
    ``logits``, as every ONNX file here, though it holds the normalised embedding.)"""
    out.mkdir(parents=True, exist_ok=True)
    path = export_onnx(_encoder_module(base), out / ONNX_FILE, precision=precision, embeddings=_WORD_EMBEDDINGS)
    meta = {"base_model": base, "pooling": "mean, L2-normalised", "precision": precision,
            "sha256_12": weights_hash(path), "word_embeddings": "read from the base model at load time"}
    tmp = out / (META_FILE + ".tmp")
    tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out / META_FILE)
    return path


def _shipped_file(base: str) -> Path | None:
    """The shipped ONNX file when it was built from ``base`` and is intact, else None."""
    folder = shipped_dir()
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    path = folder / ONNX_FILE
    if meta.get("base_model") != base or not path.exists() or weights_hash(path) != meta.get("sha256_12"):
        return None
    return path


class Embedder:
    """Normalised sentence embeddings of texts (``embed``), loaded lazily on first use.

    Raises ModelLoadError (one line) when the base model is not available offline.
    """

    def __init__(self, base: str = DEFAULT_BASE, *, cache: str | os.PathLike[str] | None = None,
                 batch_size: int = 64, max_length: int = MAX_LENGTH, threads: int | None = None) -> None:
        offline_env()
        self.base, self.batch_size, self.max_length, self.threads = base, batch_size, max_length, threads
        self.cache = cache_dir(cache)
        self._src = resolve_base(base)
        self._backend: OnnxBackend | None = None
        self._tok: Any = None
        self._lock = threading.Lock()

    def _onnx_file(self) -> Path:
        shipped = _shipped_file(self.base)
        if shipped is not None:
            return shipped
        key = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.base)
        folder = self.cache / f"embedder-{key}"
        path = folder / ONNX_FILE
        if not path.exists():
            log.info("building the sentence embedder for %s into %s (once)", self.base, folder)
            build(folder, self.base)
        return path

    def load(self) -> None:
        """Load the tokenizer and the ONNX session now (idempotent)."""
        with self._lock:
            if self._backend is not None:
                return
            from models.inference import FastTokenizer

            self._tok = FastTokenizer(self._src, self.max_length)
            self._backend = OnnxBackend(self._onnx_file(), threads=self.threads,
                                        embeddings=base_embeddings(self._src))

    def embed(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32 unit vectors, in input order (batches are length-sorted)."""
        self.load()
        assert self._backend is not None
        ids = self._tok(texts)
        if not ids:
            return np.zeros((0, 0), dtype=np.float32)
        rows: list[np.ndarray] = [np.empty(0, dtype=np.float32)] * len(ids)
        for part, batch, mask in length_batches(ids, self.batch_size, self._tok.pad_token_id):
            for row, vec in zip(part, self._backend.logits(batch, mask), strict=True):
                rows[row] = vec
        return np.stack(rows).astype(np.float32, copy=False)
