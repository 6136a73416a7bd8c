"""Mentions for the escalation lab: real tweets from ../shared/data, addressed to six brands, plus planted cases.

Real texts: the TweetEval sentiment validation split (2,000 tweets; the shipped model was
trained on the train split, so those would flatter it) and the CrowdFlower Apple Twitter
sentiment set (3,804 labelled tweets written to or about @Apple, labelled for sentiment toward
the brand). Each becomes a mention of one of six brands: the first ``@user``/``@apple`` becomes
the brand's handle (or the handle is put in front), and a quarter name the brand in words
instead, so not every mention is addressed. Gold labels come from the data sets.

Reach, engagement, authors and times are drawn at random, independent of the gold label (so
they cannot flatter a rule): followers log-normal (median 250, 1 in 100 over 60,000),
engagement a gamma-Poisson mixture growing with reach, 30% of mentions from a pool of
regulars who write several times a week, times over one week with a daily rhythm.

Two mixes: ``natural`` keeps every tweet (26% negative); ``care`` keeps every negative and
samples the rest down to 40%, the share seen in public customer-care streams (the airline
care set has 63% negative). Every mention is in one part: ``tune`` or ``report`` (a hash of
the text for real tweets; planted sets A and B tune, set C reports).
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from collectors.base import Engagement
from collectors.base import Mention as Incoming
from monitor.errors import MonitorError
from monitor.lab.escalation_cases import PARTS, SETS

BRANDS = [("Skyline Air", "skylineair"), ("Nimbus Mobile", "nimbusmobile"), ("Orbit Bank", "orbitbank"),
          ("Parcelly", "parcelly"), ("Streamly", "streamly"), ("Brewhaus", "brewhaus")]
LABELS = ("negative", "neutral", "positive")
START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
DAYS = 7
CARE_NEGATIVE_SHARE = 0.6
_MENTION = re.compile(r"@(user|apple)\b", re.IGNORECASE)


class LabDataError(MonitorError):
    """The lab's data files are missing or unreadable; the message names the file."""


@dataclass(frozen=True)
class Gold:
    """What a mention truly is: its label, whether it is a planted risk complaint, its part and origin."""

    label: str
    part: str
    source: str
    risky: bool = False
    planted: str | None = None
    """``plain``, ``sarcastic`` or ``control`` for planted cases; None for real tweets."""
    category: str | None = None


@dataclass(frozen=True)
class LabMention:
    mention: Incoming
    gold: Gold


def brand_config() -> list[dict[str, object]]:
    """The six lab brands as config ``brands`` entries."""
    return [{"name": name, "keywords": [name], "handles": [f"@{handle}"]} for name, handle in BRANDS]


def _part(text: str) -> str:
    return "tune" if hashlib.sha256(text.encode()).digest()[0] % 2 == 0 else "report"


def _read_lines(path: Path) -> list[str]:
    if not path.exists():
        raise LabDataError(f"{path} is missing; the escalation lab reads ../shared/data (see its README)")
    return path.read_text(encoding="utf-8").split("\n")


def read_real(data_dir: Path) -> list[tuple[str, str, str]]:
    """``(source, text, label)`` for every labelled real tweet; raises :class:`LabDataError` if a file is missing."""
    base = data_dir / "tweeteval_sentiment"
    texts, labels = _read_lines(base / "val_text.txt"), _read_lines(base / "val_labels.txt")
    rows = [("tweeteval", t.strip(), LABELS[int(lab)]) for t, lab in zip(texts, labels, strict=False)
            if t.strip() and lab.strip()]
    apple = data_dir / "brand_sentiment" / "apple_twitter_sentiment.csv"
    if not apple.exists():
        raise LabDataError(f"{apple} is missing; the escalation lab reads ../shared/data (see its README)")
    names = {"1": "negative", "3": "neutral", "5": "positive"}
    with apple.open(encoding="cp1252", newline="") as f:
        rows += [("apple", r["text"].strip(), names[r["sentiment"]]) for r in csv.DictReader(f)
                 if r.get("sentiment") in names and r.get("text", "").strip()]
    return rows


def _address(text: str, handle: str, name: str, by_name: bool) -> str:
    if by_name:
        body = _MENTION.sub("@someone", text, count=1)
        return f"{name}: {body}"
    if _MENTION.search(text):
        return _MENTION.sub(f"@{handle}", text, count=1)
    return f"@{handle} {text}"


def _hour_weights() -> np.ndarray:
    hours = np.arange(24)
    w = 0.35 + 1.3 * np.exp(-((hours - 18) ** 2) / 8) + 0.5 * np.exp(-((hours - 10) ** 2) / 6)
    return w / w.sum()


def build(data_dir: Path, *, mix: str = "care", seed: int = 13, limit: int | None = None) -> list[LabMention]:
    """The lab's mentions (real and planted), sorted by time; raises :class:`LabDataError` for missing data.

    ``mix`` is ``natural`` or ``care`` (see the module docstring); ``limit`` keeps only that
    many real tweets (for a short test), chosen at random.
    """
    if mix not in ("natural", "care"):
        raise LabDataError(f"mix {mix!r} is unknown; use natural or care")
    rng = np.random.default_rng(seed)
    real = read_real(data_dir)
    if mix == "care":
        negatives = [r for r in real if r[2] == "negative"]
        others = [r for r in real if r[2] != "negative"]
        keep = round(len(negatives) * (1 - CARE_NEGATIVE_SHARE) / CARE_NEGATIVE_SHARE)
        picked = rng.choice(len(others), size=min(keep, len(others)), replace=False)
        real = negatives + [others[i] for i in sorted(picked)]
    if limit is not None and limit < len(real):
        real = [real[i] for i in sorted(rng.choice(len(real), size=limit, replace=False))]
    items: list[tuple[str, str, Gold]] = []
    for source, text, label in real:
        items.append((source, text, Gold(label=label, part=_part(text), source=source)))
    for name, cases in SETS.items():
        part = PARTS[name]
        for category, kind, text in cases:
            gold = Gold(label="negative" if kind != "control" else "positive", part=part, source=f"planted {name}",
                        risky=kind != "control", planted=kind, category=category)
            items.append(("planted", text, gold))
    return _as_mentions(items, rng)


def _as_mentions(items: list[tuple[str, str, Gold]], rng: np.random.Generator) -> list[LabMention]:
    hours = _hour_weights()
    regulars = [f"regular{i}" for i in range(max(20, len(items) // 25))]
    zipf = 1 / np.arange(1, len(regulars) + 1)
    zipf /= zipf.sum()
    out: list[LabMention] = []
    for i, (source, text, gold) in enumerate(items):
        name, handle = BRANDS[int(rng.integers(len(BRANDS)))]
        planted = source == "planted"
        body = text.format(h=handle) if planted else _address(text, handle, name, rng.random() < 0.25)
        day = int(rng.integers(DAYS))
        created = START + timedelta(days=day, hours=int(rng.choice(24, p=hours)), seconds=float(rng.uniform(0, 3600)))
        reach = int(min(5e6, math.exp(rng.normal(math.log(250), 1.8))))
        mean = 2 * (0.3 + math.sqrt(reach) / 30)
        engagement = int(rng.poisson(rng.gamma(0.5, mean)))
        author = str(rng.choice(regulars, p=zipf)) if rng.random() < 0.3 else f"user{i}"
        likes = int(engagement * 0.7)
        mention = Incoming(platform="x", native_id=f"lab{i}", text=body, created_at=created, author=author,
                           author_reach=reach, url=f"https://x.com/{author}/status/{i}",
                           engagement=Engagement(likes=likes, replies=engagement - likes),
                           conversation_id=f"lab{i}")
        out.append(LabMention(mention, gold))
    return sorted(out, key=lambda m: m.mention.created_at)
