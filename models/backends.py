"""Inference backends: plain torch, and an ONNX Runtime session built once per model version.

Both take padded ``input_ids``/``attention_mask`` arrays and return float32 logits. torch is
imported only by the torch backend and the export, so the ONNX path runs without it.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_CACHE = Path("~/.cache/brand-monitor")


def usable_cores() -> int:
    """Return how many CPU cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def cache_dir(configured: str | os.PathLike[str] | None = None) -> Path:
    """Return the ONNX cache folder: ``configured``, else $BRAND_MONITOR_CACHE, else ~/.cache/brand-monitor."""
    raw = configured or os.environ.get("BRAND_MONITOR_CACHE") or DEFAULT_CACHE
    return Path(raw).expanduser() / "onnx"


class TorchBackend:
    """Runs the torch model on CPU or CUDA."""

    name = "torch"

    def __init__(self, model: Any, device: str = "cpu") -> None:
        import torch

        self.torch = torch
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()

    def logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Return float32 logits of shape (batch, classes)."""
        torch = self.torch
        with torch.inference_mode():
            out = self.model(input_ids=torch.from_numpy(ids).to(self.device),
                             attention_mask=torch.from_numpy(mask).to(self.device))
        out = getattr(out, "logits", out)  # a Hugging Face output, or our multi-task model's tensor
        return out.float().cpu().numpy()


PRECISIONS = ("int8", "int8-mixed", "fp32")
"""ONNX builds, fastest first: every MatMul int8 (per-channel weights, dynamic activations);
int8 except the feed-forward output MatMul of the first half of the layers (their GELU
activations have outliers, and errors there travel through every later layer); plain fp32."""

_LAYER = re.compile(r"layers?\.(\d+)/")


def _quantize(src: Path, dst: Path, precision: str) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    exclude: list[str] = []
    if precision == "int8-mixed":
        graph = onnx.load(str(src), load_external_data=False).graph
        ffn_out = {n.name: int(m.group(1)) for n in graph.node
                   if n.op_type == "MatMul" and "/output/dense/" in n.name and "/attention/" not in n.name
                   and (m := _LAYER.search(n.name))}
        if ffn_out:
            half = (max(ffn_out.values()) + 1) // 2
            exclude = [name for name, layer in ffn_out.items() if layer < half]
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul"], nodes_to_exclude=exclude)


EMBEDDINGS_INPUT = "word_embeddings"
"""Name of the graph input that carries the word-embedding matrix in a shipped ONNX file."""


def _embeddings_as_input(path: Path, initializer: str) -> None:
    """Turn the initializer ``initializer`` (the word-embedding matrix) into the graph input
    :data:`EMBEDDINGS_INPUT`, so the file does not carry it (it is read from the base model
    at load time): the shipped file stays small and the embeddings stay exact fp32."""
    import onnx
    from onnx import helper

    m = onnx.load(str(path))
    init = next((t for t in m.graph.initializer if t.name == initializer), None)
    if init is None:
        raise ValueError(f"{path}: no initializer {initializer!r} to move out of the graph")
    m.graph.initializer.remove(init)
    m.graph.input.append(helper.make_tensor_value_info(EMBEDDINGS_INPUT, init.data_type, list(init.dims)))
    for node in m.graph.node:
        for i, name in enumerate(node.input):
            if name == initializer:
                node.input[i] = EMBEDDINGS_INPUT
    onnx.save(m, str(path))


def export_onnx(model: Any, path: Path, *, precision: str = "fp32", embeddings: str | None = None) -> Path:
    """Export ``model`` to ONNX at ``path`` in ``precision`` (one of PRECISIONS); return path.

    Exported with eager attention (a plain graph ONNX Runtime optimises well), written to a
    temporary file first and renamed, so a crash never leaves a half-built model in the
    cache. With ``embeddings`` (the state-dict name of the word-embedding matrix) the matrix
    becomes the graph input :data:`EMBEDDINGS_INPUT` instead of being stored in the file.
    Raises ValueError for an unknown precision, else whatever torch.onnx or onnxruntime raise.
    """
    import torch

    if precision not in PRECISIONS:
        raise ValueError(f"ONNX precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.to("cpu").eval()
    attn = model.config._attn_implementation
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    mask[1, 9:] = 0  # a padded row, so the traced graph keeps the attention-mask path
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        fp32 = Path(tmp) / "model.onnx"
        try:
            model.set_attn_implementation("eager")
            with torch.inference_mode(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tracer notes about constant shapes; checked by tests
                torch.onnx.export(
                    model, (ids, mask), str(fp32), dynamo=False, opset_version=17,
                    input_names=["input_ids", "attention_mask"], output_names=["logits"],
                    dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                  "logits": {0: "batch"}},
                )
        finally:
            model.set_attn_implementation(attn)
        if embeddings:
            _embeddings_as_input(fp32, embeddings)
        final = fp32
        if precision != "fp32":
            final = Path(tmp) / "model.int8.onnx"
            _quantize(fp32, final, precision)
        os.replace(final, path)
    return path


def base_embeddings(base_folder: str | Path, name: str = "embeddings.word_embeddings.weight") -> np.ndarray:
    """The base model's word-embedding matrix, read from its ``model.safetensors`` without torch.

    Read once per process and shared, read-only (the sentiment model and the escalation rules'
    sentence embedder use the same base model: one 45 MiB copy, not two). Raises
    FileNotFoundError or KeyError when the base model does not hold it.
    """
    return _base_embeddings(str(Path(base_folder).resolve()), name)


@functools.lru_cache(maxsize=4)
def _base_embeddings(base_folder: str, name: str) -> np.ndarray:
    from safetensors import safe_open

    with safe_open(str(Path(base_folder) / "model.safetensors"), framework="np") as f:
        key = next((k for k in f.keys() if k.endswith(name)), None)  # noqa: SIM118 (safe_open is not iterable)
        if key is None:
            raise KeyError(f"{base_folder}: no {name} in model.safetensors")
        matrix = np.ascontiguousarray(f.get_tensor(key), dtype=np.float32)
    matrix.flags.writeable = False
    return matrix


def length_batches(ids: list[list[int]], batch_size: int, pad_id: int) -> Iterator[tuple[np.ndarray, np.ndarray,
                                                                                        np.ndarray]]:
    """``(rows, input_ids, attention_mask)`` per batch of ``ids``, grouped by length so little is padding:
    ``rows`` are the positions in ``ids`` the batch holds (write the outputs back there)."""
    order = np.argsort([len(x) for x in ids], kind="stable")
    for start in range(0, len(order), batch_size):
        part = order[start : start + batch_size]
        width = max(len(ids[i]) for i in part)
        batch = np.full((len(part), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(part), width), dtype=np.int64)
        for row, i in enumerate(part):
            batch[row, : len(ids[i])] = ids[i]
            mask[row, : len(ids[i])] = 1
        yield part, batch, mask


class OnnxBackend:
    """Runs an ONNX Runtime CPU session; ``threads`` defaults to the usable cores.

    A graph that takes the word embeddings as an input (:data:`EMBEDDINGS_INPUT`) is given
    ``embeddings`` on every run (the array is wrapped, not copied).
    """

    name = "onnx"

    def __init__(self, path: Path, threads: int | None = None, embeddings: np.ndarray | None = None) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or usable_cores()
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        self.path = path
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.extra: dict[str, np.ndarray] = {}
        if EMBEDDINGS_INPUT in {i.name for i in self.session.get_inputs()}:
            if embeddings is None:
                raise ValueError(f"{path} takes the word embeddings as input; pass them")
            self.extra[EMBEDDINGS_INPUT] = np.ascontiguousarray(embeddings, dtype=np.float32)

    def logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Return float32 logits of shape (batch, classes)."""
        out = self.session.run(["logits"], {"input_ids": ids, "attention_mask": mask, **self.extra})[0]
        return np.asarray(out, dtype=np.float32)


def onnx_backend(model: Any, key: str, *, precision: str, cache: Path) -> OnnxBackend:
    """Return an ONNX backend for ``model``, exporting it into ``cache`` under ``key`` if not there yet.

    Raises on export or session failure; callers fall back to torch.
    """
    path = cache / f"{key}-{precision}.onnx"
    if not path.exists():
        log.info("building ONNX model %s (once per model version)", path)
        export_onnx(model, path, precision=precision)
    return OnnxBackend(path)
