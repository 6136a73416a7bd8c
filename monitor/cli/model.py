"""The model's commands, ``monitor train`` and ``monitor eval``: the CLI over the ``models`` package.

The ``models`` package never reads the database: ``eval --corrections`` loads the people's
corrections here (through :mod:`monitor.scoring`) and hands ``models`` plain texts and labels.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.cli import command
from monitor.errors import MonitorError

if TYPE_CHECKING:
    from models.evaluate import EvalReport


def _data_default(split: str) -> str | None:
    from models.data import shared_data_dir

    folder = shared_data_dir() / "tweeteval_sentiment"
    return str(folder) if (folder / f"{split}_text.txt").exists() else None


@command("train")
@click.option("--base-model", default=None,
              help="Hugging Face name or local folder; default: the offline all-MiniLM-L6-v2 package.")
@click.option("--train-file", type=click.Path(exists=True), default=lambda: _data_default("train"),
              help="TweetEval-layout folder (train_*.txt) or CSV/JSONL with text,label.")
@click.option("--val-file", type=click.Path(exists=True), default=lambda: _data_default("val"),
              help="TweetEval-layout folder (val_*.txt) or CSV/JSONL with text,label.")
@click.option("--epochs", type=float, default=3.0, show_default=True)
@click.option("--lr", type=float, default=8e-5, show_default=True)
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--max-length", type=int, default=64, show_default=True)
@click.option("--seed", type=int, default=13, show_default=True)
@click.option("--class-weights", type=click.Choice(["none", "sqrt", "balanced"]), default="none",
              show_default=True, help="Weight the loss by inverse class frequency.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Artifact folder  [default: models/sentiment]")
@click.option("--limit", type=int, default=None, help="Train on a random subset of this many examples.")
@click.option("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice).")
def train_cmd(base_model: str | None, train_file: str | None, val_file: str | None, epochs: float, lr: float,
              batch_size: int, max_length: int, seed: int, class_weights: str, out: str | None,
              limit: int | None, threads: int | None) -> None:
    """Fine-tune the sentiment model and write the best validation checkpoint to --out."""
    from models.artifact import DEFAULT_BASE, default_artifact_dir
    from models.train import TrainSettings, train

    base_model = base_model or DEFAULT_BASE
    out = out or str(default_artifact_dir())

    if not train_file or not val_file:
        raise click.ClickException("no training data: pass --train-file and --val-file "
                                   "(TweetEval sentiment is expected in ../shared/data)")
    settings = TrainSettings(
        train_file=train_file, val_file=val_file, base_model=base_model, out=out, epochs=epochs, lr=lr,
        batch_size=batch_size, max_length=max_length, seed=seed, limit=limit, class_weights=class_weights,
        threads=threads,
    )
    try:
        meta = train(settings, log=click.echo)
    except (FileNotFoundError, ValueError) as err:  # unreadable data files
        raise MonitorError(str(err)) from None
    if limit is None:
        from models.data import read_labelled
        from models.release import check_onnx_precision

        click.echo("choosing the ONNX precision on validation ...")
        check_onnx_precision(Path(out), *read_labelled(val_file, "val"), log=click.echo)
    v, vb = meta["val"], meta["val_biased"]
    click.echo(f"best {meta['version']} at epoch {meta['epoch']}: val macro-recall {v['macro_recall']:.4f} "
               f"(with tuned logit bias {vb['macro_recall']:.4f}), accuracy {vb['accuracy']:.4f}, "
               f"macro-F1 {vb['macro_f1']:.4f} -> {out}")


def _load_eval_data(file: str | None, split: str, corrections: str | None) -> list[tuple[str, list[str], list]]:
    from models.data import read_labelled

    sets: list[tuple[str, list[str], list]] = []
    if file:
        texts, labels = read_labelled(file, split)
        sets.append((file, texts, labels))
    if corrections:
        from monitor.scoring import corrections_dataset
        from monitor.store import make_engine

        texts, labels = corrections_dataset(make_engine(corrections, create_dirs=False))
        if not texts:
            raise MonitorError(f"{corrections}: the correction table is empty; nothing to evaluate")
        sets.append((f"corrections in {corrections}", texts, labels))
    if not sets:
        raise click.ClickException("nothing to evaluate: pass a labelled FILE and/or --corrections DB_URL")
    return sets


def _print_report(title: str, r: EvalReport) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    summary = Table(title=title, show_header=True)
    for col in ("examples", "macro-recall", "accuracy", "macro-F1", "tweets/s", "backend"):
        summary.add_column(col, justify="right")
    summary.add_row(str(r.n), f"{r.macro_recall:.4f}", f"{r.accuracy:.4f}", f"{r.macro_f1:.4f}",
                    f"{r.tweets_per_s:.0f}", str(r.backend))
    console.print(summary)
    cm = Table(title="confusion (rows: true, columns: predicted)")
    cm.add_column("true \\ predicted")
    for lab in r.labels:
        cm.add_column(lab, justify="right")
    cm.add_column("recall", justify="right")
    for lab, row in zip(r.labels, r.confusion, strict=True):
        cm.add_row(lab, *[str(v) for v in row], f"{r.recall[lab]:.4f}")
    console.print(cm)
    console.print(f"model {r.model_version}")


@command("eval")
@click.argument("file", required=False, type=click.Path(exists=True))
@click.option("--split", default="val", show_default=True, help="Split to read from a TweetEval-layout folder.")
@click.option("--model", "model_name", default="default", show_default=True,
              help="default (the shipped artifact), a Hugging Face name, or a local folder.")
@click.option("--backend", type=click.Choice(["auto", "onnx", "torch"]), default="auto", show_default=True)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--max-length", type=int, default=128, show_default=True)
@click.option("--corrections", metavar="DB_URL", default=None,
              help="Also evaluate on the user corrections stored in this database.")
def eval_cmd(file: str | None, split: str, model_name: str, backend: str, device: str, batch_size: int,
             max_length: int, corrections: str | None) -> None:
    """Evaluate the model on a labelled FILE (TweetEval folder or *_text.txt, CSV or JSONL with
    text,label) and/or on user corrections: macro-recall, accuracy, macro-F1, confusion, tweets/s."""
    from models.evaluate import evaluate
    from models.inference import Scorer

    try:
        sets = _load_eval_data(file, split, corrections)
        scorer = Scorer(model_name, backend=backend, device=device, batch_size=batch_size,
                        max_length=max_length)
        for title, texts, labels in sets:
            _print_report(title, evaluate(scorer, texts, labels))
    except (FileNotFoundError, ValueError) as err:  # unreadable data files
        raise MonitorError(str(err)) from None
