"""Task-adaptive pretraining (TAPT): continue masked-language-model training on in-domain tweets.

all-MiniLM-L6-v2 was last trained with a sentence-similarity objective on general web text;
a few thousand MLM steps on tweets (Gururangan et al., "Don't Stop Pretraining", ACL 2020)
adapt its token representations to tweet language before fine-tuning. The word-embedding
matrix stays frozen (and the MLM decoder is tied to it), so the fine-tuned artifact can still
re-attach the embeddings from the installed package and stay small.

The run checkpoints every ``save_every`` steps (model, optimiser, schedule, RNG and data order)
and resumes from the checkpoint when started again with the same ``out``; the result is an
encoder folder (``encoder.safetensors`` + ``pretrain.json``) that ``monitor train --init-from``
starts from.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from models.artifact import DEFAULT_BASE, offline_env, resolve_base
from models.data import preprocess, shared_data_dir

ENCODER = "encoder.safetensors"
INFO = "pretrain.json"
CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True)
class PretrainSettings:
    """Everything that determines a TAPT run (stored in ``pretrain.json``)."""

    out: str
    base_model: str = DEFAULT_BASE
    epochs: float = 1.0
    lr: float = 1e-4
    batch_size: int = 64
    max_length: int = 64
    mask_prob: float = 0.15
    warmup: float = 0.06
    weight_decay: float = 0.01
    seed: int = 13
    heldout: int = 2000
    save_every: int = 200
    threads: int | None = None
    limit: int | None = None


def tweet_corpus(data_dir: Path | None = None, extra: Sequence[str] = ()) -> list[str]:
    """Return the deduplicated training tweets of every TweetEval task in ``data_dir`` plus ``extra``.

    Only ``train_text.txt`` files are read: validation splits stay unseen. Order is fixed
    (sorted folders, file order), so a run is reproducible. Raises FileNotFoundError when
    no TweetEval folder is found.
    """
    root = data_dir or shared_data_dir()
    files = sorted(root.glob("tweeteval_*/train_text.txt")) + sorted(root.glob("tweeteval_*/*/train_text.txt"))
    if not files:
        raise FileNotFoundError(f"{root}: no tweeteval_*/train_text.txt files (expected ../shared/data)")
    seen: set[str] = set()
    out: list[str] = []
    for f in files:
        for line in [*f.read_text(encoding="utf-8").split("\n"), *extra]:
            t = line.strip()
            if t and t not in seen:
                seen.add(t)
                out.append(t)
    return out


def mask_tokens(ids: torch.Tensor, attention: torch.Tensor, special: torch.Tensor, tok_mask_id: int,
                vocab_size: int, prob: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(inputs, labels)`` for BERT-style masking (80% [MASK], 10% random, 10% kept).

    ``special`` marks tokens never masked ([CLS], [SEP], padding); labels are -100 elsewhere.
    """
    labels = ids.clone()
    choose = (torch.rand(ids.shape, generator=gen) < prob) & attention.bool() & ~special
    labels[~choose] = -100
    inputs = ids.clone()
    replace = choose & (torch.rand(ids.shape, generator=gen) < 0.8)
    inputs[replace] = tok_mask_id
    randomise = choose & ~replace & (torch.rand(ids.shape, generator=gen) < 0.5)
    inputs[randomise] = torch.randint(vocab_size, ids.shape, generator=gen)[randomise]
    return inputs, labels


def mlm_loss(model: Any, inputs: torch.Tensor, attention: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Return the MLM cross-entropy, projecting onto the vocabulary only at the masked positions.

    ``BertForMaskedLM`` would project every position (batch x length x 30,522), which is most of
    the compute on a CPU; only about 15% of positions carry a label.
    """
    hidden = model.bert(input_ids=inputs, attention_mask=attention).last_hidden_state
    picked = labels != -100
    logits = model.cls(hidden[picked])
    return torch.nn.functional.cross_entropy(logits, labels[picked])


def _load_mlm(base: str) -> tuple[Any, Any]:
    offline_env()
    from transformers import AutoTokenizer, BertForMaskedLM
    from transformers.utils import logging as hf_logging

    src = resolve_base(base)
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the MLM head is new for a sentence-transformers base
    try:
        model = BertForMaskedLM.from_pretrained(src, local_files_only=True)
        tok = AutoTokenizer.from_pretrained(src, local_files_only=True)
    finally:
        hf_logging.set_verbosity(level)
    model.tie_weights()
    return model, tok


def _batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    from models.train import length_grouped_batches

    return length_grouped_batches(lengths, batch_size, rng)


@torch.no_grad()
def heldout_loss(model: Any, seqs: list[list[int]], special_ids: set[int], mask_id: int, prob: float,
                 batch_size: int = 128) -> float:
    """Return the mean MLM loss on ``seqs`` with a fixed masking (seed 0), so checks are comparable."""
    from models.train import pad

    model.eval()
    gen = torch.Generator().manual_seed(0)
    total, count = 0.0, 0
    for start in range(0, len(seqs), batch_size):
        ids, att = pad(seqs[start : start + batch_size], 0)
        special = torch.isin(ids, torch.tensor(sorted(special_ids)))
        inputs, labels = mask_tokens(ids, att, special, mask_id, model.config.vocab_size, prob, gen)
        n = int((labels != -100).sum())
        if n:
            total += float(mlm_loss(model, inputs, att, labels)) * n
            count += n
    return total / max(count, 1)


def _save_encoder(model: Any, out: Path, info: dict[str, Any]) -> None:
    from safetensors.torch import save_file

    emb_key = "embeddings.word_embeddings.weight"
    state = {k: v.detach().contiguous() for k, v in model.bert.state_dict().items()
             if k != emb_key and v.is_floating_point()}
    tmp = out / (ENCODER + ".tmp")
    save_file(state, str(tmp), metadata={"format": "pt"})
    os.replace(tmp, out / ENCODER)
    tmp_i = out / (INFO + ".tmp")
    tmp_i.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp_i, out / INFO)


def pretrain(s: PretrainSettings, texts: Sequence[str] | None = None,
             log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run (or resume) TAPT per ``s``; write the encoder into ``s.out`` and return its info dict.

    ``texts`` defaults to :func:`tweet_corpus`. Raises ModelLoadError if the base cannot be
    loaded offline, FileNotFoundError when there is no corpus.
    """
    from models.train import pad

    if s.threads:
        torch.set_num_threads(s.threads)
    out = Path(s.out)
    out.mkdir(parents=True, exist_ok=True)
    corpus = list(texts if texts is not None else tweet_corpus())
    random.Random(s.seed).shuffle(corpus)
    if s.limit:
        corpus = corpus[: s.limit]
    n_held = min(s.heldout, max(1, len(corpus) // 5))
    held, train_texts = corpus[:n_held], corpus[n_held:]
    model, tok = _load_mlm(s.base_model)
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)

    def encode(batch: Sequence[str]) -> list[list[int]]:
        clean = [preprocess(t, slang=False) for t in batch]
        return list(tok(clean, truncation=True, max_length=s.max_length)["input_ids"])

    tr_ids, held_ids = encode(train_texts), encode(held)
    special_ids = {tok.cls_token_id, tok.sep_token_id, tok.pad_token_id}
    special_tensor = torch.tensor(sorted(special_ids))
    per_epoch = math.ceil(len(tr_ids) / s.batch_size)
    total = max(1, int(per_epoch * s.epochs))
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": s.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=s.lr)
    warm = max(1, int(total * s.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: (k + 1) / warm if k < warm else max(0.0, (total - k) / max(1, total - warm)))
    step, history = 0, []
    gen = torch.Generator().manual_seed(s.seed)
    ckpt = out / CHECKPOINT
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        if state["settings"] != asdict(s):
            raise ValueError(f"{ckpt}: checkpoint from other settings; delete it or use another --out")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        gen.set_state(state["gen"])
        step, history = state["step"], state["history"]
        log(f"resuming at step {step}/{total}")
    else:
        history.append({"step": 0, "heldout_loss": heldout_loss(model, held_ids, special_ids, tok.mask_token_id,
                                                                 s.mask_prob)})
        log(f"held-out MLM loss before: {history[0]['heldout_loss']:.4f}")
    t0, ema = time.time(), None
    epoch = step // per_epoch
    while step < total:
        order = _batches([len(x) for x in tr_ids], s.batch_size, random.Random(s.seed + epoch))
        for batch in order[step - epoch * per_epoch :]:
            model.train()
            ids, att = pad([tr_ids[i] for i in batch], tok.pad_token_id or 0)
            inputs, labels = mask_tokens(ids, att, torch.isin(ids, special_tensor), tok.mask_token_id,
                                         model.config.vocab_size, s.mask_prob, gen)
            loss = mlm_loss(model, inputs, att, labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            value = float(loss.detach())
            ema = value if ema is None else 0.98 * ema + 0.02 * value
            if step % s.save_every == 0 or step == total:
                h = heldout_loss(model, held_ids, special_ids, tok.mask_token_id, s.mask_prob)
                history.append({"step": step, "train_loss": ema, "heldout_loss": h})
                log(f"step {step}/{total} train loss {ema:.4f} held-out {h:.4f} ({time.time() - t0:.0f}s)")
                tmp = out / (CHECKPOINT + ".tmp")
                torch.save({"settings": asdict(s), "model": model.state_dict(), "opt": opt.state_dict(),
                            "sched": sched.state_dict(), "gen": gen.get_state(), "step": step,
                            "history": history}, tmp)
                os.replace(tmp, ckpt)
            if step >= total:
                break
        epoch += 1
    info = {"settings": asdict(s), "corpus_size": len(corpus), "steps": total, "history": history,
            "heldout_loss_before": history[0]["heldout_loss"], "heldout_loss_after": history[-1]["heldout_loss"]}
    _save_encoder(model, out, info)
    log(f"encoder written to {out / ENCODER}")
    return info


def load_encoder_into(model: Any, folder: Path) -> int:
    """Copy a TAPT encoder from ``folder`` into a sequence classifier's base model; return the tensor count.

    Raises FileNotFoundError when the folder holds no encoder, ValueError when it does not fit.
    """
    from safetensors.torch import load_file

    path = Path(folder) / ENCODER
    if not path.exists():
        raise FileNotFoundError(f"{folder}: no {ENCODER}; run `monitor pretrain --out {folder}` first")
    state = load_file(str(path))
    base = model.base_model
    missing, unexpected = base.load_state_dict(state, strict=False)
    if unexpected or [k for k in missing if k != "embeddings.word_embeddings.weight" and "pooler" not in k]:
        raise ValueError(f"{path} does not fit this base model ({len(missing)} missing, {len(unexpected)} unexpected)")
    return len(state)


if __name__ == "__main__":  # python -m models.pretrain OUT [EPOCHS] [THREADS]
    import sys

    args = sys.argv[1:]
    result = pretrain(PretrainSettings(out=args[0], epochs=float(args[1]) if len(args) > 1 else 1.0,
                                       threads=int(args[2]) if len(args) > 2 else 1))
    print(json.dumps({k: v for k, v in result.items() if k != "history"}, indent=2))
