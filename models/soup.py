"""Model soups: average the weights of runs fine-tuned from the same starting point.

Runs that start from the same encoder and differ only in their seed usually stay in one
basin, so their averaged weights score like an ensemble at the cost of one model
(Wortsman et al., "Model soups", ICML 2022). The greedy recipe adds a run only when the dev
folds say it helps; validation is never consulted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from models.artifact import load_artifact, read_meta, save_artifact
from models.train import TrainSettings, evaluate_dev, load_tasks, report_scores


def _state(folder: Path) -> dict[str, torch.Tensor]:
    model, _, _ = load_artifact(folder)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def soup(folders: Sequence[Path], out: Path, *, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Greedy soup of the artifacts in ``folders`` (best dev criterion first), written to ``out``.

    Every folder must hold an artifact of the same base and heads. Returns the written meta.
    Raises ValueError when the artifacts do not match.
    """
    metas = [read_meta(f) for f in folders]
    if len({json.dumps(m["heads"], sort_keys=True) for m in metas}) != 1 or len({m["base_model"] for m in metas}) != 1:
        raise ValueError("the runs to average must share their base model and heads")
    order = sorted(range(len(folders)), key=lambda i: -metas[i]["dev"]["criterion"])
    settings = TrainSettings(**metas[order[0]]["settings"])
    model, tok, _ = load_artifact(folders[order[0]])
    tasks, report = load_tasks(settings, tok)
    pad_id = tok.pad_token_id or 0
    states = {i: _state(folders[i]) for i in order}
    picked = [order[0]]
    best = evaluate_dev(model, tasks, pad_id)
    log(f"{folders[order[0]]}: dev criterion {best['criterion']:.4f}")
    for i in order[1:]:
        trial = [*picked, i]
        avg = {k: sum(states[j][k] for j in trial) / len(trial) for k in states[order[0]]}
        model.load_state_dict(avg)
        dev = evaluate_dev(model, tasks, pad_id)
        log(f"+ {folders[i]}: dev criterion {dev['criterion']:.4f}")
        if dev["criterion"] > best["criterion"]:
            picked, best = trial, dev
    model.load_state_dict({k: sum(states[j][k] for j in picked) / len(picked) for k in states[order[0]]})
    rep = report_scores(model, tok, report, settings.max_length, pad_id)
    meta = {k: v for k, v in metas[order[0]].items() if k not in {"format", "frozen", "version", "history"}}
    meta.update({"dev": best, "val": rep.get("sentiment"), "report": rep, "weights": "soup",
                 "soup": [{"folder": str(folders[j]), "version": metas[j]["version"],
                           "seed": metas[j]["settings"]["seed"], "dev_criterion": metas[j]["dev"]["criterion"]}
                          for j in picked],
                 "histories": {metas[j]["version"]: metas[j].get("history", []) for j in order}})
    frozen = metas[order[0]].get("frozen", [])
    meta["version"] = save_artifact(model, out, meta, frozen)
    log(f"soup of {len(picked)} run(s) -> {out} ({meta['version']}): dev criterion {best['criterion']:.4f}")
    return meta
