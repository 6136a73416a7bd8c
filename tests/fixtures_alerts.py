"""Shared helpers for the escalation, spike, delivery and backtest tests.

Plain functions (not fixtures) so each test module picks what it needs: a real SQLite
file per test, brands, scored mentions inserted directly, and synthetic Poisson history
with a daily and weekly rhythm.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from monitor.config import Config, parse_config
from monitor.store import Brand, Mention, MentionBrand, Sentiment, make_engine, session_scope

T0 = datetime(2026, 11, 2, 0, 0)  # a Monday, naive UTC
_ids = itertools.count(1)


def make_db(tmp_path: Path) -> Engine:
    """A fresh SQLite file database with every table."""
    engine = make_engine(f"sqlite:///{tmp_path / 'monitor.db'}")
    SQLModel.metadata.create_all(engine)
    return engine


def make_config(**sections: Any) -> Config:
    """A config with brand Acme (handle @acme) plus the given sections' overrides."""
    data: dict[str, Any] = {
        "brands": [{"name": "Acme", "keywords": ["acme"], "handles": ["@acme"]}],
    }
    data.update(sections)
    return parse_config(data)


def add_brand(engine: Engine, name: str = "Acme") -> int:
    """Insert a brand; returns its id."""
    with session_scope(engine) as s:
        brand = Brand(name=name)
        s.add(brand)
        s.flush()
        assert brand.id is not None
        return brand.id


def add_mention(
    engine: Engine,
    brand_id: int,
    text: str = "acme is bad",
    *,
    created_at: datetime = T0,
    p_negative: float = 0.9,
    label: str | None = None,
    platform: str = "x",
    native_id: str | None = None,
    p_anger: float | None = None,
    **fields: Any,
) -> int:
    """Insert one scored mention matched to ``brand_id`` (collected as it was written); returns the mention id."""
    p_pos = (1 - p_negative) / 2
    if label is None:
        label = "negative" if p_negative >= 0.5 else ("positive" if p_pos > 0.4 else "neutral")
    with session_scope(engine) as s:
        m = Mention(platform=platform, native_id=native_id or f"n{next(_ids)}", source="test", text=text,
                    created_at=created_at, collected_at=fields.pop("collected_at", None) or created_at,
                    url=fields.pop("url", "https://x.test/p"), **fields)
        s.add(m)
        s.flush()
        assert m.id is not None
        s.add(MentionBrand(mention_id=m.id, brand_id=brand_id, created_at=created_at))
        s.add(Sentiment(mention_id=m.id, label=label, p_negative=p_negative, p_neutral=p_pos,
                        p_positive=p_pos, model_version="test", p_anger=p_anger))
        return m.id


def daily_weekly_rate(base: float) -> Callable[[datetime], float]:
    """A rate per hour with an evening peak (about 4x the night) and quieter weekends."""

    def rate(t: datetime) -> float:
        hour = t.hour + t.minute / 60
        daily = 0.35 + 1.3 * math.exp(-((hour - 18) ** 2) / 8) + 0.5 * math.exp(-((hour - 10) ** 2) / 6)
        weekly = 0.6 if t.weekday() >= 5 else 1.0
        return base * daily * weekly

    return rate


def bulk_history(
    engine: Engine,
    brand_id: int,
    start: datetime,
    end: datetime,
    neg_rate: Callable[[datetime], float],
    *,
    other_ratio: float = 2.0,
    seed: int = 7,
    text: str = "acme order late again",
    bucket: timedelta = timedelta(hours=1),
    platform: str = "x",
    collected_at: datetime | None = None,
) -> int:
    """Insert Poisson negative (and ``other_ratio`` times as many neutral) mentions; returns the count.

    ``neg_rate(t)`` is the expected negatives per ``bucket`` starting at ``t``. Mentions are
    collected as they are written, or all at ``collected_at`` (a backfill) when given.
    """
    rng = np.random.default_rng(seed)
    mentions: list[dict[str, Any]] = []
    t = start
    while t < end:
        lam = neg_rate(t)
        for is_neg, n in ((True, rng.poisson(lam)), (False, rng.poisson(lam * other_ratio))):
            for off in rng.uniform(0, bucket.total_seconds(), size=n):
                created = t + timedelta(seconds=float(off))
                mentions.append({"created_at": created, "neg": is_neg,
                                 "collected_at": max(created, collected_at) if collected_at else created})
        t += bucket
    return _bulk_insert(engine, brand_id, mentions, text, platform)


def _bulk_insert(engine: Engine, brand_id: int, rows: list[dict[str, Any]], text: str, platform: str = "x") -> int:
    if not rows:
        return 0
    with engine.begin() as conn:
        first = next(_ids)
        for _ in range(len(rows)):
            next(_ids)
        mention_rows = [{"platform": platform, "native_id": f"b{first + i}", "source": "test",
                         "text": text if r["neg"] else "acme ok", "created_at": r["created_at"],
                         "collected_at": r["collected_at"], "raw": {}, "url": "", "author": "",
                         "author_reach": 0, "likes": 0, "replies": 0, "reposts": 0, "quotes": 0,
                         "engagement": 0} for i, r in enumerate(rows)]
        conn.execute(insert(Mention), mention_rows)
        ids = dict(conn.exec_driver_sql(
            "SELECT native_id, id FROM mention WHERE source = 'test' AND native_id LIKE 'b%'"
        ).all())
        mb, sent = [], []
        for i, r in enumerate(rows):
            mid = ids[f"b{first + i}"]
            mb.append({"mention_id": mid, "brand_id": brand_id, "created_at": r["created_at"],
                       "matched_terms": []})
            sent.append({"mention_id": mid, "label": "negative" if r["neg"] else "neutral",
                         "p_negative": 0.9 if r["neg"] else 0.1, "p_neutral": 0.05 if r["neg"] else 0.8,
                         "p_positive": 0.05 if r["neg"] else 0.1, "model_version": "test",
                         "scored_at": r["created_at"]})
        conn.execute(insert(MentionBrand), mb)
        conn.execute(insert(Sentiment), sent)
    return len(rows)


def plant(engine: Engine, brand_id: int, start: datetime, count: int, *, text: str, spread: timedelta,
          reach: int = 100) -> None:
    """Insert ``count`` negative mentions evenly over ``spread`` from ``start`` with ``text``."""
    for i in range(count):
        add_mention(engine, brand_id, f"{text} #{i}", created_at=start + spread * (i / max(count, 1)),
                    author=f"user{i}", author_reach=reach + i, url=f"https://x.test/s/{i}")
