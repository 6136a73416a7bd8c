"""Multi-task fine-tuning: one encoder, a head per task, selected on folds of the training data.

Tasks (each optional but ``sentiment``): ``sentiment`` (TweetEval or any text,label file),
``brand`` (the brand-directed CrowdFlower sets) and ``emotion`` (TweetEval emotion). Each step
trains one task's batch; tasks are drawn with probability proportional to their size to the
power 0.7, so the small sets are seen more often than their share without dominating.

*Auxiliary* tasks (``auxiliary``, e.g. ``emoji,irony``: TweetEval-layout folders under
``../shared/data/tweeteval_other``) train the shared encoder through a head of their own that
is not kept: predicting the emoji a tweet was written with is distant supervision for its
sentiment (Felbo et al., "DeepMoji", EMNLP 2017), irony for sarcasm. They are never part of the
selection criterion, and the artifact holds the same heads as without them.

Selection never looks at the validation split: a fixed tenth of each task's training rows
(chosen by a hash of the text) is held out as its dev fold, and the checkpoint kept is the
one with the best mean dev macro-recall over the sentiment and brand heads, among the raw
weights and an exponential moving average of them (Polyak averaging). Validation is scored at
every check and kept in the history for the model card, and nothing is chosen by it.

The run writes the best artifact to ``out`` at every improvement and a resumable checkpoint
(weights, averaged weights, optimiser, schedule, random state, data order) to
``out/checkpoint.pt`` at every check: start the same command again and it continues.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from models.artifact import DEFAULT_BASE, default_artifact_dir, save_artifact
from models.data import EMOTIONS, LABELS, brand_split, preprocess, read_labelled, read_task, shared_data_dir
from models.heads import HeadSpec
from models.metrics import scores
from models.multitask import MultiTaskModel, build, word_embedding_key

CHECKPOINT = "checkpoint.pt"
TASK_POWER = 0.7
EMA_DECAY = 0.998
PRIMARY = "brand"


@dataclass(frozen=True)
class TrainSettings:
    """Everything that determines a training run (stored in the artifact's meta.json)."""

    train_file: str
    val_file: str
    base_model: str = DEFAULT_BASE
    out: str = field(default_factory=lambda: str(default_artifact_dir()))
    init_from: str | None = None
    """A `monitor pretrain` folder whose encoder replaces the base's before fine-tuning."""
    brand_data: str | None = "default"
    """Folder of the brand-directed sets; "default" = ../shared/data/brand_sentiment; None = no brand head."""
    emotion_data: str | None = "default"
    """TweetEval-layout emotion folder; "default" = ../shared/data/tweeteval_other/emotion; None = no head."""
    epochs: float = 3.0
    lr: float = 8e-5
    batch_size: int = 32
    max_length: int = 64
    seed: int = 13
    limit: int | None = None
    warmup: float = 0.06
    weight_decay: float = 0.01
    class_weights: str = "none"
    """Loss weights of the sentiment head: none, sqrt or balanced (brand and emotion always use sqrt)."""
    dev_fraction: float = 0.1
    evals_per_epoch: int = 3
    freeze_embeddings: bool = True
    threads: int | None = None
    auxiliary: str = ""
    """Comma-separated TweetEval task folders under ../shared/data/tweeteval_other trained as heads not kept."""
    auxiliary_limit: int | None = None
    """At most this many training rows per auxiliary task (drawn with the seed)."""

    def auxiliary_tasks(self) -> list[str]:
        return [a.strip() for a in self.auxiliary.split(",") if a.strip()]


@dataclass
class Task:
    """One task's data: train rows as token ids, dev rows for selection, and its loss."""

    name: str
    train_ids: list[list[int]]
    train_y: torch.Tensor
    dev_ids: list[list[int]]
    dev_y: np.ndarray
    weights: torch.Tensor | None
    labels: tuple[str, ...] = LABELS
    batches: list[list[int]] = field(default_factory=list)
    cursor: int = 0
    passes: int = 0


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def encode(tok: Any, texts: list[str], max_length: int) -> list[list[int]]:
    """Return token ids per text (preprocessed, truncated to ``max_length``, no padding).

    The slang step is inference-only (17 of the 45,615 TweetEval training tweets match it).
    """
    enc = tok([preprocess(t, slang=False) for t in texts], truncation=True, max_length=max_length)
    return list(enc["input_ids"])


def pad(seqs: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(input_ids, attention_mask)`` padded to the longest sequence in ``seqs``."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    return ids, mask


def length_grouped_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Return shuffled batches of indices whose members have similar lengths (less padding).

    Indices are shuffled, cut into pools of 50 batches, sorted by length within each pool,
    split into batches, and the batches shuffled again.
    """
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    pool = batch_size * 50
    batches = []
    for start in range(0, len(idx), pool):
        chunk = sorted(idx[start : start + pool], key=lambda i: lengths[i])
        batches += [chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def in_dev_fold(text: str, fraction: float) -> bool:
    """Whether ``text`` belongs to its task's dev fold: a stable hash, so reruns agree."""
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], 16) % 1000 < fraction * 1000


def class_weights(kind: str, labels: list[int], n: int) -> torch.Tensor | None:
    """Loss weights from inverse class frequency (``sqrt`` or ``balanced``), mean 1; None for ``none``."""
    if kind == "none":
        return None
    counts = np.bincount(labels, minlength=n).astype(float)
    w = counts.sum() / (n * np.maximum(counts, 1))
    if kind == "sqrt":
        w = np.sqrt(w)
    elif kind != "balanced":
        raise ValueError(f"class_weights {kind!r}: use none, sqrt or balanced")
    return torch.tensor(w / w.mean(), dtype=torch.float32)


@torch.no_grad()
def predict_logits(model: MultiTaskModel, head: str, seqs: list[list[int]], pad_id: int,
                   batch_size: int = 128) -> np.ndarray:
    """Return ``head``'s logits for token-id sequences (length-sorted batches, input order kept)."""
    model.eval()
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    out = np.zeros((len(seqs), len(model.spec.labels(head))), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        part = order[start : start + batch_size]
        ids, mask = pad([seqs[i] for i in part], pad_id)
        out[part] = model(ids, mask, head=head).float().numpy()
    return out


def _split_dev(texts: list[str], labels: list[int], fraction: float) -> tuple[list[int], list[int]]:
    dev = [i for i, t in enumerate(texts) if in_dev_fold(t, fraction)]
    dev_set = set(dev)
    return [i for i in range(len(texts)) if i not in dev_set], dev


def _resolve(setting: str | None, default: Path) -> Path | None:
    if setting is None or setting.lower() == "none":
        return None
    return default if setting == "default" else Path(setting).expanduser()


def load_tasks(s: TrainSettings, tok: Any) -> tuple[dict[str, Task], dict[str, tuple[list[str], list[int]]]]:
    """The tasks' train and dev data, and the report sets (validation and the brand test split).

    Raises FileNotFoundError or ValueError for unusable data.
    """
    rng = random.Random(s.seed)
    raw: dict[str, tuple[list[str], list[int], list[str], list[int]]] = {}
    texts, labels = read_labelled(s.train_file, "train")
    tr, dev = _split_dev(texts, labels, s.dev_fraction)
    raw["sentiment"] = ([texts[i] for i in tr], [labels[i] for i in tr], [texts[i] for i in dev],
                        [labels[i] for i in dev])
    report: dict[str, tuple[list[str], list[int]]] = {"sentiment": read_labelled(s.val_file, "val")}
    brand_dir = _resolve(s.brand_data, shared_data_dir() / "brand_sentiment")
    if brand_dir is not None:
        raw["brand"] = (*brand_split("train", brand_dir), *brand_split("dev", brand_dir))
        report["brand"] = brand_split("test", brand_dir)
    emotion_dir = _resolve(s.emotion_data, shared_data_dir() / "tweeteval_other" / "emotion")
    if emotion_dir is not None:
        texts, labels = read_task(emotion_dir, "train", len(EMOTIONS))
        tr, dev = _split_dev(texts, labels, s.dev_fraction)
        raw["emotion"] = ([texts[i] for i in tr], [labels[i] for i in tr], [texts[i] for i in dev],
                          [labels[i] for i in dev])
        report["emotion"] = read_task(emotion_dir, "val", len(EMOTIONS))
    names = {"sentiment": LABELS, "brand": LABELS, "emotion": EMOTIONS}
    for aux in s.auxiliary_tasks():
        if aux in names:
            raise ValueError(f"auxiliary task {aux!r} is already a main task; name another")
        folder = shared_data_dir() / "tweeteval_other" / aux
        names[aux] = auxiliary_labels(folder)
        texts, labels = read_task(folder, "train", len(names[aux]))
        if s.auxiliary_limit and len(texts) > s.auxiliary_limit:
            pick = sorted(rng.sample(range(len(texts)), s.auxiliary_limit))
            texts, labels = [texts[i] for i in pick], [labels[i] for i in pick]
        tr, dev = _split_dev(texts, labels, s.dev_fraction)
        raw[aux] = ([texts[i] for i in tr], [labels[i] for i in tr], [texts[i] for i in dev],
                    [labels[i] for i in dev])
    tasks: dict[str, Task] = {}
    for name, (tt, ty, dt, dy) in raw.items():
        if s.limit:
            pick = rng.sample(range(len(tt)), min(s.limit, len(tt)))
            tt, ty = [tt[i] for i in pick], [ty[i] for i in pick]
            dt, dy = dt[: max(s.limit // 4, 16)], dy[: max(s.limit // 4, 16)]
        kind = s.class_weights if name == "sentiment" else "sqrt"
        tasks[name] = Task(name, encode(tok, tt, s.max_length), torch.tensor(ty), encode(tok, dt, s.max_length),
                           np.asarray(dy), class_weights(kind, ty, len(names[name])), names[name])
    if s.limit:
        report = {k: (t[: max(s.limit, 32)], y[: max(s.limit, 32)]) for k, (t, y) in report.items()}
    return tasks, report


KEPT = (PRIMARY, "sentiment", "emotion")
"""The heads an artifact keeps, in this order; any other task is auxiliary."""


def auxiliary_labels(folder: Path) -> tuple[str, ...]:
    """Class names of a TweetEval-layout task from its ``mapping.txt`` (``id<TAB>name...``).

    Raises FileNotFoundError when there is none (no such task folder).
    """
    mapping = folder / "mapping.txt"
    if not mapping.exists():
        raise FileNotFoundError(f"{folder}: no mapping.txt (TweetEval layout); is the task name right?")
    rows = [line.split("\t") for line in mapping.read_text(encoding="utf-8").splitlines() if line.strip()]
    return tuple((r[2] if len(r) > 2 and r[2].strip() else r[1]).strip() for r in rows)


def head_spec(tasks: dict[str, Task], *, kept_only: bool = False) -> HeadSpec:
    """The heads for these tasks, the primary (brand, when trained) first, auxiliary ones last
    (left out with ``kept_only``: what the artifact holds)."""
    order = [n for n in KEPT if n in tasks] + ([] if kept_only else [n for n in tasks if n not in KEPT])
    return HeadSpec(tuple((n, tasks[n].labels) for n in order))


def _task_metric(y: np.ndarray, logits: np.ndarray) -> dict[str, float]:
    """Scores of a head's logits: its classes are the logits' columns."""
    return scores(y, logits.argmax(1), logits.shape[1])


def evaluate_dev(model: MultiTaskModel, tasks: dict[str, Task], pad_id: int) -> dict[str, Any]:
    """Dev-fold scores per kept task and the selection criterion (mean macro-recall of sentiment and brand)."""
    out: dict[str, Any] = {name: _task_metric(t.dev_y, predict_logits(model, name, t.dev_ids, pad_id))
                           for name, t in tasks.items() if name in KEPT}
    picked = [out[n]["macro_recall"] for n in ("sentiment", PRIMARY) if n in out]
    out["criterion"] = float(np.mean(picked))
    return out


def _optimizer(model: torch.nn.Module, s: TrainSettings, total: int) -> tuple[Any, Any]:
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim < 2 else decay).append(p)
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": s.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=s.lr)
    warm = max(1, int(total * s.warmup))

    def factor(step: int) -> float:
        return (step + 1) / warm if step < warm else max(0.0, (total - step) / max(1, total - warm))

    return opt, torch.optim.lr_scheduler.LambdaLR(opt, factor)


class Averaged:
    """An exponential moving average of a model's trainable weights (swapped in to evaluate or save)."""

    def __init__(self, model: torch.nn.Module, decay: float = EMA_DECAY) -> None:
        self.decay = decay
        self.shadow = {k: p.detach().clone() for k, p in model.named_parameters() if p.requires_grad}

    @torch.no_grad()
    def update(self, model: torch.nn.Module, step: int) -> None:
        d = min(self.decay, (1 + step) / (10 + step))  # short warm-up, as in TensorFlow's EMA
        for k, p in model.named_parameters():
            if k in self.shadow:
                self.shadow[k].mul_(d).add_(p.detach(), alpha=1 - d)

    @torch.no_grad()
    def swap(self, model: torch.nn.Module) -> None:
        """Exchange the model's weights with the averaged ones (call twice to swap back)."""
        for k, p in model.named_parameters():
            if k in self.shadow:
                tmp = p.detach().clone()
                p.copy_(self.shadow[k])
                self.shadow[k].copy_(tmp)


def _next_batch(task: Task, batch_size: int, seed: int) -> list[int]:
    if task.cursor >= len(task.batches):
        task.batches = length_grouped_batches([len(x) for x in task.train_ids], batch_size,
                                              random.Random(f"{seed}:{task.name}:{task.passes}"))
        task.cursor = 0
        task.passes += 1
    batch = task.batches[task.cursor]
    task.cursor += 1
    return batch


def report_scores(model: MultiTaskModel, tok: Any, report: dict[str, tuple[list[str], list[int]]],
                  max_length: int, pad_id: int) -> dict[str, dict[str, float]]:
    """Scores on the report sets (validation, the brand test split): for the record, never for choosing."""
    return {name: _task_metric(np.asarray(y), predict_logits(model, name, encode(tok, t, max_length), pad_id))
            for name, (t, y) in report.items()}


def train(s: TrainSettings, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Fine-tune per ``s`` (resuming ``s.out/checkpoint.pt`` when present); write the best artifact
    to ``s.out`` and return its meta dict.

    Raises ModelLoadError if the base cannot be loaded offline, FileNotFoundError or ValueError
    for unusable data, ValueError for a checkpoint written with other settings.
    """
    if s.threads:
        torch.set_num_threads(s.threads)
    set_seed(s.seed)
    from transformers import AutoTokenizer

    from models.artifact import resolve_base

    tasks, report = load_tasks(s, AutoTokenizer.from_pretrained(resolve_base(s.base_model), local_files_only=True))
    spec = head_spec(tasks)
    kept = head_spec(tasks, kept_only=True)
    model, tok = build(s.base_model, spec)
    if s.init_from:
        from models.pretrain import load_encoder_into

        log(f"encoder from {s.init_from}: {load_encoder_into(model.encoder, Path(s.init_from))} tensors")
    frozen: list[str] = []
    if s.freeze_embeddings:
        model.encoder.get_input_embeddings().weight.requires_grad_(False)
        frozen = [word_embedding_key(model)]
    pad_id = tok.pad_token_id or 0
    sizes = {n: len(t.train_ids) for n, t in tasks.items()}
    names = list(tasks)
    probs = np.asarray([sizes[n] ** TASK_POWER for n in names])
    probs = probs / probs.sum()
    per_epoch = math.ceil(sum(sizes.values()) / s.batch_size)
    total = max(1, int(per_epoch * s.epochs))
    every = max(1, per_epoch // max(1, s.evals_per_epoch))
    opt, sched = _optimizer(model, s, total)
    ema = Averaged(model)
    rng = np.random.default_rng(s.seed)
    best: dict[str, Any] = {"dev": {"criterion": -1.0}}
    history: list[dict[str, Any]] = []
    step, smooth = 0, None
    out = Path(s.out)
    ckpt = out / CHECKPOINT
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        if state["settings"] != asdict(s):
            raise ValueError(f"{ckpt}: a checkpoint of a run with other settings; delete it or use another --out")
        model.load_state_dict(state["model"])
        ema.shadow = state["ema"]
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        for name, (cursor, passes) in state["tasks"].items():
            tasks[name].passes = passes - 1
            _next_batch(tasks[name], s.batch_size, s.seed)  # rebuild that pass's batches
            tasks[name].cursor = cursor
        step, best, history = state["step"], state["best"], state["history"]
        log(f"resuming at step {step}/{total}")
    loss_fns = {n: torch.nn.CrossEntropyLoss(weight=t.weights) for n, t in tasks.items()}
    t0 = time.time()
    bar = tqdm(total=total, initial=step, desc="train", unit="batch", dynamic_ncols=True)
    while step < total:
        name = names[int(rng.choice(len(names), p=probs))]
        task = tasks[name]
        batch = _next_batch(task, s.batch_size, s.seed)
        model.train()
        ids, mask = pad([task.train_ids[i] for i in batch], pad_id)
        loss = loss_fns[name](model(ids, mask, head=name), task.train_y[batch])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        ema.update(model, step)
        value = float(loss.detach())
        smooth = value if smooth is None else 0.98 * smooth + 0.02 * value
        bar.update(1)
        if step % every == 0 or step == total:
            best = _check(model, ema, tok, tasks, report, s, kept, step, per_epoch, smooth, best, history, frozen,
                          pad_id, t0, log)
            _save_checkpoint(ckpt, s, model, ema, opt, sched, rng, tasks, step, best, history)
    bar.close()
    best["history"] = history
    best["train_seconds"] = round(time.time() - t0, 1)
    if ckpt.exists():
        ckpt.unlink()
    return best


def _check(model: MultiTaskModel, ema: Averaged, tok: Any, tasks: dict[str, Task],
           report: dict[str, tuple[list[str], list[int]]], s: TrainSettings, spec: HeadSpec, step: int,
           per_epoch: int, loss: float | None, best: dict[str, Any], history: list[dict[str, Any]],
           frozen: list[str], pad_id: int, t0: float, log: Callable[[str], None]) -> dict[str, Any]:
    """Score raw and averaged weights on the dev folds (and, for the record, the report sets);
    save the artifact when the dev criterion improves; return the best meta so far."""
    epoch = round(step / per_epoch, 3)
    for variant in ("raw", "averaged"):
        if variant == "averaged":
            ema.swap(model)
        try:
            dev = evaluate_dev(model, tasks, pad_id)
            rep = report_scores(model, tok, report, s.max_length, pad_id)
            history.append({"step": step, "epoch": epoch, "weights": variant, "loss": loss,
                            "dev": dev, "report": rep})
            line = " ".join(f"{n} {dev[n]['macro_recall']:.4f}" for n in tasks if n in dev)
            log(f"step {step} epoch {epoch:.2f} {variant}: dev {line} (criterion {dev['criterion']:.4f}); "
                f"val sentiment macro-recall {rep['sentiment']['macro_recall']:.4f} ({time.time() - t0:.0f}s)")
            if dev["criterion"] > best["dev"]["criterion"]:
                best = _save(model, s, spec, dev, rep, step, epoch, variant, frozen, history)
                log(f"  saved {best['version']}")
        finally:
            if variant == "averaged":
                ema.swap(model)
    return best


def _save(model: MultiTaskModel, s: TrainSettings, spec: HeadSpec, dev: dict[str, Any],
          rep: dict[str, dict[str, float]], step: int, epoch: float, variant: str, frozen: list[str],
          history: list[dict[str, Any]]) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": "minilm-brand" if s.base_model == DEFAULT_BASE else "sentiment",
        "base_model": s.base_model,
        "heads": spec.as_meta(),
        "primary": spec.names[0],
        "pooling": "mean",
        "languages": ["en"],
        "max_length": s.max_length,
        "preprocessing": {"mentions": "@user", "links": "http", "emoji": "names as words",
                          "slang": "phrases as plain words (inference only)"},
        "selected_on": "dev folds of the training data (mean macro-recall of the sentiment and brand heads)",
        "dev": dev,
        "val": rep.get("sentiment"),
        "report": rep,
        "step": step,
        "epoch": epoch,
        "weights": variant,
        "settings": asdict(s),
        "history": history,
    }
    dropped = {f"heads.{n}." for n in model.spec.names if n not in spec.names}  # auxiliary: trained, not kept
    drop = [k for k in model.state_dict() if any(k.startswith(d) for d in dropped)]
    meta["version"] = save_artifact(model, Path(s.out), meta, frozen, drop)
    return meta


def _save_checkpoint(path: Path, s: TrainSettings, model: torch.nn.Module, ema: Averaged, opt: Any, sched: Any,
                     rng: np.random.Generator, tasks: dict[str, Task], step: int, best: dict[str, Any],
                     history: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({"settings": asdict(s), "model": model.state_dict(), "ema": ema.shadow, "opt": opt.state_dict(),
                "sched": sched.state_dict(), "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                "tasks": {n: (t.cursor, t.passes) for n, t in tasks.items()}, "step": step, "best": best,
                "history": history}, tmp)
    os.replace(tmp, path)
