"""What the rollup and worker tests share: databases of their own (SQLite file or a fresh PostgreSQL
database), a fast deterministic scorer, random mentions, and an independent recount in Python.

The recount reads the stored rows and counts them with plain loops, not with the SQL the rollups
are kept or rebuilt by, so it can disagree with them.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from collectors.base import Mention
from monitor.config import Config, parse_config
from monitor.lab.bench_workers import FixedLatencyScorer
from monitor.store import (
    Correction,
    MentionBrand,
    RollupAuthor,
    RollupEmotion,
    RollupHour,
    RollupPeople,
    Sentiment,
    make_engine,
)
from monitor.store import Mention as MentionRow
from monitor.store.migrate import upgrade
from tests.conftest import config_dict, pg_database_of_its_own

EMOTIONS = ("anger", "joy", "optimism", "sadness")
AUTHORS = ("ana", "bo", "cy", "dee", "", "")  # "" twice: mentions without an author are common
T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


FakeScorer = FixedLatencyScorer
"""Labels from a hash of the text and version, ``delay`` seconds per batch (:mod:`monitor.lab.bench_workers`)."""


def config_for(tmp_path: Path, url: str) -> Config:
    return parse_config(config_dict(tmp_path, database={"url": url}))


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[str]:
    """A fresh, migrated database of its own on the throwaway PostgreSQL server; its URL."""
    with pg_database_of_its_own(pg_url, "roll") as url:
        upgrade(url)
        yield url


def sqlite_database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'rollups.db'}"
    upgrade(url)
    return url


def random_mentions(rng: random.Random, n: int, start: int, *, spread: timedelta = timedelta(days=2)) -> list[Mention]:
    """``n`` mentions numbered from ``start``: of Acme, Globex or both, on three platforms, by a few
    authors (some without one), at random seconds over ``spread``."""
    out = []
    for i in range(start, start + n):
        about = rng.choice(["Acme is down", "Globex rocks", "Acme vs Globex", "Acme Cloud again"])
        out.append(Mention(platform=rng.choice(["x", "reddit", "mastodon"]), native_id=str(i),
                           text=f"{about} #{i}", author=rng.choice(AUTHORS), language="en",
                           created_at=T0 + timedelta(seconds=rng.randrange(int(spread.total_seconds())))))
    return out


def hour(t: datetime) -> int:
    return int((t - datetime(1970, 1, 1)).total_seconds() // 3600)


def recount(engine: Engine) -> dict[str, dict[tuple[Any, ...], tuple[int, ...]]]:
    """The four rollup tables as they should be, counted in Python from the stored rows."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(MentionBrand.brand_id, MentionBrand.created_at, MentionRow.platform, MentionRow.author,
                   Sentiment.label, Sentiment.emotion, Correction.label)
            .join(MentionRow, MentionRow.id == MentionBrand.mention_id)
            .outerjoin(Sentiment, Sentiment.mention_id == MentionBrand.mention_id)
            .outerjoin(Correction, Correction.mention_id == MentionBrand.mention_id)).all()
    hourly: Counter[tuple[Any, ...]] = Counter()
    emotions: Counter[tuple[Any, ...]] = Counter()
    authors: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for brand, created, platform, author, model, emotion, corrected in rows:
        key = (brand, hour(created), platform)
        label = corrected if corrected is not None else (model if model is not None else "unscored")
        hourly[(*key, label)] += 1
        if emotion is not None:
            emotions[(*key, emotion)] += 1
        counts = authors[(*key, author)]
        counts[0] += 1
        counts[1] += label == "negative"
    people: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for (b, h, p, author), (mentions, negatives) in authors.items():
        pair = people[(b, h, p)]
        pair[0] += mentions if author == "" else 1
        pair[1] += negatives if author == "" else int(negatives > 0)
    return {"rollup_hour": {k: (v,) for k, v in hourly.items()},
            "rollup_emotion": {k: (v,) for k, v in emotions.items()},
            "rollup_author": {k: tuple(v) for k, v in authors.items()},
            "rollup_people": {k: tuple(v) for k, v in people.items() if any(v)}}


def stored(engine: Engine) -> dict[str, dict[tuple[Any, ...], tuple[int, ...]]]:
    """The four rollup tables as stored, rows of zeros left out."""
    out = {}
    with engine.connect() as conn:
        for model, keys in ((RollupHour, 4), (RollupEmotion, 4), (RollupAuthor, 4), (RollupPeople, 3)):
            table = model.__table__
            rows = conn.execute(select(table)).all()  # type: ignore[arg-type]
            out[table.name] = {tuple(r[:keys]): tuple(int(v) for v in r[keys:]) for r in rows if any(r[keys:])}
    return out


def open_engine(url: str) -> Engine:
    return make_engine(url)
