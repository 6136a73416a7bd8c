"""Real tweets for the scenario suite, with their gold labels and the model's scores, cached on disk.

The texts are the two CrowdFlower brand-sentiment sets in ``../shared/data/brand_sentiment``
(tweets labelled for sentiment *toward a brand*: a care team's reading): Apple (1 negative,
3 neutral, 5 positive) and SXSW ("Negative emotion", "No emotion toward brand or product",
"Positive emotion"); rows labelled not relevant or "I can't tell" are left out. A
scenario picks texts by their gold label (a planted storm is made of gold negatives) and
counts what the model says, so the model's misses and false alarms are in the loop.

The model's scores of the pool are cached in ``<cache>/scenario-scores/<hash>.json``,
keyed by the scorer's ``version`` and the texts, so a re-run (or a new model) costs one
scoring pass at most. :func:`write_week_file` turns the pool into a week of mentions for
timing ``monitor backtest``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from monitor.errors import MonitorError

GOLD = ("negative", "neutral", "positive")
APPLE = {"1": "negative", "3": "neutral", "5": "positive"}
SXSW = {"Negative emotion": "negative", "No emotion toward brand or product": "neutral",
        "Positive emotion": "positive"}
BATCH = 256


class ScenarioDataError(MonitorError):
    """The scenario texts cannot be read; the message names the file and the fix."""


@dataclass(frozen=True)
class TextPool:
    """Texts with their gold label (index into ``GOLD``) and the model's label and p(negative)."""

    texts: list[str]
    gold: np.ndarray
    model_label: np.ndarray
    p_negative: np.ndarray
    model_version: str

    @property
    def model_negative(self) -> np.ndarray:
        return self.model_label == "negative"

    def by_gold(self, label: str) -> np.ndarray:
        """Indices of the texts whose gold label is ``label``."""
        return np.flatnonzero(self.gold == GOLD.index(label))

    def recall(self) -> float:
        """The model's recall on gold negatives (how much of a storm it sees)."""
        neg = self.by_gold("negative")
        return float(self.model_negative[neg].mean()) if len(neg) else 0.0

    def false_negative_rate(self) -> float:
        """The share of gold neutral/positive texts the model calls negative."""
        other = np.flatnonzero(self.gold != GOLD.index("negative"))
        return float(self.model_negative[other].mean()) if len(other) else 0.0


def read_gold(data_dir: Path) -> list[tuple[str, str]]:
    """(text, gold label) for every usable row of both brand-sentiment sets; raises :class:`ScenarioDataError`."""
    folder = data_dir / "brand_sentiment"
    out: list[tuple[str, str]] = []
    for name, encoding, text_col, label_col, mapping in (
        ("apple_twitter_sentiment.csv", "cp1252", "text", "sentiment", APPLE),
        ("sxsw_brands_and_product_emotions.csv", "latin-1", "tweet_text",
         "is_there_an_emotion_directed_at_a_brand_or_product", SXSW),
    ):
        path = folder / name
        if not path.is_file():
            raise ScenarioDataError(f"{path} is missing: the scenario suite needs ../shared/data/brand_sentiment "
                                    "(or pass --data DIR)")
        with path.open(encoding=encoding, newline="") as fh:
            for row in csv.DictReader(fh):
                label = mapping.get(str(row.get(label_col, "")).strip())
                text = " ".join(str(row.get(text_col) or "").split())
                if label and text:
                    out.append((text, label))
    return out


def cache_root() -> Path:
    """``$BRAND_MONITOR_CACHE`` or ``~/.cache/brand-monitor``, plus ``scenario-scores``."""
    return Path(os.environ.get("BRAND_MONITOR_CACHE") or "~/.cache/brand-monitor").expanduser() / "scenario-scores"


def scored_pool(data_dir: Path, scorer: Any, *, per_label: int | None = None, seed: int = 0,
                cache: Path | None = None) -> TextPool:
    """The pool (at most ``per_label`` texts of each gold label, drawn with ``seed``), scored by ``scorer``.

    Scores come from the on-disk cache when this scorer version has scored these texts
    before. Raises :class:`ScenarioDataError` when the data is missing, and whatever the
    scorer raises.
    """
    rows = sorted(set(read_gold(data_dir)))
    if per_label is not None:
        rng = np.random.default_rng(seed)
        picked: list[tuple[str, str]] = []
        for label in GOLD:
            these = [r for r in rows if r[1] == label]
            take = rng.choice(len(these), size=min(per_label, len(these)), replace=False)
            picked += [these[i] for i in sorted(take)]
        rows = picked
    texts = [t for t, _ in rows]
    version = str(getattr(scorer, "version", "model"))
    key = hashlib.sha256(json.dumps([version, texts]).encode()).hexdigest()[:20]
    path = (cache or cache_root()) / f"{key}.json"
    if path.is_file():
        stored = json.loads(path.read_text(encoding="utf-8"))
        labels, p_neg = stored["labels"], stored["p_negative"]
    else:
        labels, p_neg = [], []
        for i in range(0, len(texts), BATCH):
            for s in scorer.score(texts[i:i + BATCH]):
                labels.append(str(s.label))
                p_neg.append(float(s.p_negative))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": version, "labels": labels, "p_negative": p_neg}), encoding="utf-8")
        tmp.replace(path)
    gold = np.array([GOLD.index(label) for _, label in rows])
    return TextPool(texts, gold, np.array(labels, dtype=object), np.array(p_neg), version)


WEEK_BRANDS = ("Apple", "Google", "iPad", "iPhone", "Android", "SXSW")


def write_week_file(path: str | Path, pool: TextPool, *, mentions: int = 15_000, seed: int = 0) -> int:
    """A week of unlabelled mentions of ``WEEK_BRANDS`` for timing ``monitor backtest`` (JSONL); returns the count.

    Each mention is a real tweet from the pool that names one of the brands, written at a
    time drawn from the daily rhythm, by one of a few thousand authors. Replay it with a
    config listing the six brands as keywords (the model scores every row).
    """
    from monitor.lab.scenarios import EVAL_START, HOUR, daily_curve

    rng = np.random.default_rng(seed)
    texts = [t for t in pool.texts if any(b.lower() in t.lower() for b in WEEK_BRANDS)]
    hours = 7 * 24
    weights = daily_curve(np.arange(hours) % 24, 0.0, 1.0)
    hour = rng.choice(hours, size=mentions, p=weights / weights.sum())
    seconds = np.sort(hour * HOUR + rng.uniform(0, HOUR, size=mentions))
    rows = [{"id": f"w{i}", "platform": "x", "text": texts[int(rng.integers(len(texts)))],
             "created_at": (EVAL_START + timedelta(seconds=float(s))).isoformat() + "Z",
             "author": f"user{int(rng.integers(4000))}", "url": f"https://x.example/{i}"}
            for i, s in enumerate(seconds)]
    Path(path).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return len(rows)
