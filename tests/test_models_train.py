"""Training end to end on a tiny subset, the train/eval commands, and the data readers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from models.data import default_split, preprocess, read_labelled
from models.inference import Scorer
from models.metrics import scores, tune_bias
from monitor.cli.model import eval_cmd, soup_cmd, train_cmd


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An artifact trained by `train` on 64 tweets for one epoch (max_length 32)."""
    out = tmp_path_factory.mktemp("tiny") / "sentiment"
    data = str(default_split("train"))
    result = CliRunner().invoke(train_cmd, [
        "--train-file", data, "--val-file", data, "--limit", "64", "--epochs", "1",
        "--max-length", "32", "--out", str(out), "--seed", "1",
    ])
    assert result.exit_code == 0, result.output
    assert "val macro-recall" in result.output
    return out


def test_training_writes_a_loadable_artifact(tiny_model: Path) -> None:
    meta = json.loads((tiny_model / "meta.json").read_text())
    assert meta["settings"]["limit"] == 64 and meta["max_length"] == 32
    assert meta["frozen"] == ["encoder.embeddings.word_embeddings.weight"]
    assert meta["heads"] == {"brand": ["negative", "neutral", "positive"],
                             "sentiment": ["negative", "neutral", "positive"],
                             "emotion": ["anger", "joy", "optimism", "sadness"]}
    assert meta["primary"] == "brand" and "dev folds" in meta["selected_on"]
    assert (tiny_model / "weights.safetensors").stat().st_size < 30 * 1024 * 1024
    scorer = Scorer(str(tiny_model), backend="torch")
    got = scorer.score(["I love this", "I hate this"])
    assert scorer.version == meta["version"]
    assert all(s.label in {"negative", "neutral", "positive"} for s in got)


def test_training_is_reproducible(tiny_model: Path, tmp_path: Path) -> None:
    data = str(default_split("train"))
    result = CliRunner().invoke(train_cmd, [
        "--train-file", data, "--val-file", data, "--limit", "64", "--epochs", "1",
        "--max-length", "32", "--out", str(tmp_path), "--seed", "1",
    ])
    assert result.exit_code == 0, result.output
    first = json.loads((tiny_model / "meta.json").read_text())
    again = json.loads((tmp_path / "meta.json").read_text())
    assert again["val"] == pytest.approx(first["val"])


def test_auxiliary_tasks_train_the_encoder_and_leave_the_artifact_as_it_was(tiny_model: Path,
                                                                           tmp_path: Path) -> None:
    """Emoji and irony heads train the shared encoder; the artifact keeps only the three heads it always had."""
    from safetensors.torch import load_file

    data = str(default_split("train"))
    args = ["--train-file", data, "--val-file", data, "--limit", "64", "--epochs", "1", "--max-length", "32",
            "--seed", "1"]
    result = CliRunner().invoke(train_cmd, [*args, "--out", str(tmp_path / "aux"), "--auxiliary", "emoji,irony",
                                            "--auxiliary-limit", "200"])
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "aux" / "meta.json").read_text())
    plain = json.loads((tiny_model / "meta.json").read_text())
    assert meta["heads"] == plain["heads"] and meta["frozen"] == plain["frozen"]
    assert meta["settings"]["auxiliary"] == "emoji,irony"
    assert {k.split(".")[1] for k in load_file(str(tmp_path / "aux" / "weights.safetensors")) if k.startswith("heads.")} \
        == {"brand", "sentiment", "emotion"}
    assert set(meta["dev"]) == set(plain["dev"])  # auxiliary tasks never enter the selection
    assert meta["version"] != plain["version"]  # the encoder saw the auxiliary batches
    scored = Scorer(str(tmp_path / "aux"), backend="torch").score(["I love this"])
    assert scored[0].label in {"negative", "neutral", "positive"}
    result = CliRunner().invoke(train_cmd, [*args, "--out", str(tmp_path / "bad"), "--auxiliary", "sarcasm"])
    assert result.exit_code != 0 and "sarcasm" in result.output and "mapping.txt" in result.output


def test_soup_averages_runs_only_when_the_dev_folds_say_so(tiny_model: Path, tmp_path: Path) -> None:
    data = str(default_split("train"))
    other = tmp_path / "seed2"
    result = CliRunner().invoke(train_cmd, [
        "--train-file", data, "--val-file", data, "--limit", "32", "--epochs", "1",
        "--max-length", "32", "--out", str(other), "--seed", "2",
    ])
    assert result.exit_code == 0, result.output
    out = tmp_path / "soup"
    result = CliRunner().invoke(soup_cmd, [str(tiny_model), str(other), "--out", str(out), "--no-release"])
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "meta.json").read_text())
    runs = [json.loads((f / "meta.json").read_text()) for f in (tiny_model, other)]
    best = max(r["dev"]["criterion"] for r in runs)
    assert meta["weights"] == "soup" and 1 <= len(meta["soup"]) <= 2
    assert {r["seed"] for r in meta["soup"]} <= {1, 2}
    assert meta["dev"]["criterion"] >= best  # greedy: it starts from the best run and keeps only what helps
    assert Scorer(str(out), backend="torch").score(["I love this"])[0].label in {"negative", "neutral", "positive"}
    one = CliRunner().invoke(soup_cmd, [str(tiny_model), "--out", str(tmp_path / "x")])
    assert one.exit_code == 2 and "name at least two runs to average" in one.output


def test_training_reads_csv_with_label_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAND_MONITOR_CACHE", str(tmp_path / "cache"))  # a full run also picks the ONNX precision
    csv = tmp_path / "train.csv"
    rows = ["text,label"] + [f"tweet number {i} is {w},{w}" for i in range(12)
                             for w in ("negative", "neutral", "positive")]
    csv.write_text("\n".join(rows) + "\n")
    out = tmp_path / "model"
    result = CliRunner().invoke(train_cmd, ["--train-file", str(csv), "--val-file", str(csv), "--epochs", "1",
                                            "--max-length", "16", "--out", str(out), "--brand-data", "none",
                                            "--emotion-data", "none"])
    assert result.exit_code == 0, result.output
    assert (out / "weights.safetensors").exists()
    assert json.loads((out / "meta.json").read_text())["onnx_precision"] in {"int8", "int8-mixed", "fp32"}
    assert list((tmp_path / "cache" / "onnx").glob("*.onnx"))  # the precision check's candidate builds
    assert (out / "model.onnx").stat().st_size < 40 * 2**20  # shipped beside the weights, embeddings left out
    scorer = Scorer(str(out))
    assert scorer.score(["tweet number 1 is positive"])[0].label in {"negative", "neutral", "positive"}
    assert scorer.backend_name == "onnx"


def test_pretrain_help_names_the_base_model_it_uses() -> None:
    from models.artifact import DEFAULT_BASE
    from monitor.cli.model import pretrain_cmd

    assert f"[default: ({DEFAULT_BASE})]" in CliRunner().invoke(pretrain_cmd, ["--help"]).output  # the help's literal


def test_eval_command_prints_the_report(tmp_path: Path) -> None:
    f = tmp_path / "labelled.jsonl"
    f.write_text('{"text": "I love it", "label": "positive"}\n{"text": "awful", "label": 0}\n')
    result = CliRunner().invoke(eval_cmd, [str(f), "--backend", "torch"])
    assert result.exit_code == 0, result.output
    for word in ("macro-recall", "accuracy", "macro-F1", "tweets/s", "confusion"):
        assert word in result.output


def test_eval_command_without_a_file_runs_the_standard_suites(tiny_model: Path) -> None:
    result = CliRunner().invoke(eval_cmd, ["--model", str(tiny_model), "--backend", "torch"])
    assert result.exit_code == 0, result.output
    for suite in ("TweetEval sentiment validation (sentiment head, torch)", "brand-directed test split",
                  "TweetEval emotion validation (emotion head, torch)", "challenge set", "precision", "always-majority"):
        assert suite in result.output
    for category in ("sarcasm", "negation", "slang", "emoji", "news"):
        assert category in result.output


def test_pretraining_adapts_the_encoder_and_training_starts_from_it(tmp_path: Path) -> None:
    from models.pretrain import PretrainSettings, pretrain, tweet_corpus

    corpus = tweet_corpus()
    assert len(corpus) > 110_000 and len(set(corpus)) == len(corpus)
    val = set(read_labelled(default_split("val"), "val")[0])
    assert not val & set(corpus[:20_000])  # validation tweets are never pretrained on
    out = tmp_path / "tapt"
    info = pretrain(PretrainSettings(out=str(out), limit=300, batch_size=16, heldout=60, save_every=5, threads=1),
                    log=lambda _: None)
    assert info["heldout_loss_after"] < info["heldout_loss_before"]
    data = str(default_split("train"))
    result = CliRunner().invoke(train_cmd, [
        "--train-file", data, "--val-file", data, "--limit", "32", "--epochs", "1", "--max-length", "24",
        "--out", str(tmp_path / "m"), "--init-from", str(out), "--brand-data", "none", "--emotion-data", "none"])
    assert result.exit_code == 0, result.output
    assert "encoder from" in result.output
    assert json.loads((tmp_path / "m" / "meta.json").read_text())["heads"] == {
        "sentiment": ["negative", "neutral", "positive"]}


def test_train_command_with_a_missing_base_model_fails_clearly(tmp_path: Path) -> None:
    data = str(default_split("train"))
    result = CliRunner().invoke(train_cmd, ["--base-model", str(tmp_path / "nope"), "--train-file", data,
                                            "--val-file", data, "--limit", "8", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "does not exist" in result.output


def test_preprocess_follows_tweeteval() -> None:
    assert preprocess("@Acme_Support see https://t.co/x1 now") == "@user see http now"
    assert preprocess("mail me at a@b.com") == "mail me at a@b.com"
    assert "heart" in preprocess("love it ❤️")
    assert preprocess("love it ❤️", emoji_to_text=False) == "love it ❤️"


def test_tweeteval_readers(tmp_path: Path) -> None:
    texts, labels = read_labelled(default_split("val"), "val")
    assert len(texts) == len(labels) == 2000 and set(labels) == {0, 1, 2}
    same, _ = read_labelled(default_split("val") / "val_text.txt")
    assert same == texts
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhello,happy\n")
    with pytest.raises(ValueError, match="happy"):
        read_labelled(bad)


def test_bias_tuning_balances_recall() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 600)
    logits = rng.normal(size=(600, 3)) + np.eye(3)[labels] * 1.5
    logits[:, 1] += 1.0  # a model biased towards neutral
    before = scores(labels, logits.argmax(1))["macro_recall"]
    bias = tune_bias(logits, labels)
    assert scores(labels, (logits + bias).argmax(1))["macro_recall"] > before


def _copy_run(src: Path, dst: Path, **brand_dev: float) -> Path:
    import shutil

    shutil.copytree(src, dst)
    meta = json.loads((dst / "meta.json").read_text())
    meta["dev"]["brand"].update(brand_dev)
    (dst / "meta.json").write_text(json.dumps(meta))
    return dst


def test_promote_ships_a_run_only_when_the_dev_folds_and_the_brand_guard_agree(tiny_model: Path,
                                                                              tmp_path: Path) -> None:
    from monitor.cli.model import promote_cmd

    shipped = _copy_run(tiny_model, tmp_path / "shipped", recall_1=0.70, precision_0=0.60)
    before = (shipped / "weights.safetensors").read_bytes()
    meta = json.loads((shipped / "meta.json").read_text())
    crit = meta["dev"]["criterion"]
    # a better criterion, but more neutral brand mentions called negative: refused, nothing changes
    worse = _copy_run(tiny_model, tmp_path / "worse", recall_1=0.68, precision_0=0.61)
    w = json.loads((worse / "meta.json").read_text())
    w["dev"]["criterion"] = crit + 0.02
    (worse / "meta.json").write_text(json.dumps(w))
    refused = CliRunner().invoke(promote_cmd, [str(worse), "--into", str(shipped)])
    assert refused.exit_code == 3, refused.output
    assert "FAIL brand head, dev neutral recall: 0.6800 (shipped 0.7000, needs >= 0.6900)" in refused.output
    assert (shipped / "weights.safetensors").read_bytes() == before
    assert json.loads((shipped / "meta.json").read_text())["version"] == meta["version"]
    # within the tolerance on both brand figures and better on the criterion: promoted, files and all
    better = _copy_run(tiny_model, tmp_path / "better", recall_1=0.695, precision_0=0.62)
    b = json.loads((better / "meta.json").read_text())
    b["dev"]["criterion"] = crit + 0.01
    (better / "meta.json").write_text(json.dumps(b))
    exact = CliRunner().invoke(promote_cmd, [str(better), "--into", str(shipped), "--tolerance", "0"])
    assert exact.exit_code == 3  # no room: the bar is the shipped figure itself, and reaching it is enough
    assert "FAIL brand head, dev neutral recall: 0.6950 (shipped 0.7000, needs >= 0.7000)" in exact.output
    dry = CliRunner().invoke(promote_cmd, [str(better), "--into", str(shipped), "--dry-run"])
    assert dry.exit_code == 0 and "dry run: nothing changed" in dry.output
    assert json.loads((shipped / "meta.json").read_text())["dev"]["criterion"] == crit
    done = CliRunner().invoke(promote_cmd, [str(better), "--into", str(shipped)])
    assert done.exit_code == 0, done.output
    assert json.loads((shipped / "meta.json").read_text())["dev"]["criterion"] == crit + 0.01
    assert (shipped / "model.onnx").read_bytes() == (better / "model.onnx").read_bytes()
    assert not [p for p in shipped.iterdir() if p.name.startswith(".promote-")]
    assert Scorer(str(shipped), backend="torch").score(["I love this"])[0].label in {"negative", "neutral", "positive"}


def test_promote_refuses_runs_whose_dev_folds_differ_or_that_are_not_runs(tiny_model: Path, tmp_path: Path) -> None:
    from monitor.cli.model import promote_cmd

    other = _copy_run(tiny_model, tmp_path / "other")
    meta = json.loads((other / "meta.json").read_text())
    meta["settings"]["dev_fraction"] = 0.2
    (other / "meta.json").write_text(json.dumps(meta))
    result = CliRunner().invoke(promote_cmd, [str(other), "--into", str(tiny_model)])
    assert result.exit_code == 1
    assert "settings.dev_fraction differs (0.2 in" in result.output and "retrain with the same setting" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(promote_cmd, [str(empty), "--into", str(tiny_model)])
    assert result.exit_code == 1 and "lacks meta.json or weights.safetensors" in result.output


def test_pretrain_resumes_only_with_the_held_out_size_it_started_with(tmp_path: Path) -> None:
    from monitor.cli.model import pretrain_cmd

    out = str(tmp_path / "tapt")
    args = ["--out", out, "--limit", "200", "--batch-size", "16", "--threads", "1"]
    first = CliRunner().invoke(pretrain_cmd, [*args, "--heldout", "40"])
    assert first.exit_code == 0, first.output
    other = CliRunner().invoke(pretrain_cmd, [*args])  # the default held-out size is another setting
    assert other.exit_code == 1 and "checkpoint from other settings" in other.output
    again = CliRunner().invoke(pretrain_cmd, [*args, "--heldout", "40"])
    assert again.exit_code == 0 and "resuming at step" in again.output, again.output


def test_model_command_options_out_of_range_are_clear_errors(tmp_path: Path) -> None:
    from monitor.cli.model import pretrain_cmd, promote_cmd

    bad = CliRunner().invoke(pretrain_cmd, ["--out", str(tmp_path / "t"), "--heldout", "0"])
    assert bad.exit_code == 2 and "--heldout" in bad.output and not (tmp_path / "t").exists()
    bad = CliRunner().invoke(promote_cmd, [str(tmp_path), "--into", str(tmp_path), "--tolerance", "0.5"])
    assert bad.exit_code == 2 and "--tolerance" in bad.output
    bad = CliRunner().invoke(train_cmd, ["--out", str(tmp_path / "a"), "--auxiliary", "emoji", "--auxiliary-limit", "0"])
    assert bad.exit_code == 2 and "--auxiliary-limit" in bad.output and not (tmp_path / "a").exists()
