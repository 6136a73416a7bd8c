"""Synthetic brand-weeks with planted storms and artefacts, and their ground truth.

A *world* is a set of brands followed for ``history_days`` and then one evaluation week,
with one case *family* per brand. Every world is generated from its seed alone.

Volume: each brand's gold-negative mentions average ``mean_negative`` an hour (drawn
log-uniformly from ``VOLUME``), with other mentions ``other_ratio`` times as many. The
rhythm is a daily curve (quiet nights, a morning bump, an evening peak about four times the
night) in the world's audience time zone, shifted and scaled a little per brand, with
quieter weekends. Counts are overdispersed: a gamma-distributed level per day (CV 15%)
and per hour (CV 18%) under the Poisson draw. Authors: most mentions come from one-off
authors, some from a brand's regulars, and one negative in ten brings one or two follow-ups
by the same person. Mentions are collected a few minutes after they are written.

A *rise* of ``m`` times adds ``(m - 1) * mean_negative`` gold negatives an hour, half of it
flat and half following the daily curve (an incident drives complaints by day more than
at night): a 2x storm doubles an average hour. Its first hour runs at 60% (storms build up).

Families (the ground truth: a storm must be alerted, everything else must not):

==============  ===============================================================================
quiet           an ordinary week
rise2x-night    a 2x rise of 6-24 h starting between 00:00 and 05:00 local time
rise2x-day      the same, starting between 09:00 and 16:00
rise3x-night    a 3x rise of 6-24 h starting at night
rise3x-day      a 3x rise of 6-24 h starting by day
spike6x         a 6x spike of 1-2 h
drift           negatives grow steadily to 1.8x over the week (no alert)
daily-peak      a sharp daily negative peak (3x for about two hours at the same time every day; no alert)
young           collection started two days before a 3x storm (with a sparse backfill): caught
new-brand       collection starts mid-week, after a sparse backfill of the week before (no alert)
new-source      a second source starts mid-week adding 60-100% volume, with a sparse backfill (no alert)
few-authors     one author posts 20 negatives in an hour; another day two authors post 19 (no alert)
outage-lost     the brand's source is down for 6 h and the mentions written meanwhile are lost (no alert)
outage-late     the brand's source is down for 6 h and its mentions arrive when it comes back (no alert)
==============  ===============================================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from monitor.lab.scenario_texts import TextPool

FAMILIES = ("quiet", "quiet", "rise2x-night", "rise2x-day", "rise3x-night", "rise3x-day", "spike6x", "drift",
            "daily-peak", "young", "new-brand", "new-source", "few-authors", "outage-lost", "outage-late")
STORM_FAMILIES = frozenset({"rise2x-night", "rise2x-day", "rise3x-night", "rise3x-day", "spike6x", "young"})
VOLUME = (4.0, 16.0)
HOURLY_CV = 0.18
"""The hourly gamma noise under each hour's Poisson draw (coefficient of variation)."""
DAILY_CV = 0.15
"""The gamma-distributed level of each day (each 24 hours from the world's start), shared by its hours."""
EVAL_START = datetime(2026, 6, 1)  # a Monday, naive UTC
HOUR = 3600
DEFAULT_UNIT = ("x", "x")


@dataclass(frozen=True)
class Storm:
    """A planted storm: ``[start, end)`` and its rise (2.0 = twice an average hour)."""

    start: datetime
    end: datetime
    rise: float


@dataclass
class BrandPlan:
    """One brand-week: its family, volume and planted storms."""

    name: str
    family: str
    mean_negative: float
    storms: list[Storm] = field(default_factory=list)
    expected: np.ndarray | None = field(default=None, repr=False)
    """Gold negatives expected per hour from the world's start, before the hourly noise and without storms."""
    extra: np.ndarray | None = field(default=None, repr=False)
    """The storms' gold negatives per hour (Poisson, no further noise)."""
    day_level: np.ndarray | None = field(default=None, repr=False)
    """Each hour's day level (one gamma draw per 24 hours from the world's start; ``expected`` includes it)."""
    other_expected: np.ndarray | None = field(default=None, repr=False)
    """The same as ``expected`` for the other (neutral and positive) mentions."""


@dataclass
class World:
    """Everything one seed generated: the brands, the mentions (column arrays) and the units."""

    seed: int
    start: datetime
    eval_start: datetime
    eval_end: datetime
    brands: list[BrandPlan]
    units: list[tuple[str, str]]
    created: np.ndarray
    collected: np.ndarray
    brand: np.ndarray
    unit: np.ndarray
    author: np.ndarray
    text: np.ndarray

    def __len__(self) -> int:
        return len(self.created)


def daily_curve(hour: np.ndarray, phase: float, evening: float) -> np.ndarray:
    """Relative volume by local hour: quiet nights, a morning bump, an evening peak (``evening`` scales it)."""
    h = (hour - phase) % 24
    return 0.35 + evening * 1.3 * np.exp(-((h - 18) ** 2) / 8) + 0.5 * np.exp(-((h - 10) ** 2) / 6)


def others(pool: TextPool) -> np.ndarray:
    """The texts the other (not negative) mentions are drawn from: neutral ones twice as often as positive."""
    return np.concatenate([pool.by_gold("neutral"), pool.by_gold("neutral"), pool.by_gold("positive")])


def model_sight(pool: TextPool) -> tuple[float, float]:
    """How the model sees a world's mentions: its recall on the negatives and the share of the others it
    calls negative, as the others are drawn."""
    other = others(pool)
    return pool.recall(), float(pool.model_negative[other].mean()) if len(other) else 0.0


class _Builder:
    """Accumulates one world's mentions brand by brand."""

    def __init__(self, seed: int, pool: TextPool, history_days: int, families: tuple[str, ...]) -> None:
        self.rng = np.random.default_rng(seed)
        self.seed, self.pool, self.families = seed, pool, families
        self.offset = int(self.rng.integers(-7, 3))  # the audience's time zone, hours from UTC
        self.t0 = EVAL_START - timedelta(days=history_days)
        self.hours = (history_days + 7) * 24
        self.start_s = (self.t0 - datetime(1970, 1, 1)).total_seconds()
        self.units: list[tuple[str, str]] = [DEFAULT_UNIT]
        self.cols: dict[str, list[np.ndarray]] = {k: [] for k in ("created", "collected", "brand", "unit",
                                                                   "author", "text")}
        self.neg = pool.by_gold("negative")
        self.other = others(pool)

    def local_hour(self, start: int = 0) -> np.ndarray:
        return (np.arange(start, self.hours) + self.offset) % 24

    def at(self, day: int, local_hour: float) -> datetime:
        """The UTC time of ``local_hour`` on evaluation day ``day``."""
        return EVAL_START + timedelta(days=day, hours=local_hour - self.offset)

    def hour_of(self, t: datetime) -> int:
        return int((t - self.t0).total_seconds() // HOUR)

    def unit(self, key: tuple[str, str]) -> int:
        if key not in self.units:
            self.units.append(key)
        return self.units.index(key)

    def add(self, b: int, created: np.ndarray, texts: np.ndarray, authors: np.ndarray, unit: int,
            collected: np.ndarray | None = None) -> None:
        latency = self.rng.uniform(30, 360, size=len(created))
        self.cols["created"].append(created)
        self.cols["collected"].append(created + latency if collected is None else collected)
        self.cols["brand"].append(np.full(len(created), b, dtype=np.int32))
        self.cols["unit"].append(np.full(len(created), unit, dtype=np.int32))
        self.cols["author"].append(authors)
        self.cols["text"].append(texts)

    def hourly(self, rate: np.ndarray, texts: np.ndarray, b: int, tag: str,
               follow_ups: float = 0.1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Poisson counts per hour at ``rate``: (created seconds, text indices, authors)."""
        counts = self.rng.poisson(np.maximum(rate, 0))
        hour = np.repeat(np.arange(len(rate)), counts)
        created = self.start_s + (hour + self.rng.uniform(0, 1, size=len(hour))) * HOUR
        n = len(created)
        regular = self.rng.uniform(size=n) < 0.15
        ids = np.where(regular, self.rng.integers(0, 300, size=n), np.arange(n) + 1000)
        authors = np.array([f"{tag}{'r' if r else 'o'}{i}" for r, i in zip(regular, ids, strict=True)], dtype=object)
        extra = self.rng.uniform(size=n) < follow_ups
        if extra.any():
            k = self.rng.integers(1, 3, size=int(extra.sum()))
            src = np.repeat(np.flatnonzero(extra), k)
            bumped = np.minimum(created[src] + self.rng.uniform(60, 1500, size=len(src)),
                                self.start_s + (np.floor((created[src] - self.start_s) / HOUR) + 1) * HOUR - 1)
            created, authors = np.concatenate([created, bumped]), np.concatenate([authors, authors[src]])
        return created, self.rng.choice(texts, size=len(created)), authors


def _storm_rate(builder: _Builder, shape: np.ndarray, mean: float, storm: Storm, *, ramp: bool) -> np.ndarray:
    extra = np.zeros(builder.hours)
    a, z = builder.hour_of(storm.start), builder.hour_of(storm.end)
    extra[a:z] = (storm.rise - 1) * mean * (0.5 + 0.5 * shape[a:z])
    if ramp and z > a:
        extra[a] *= 0.6
    return extra


def generate_world(seed: int, pool: TextPool, *, history_days: int = 14, families: tuple[str, ...] = FAMILIES,
                   volume: tuple[float, float] = VOLUME) -> World:
    """The world of ``seed``: one brand per entry of ``families`` (see the module docstring).

    ``volume`` bounds each brand's mean gold negatives an hour (drawn log-uniformly).
    """
    w = _Builder(seed, pool, history_days, families)
    rng = w.rng
    plans: list[BrandPlan] = []
    for b, family in enumerate(families):
        mean = float(math.exp(rng.uniform(*np.log(volume))))
        plan = BrandPlan(f"{family}-{seed}-{b}", family, mean)
        plans.append(plan)
        shape = daily_curve(w.local_hour(), rng.uniform(-1, 1), rng.uniform(0.7, 1.3))
        weekday = ((np.arange(w.hours) + w.offset) // 24 + w.t0.weekday()) % 7
        shape = shape * np.where(weekday >= 5, 0.7, 1.0)
        shape /= shape.mean()
        day_level = np.repeat(rng.gamma(1 / DAILY_CV**2, DAILY_CV**2, size=w.hours // 24 + 2), 24)[:w.hours]
        noise = rng.gamma(1 / HOURLY_CV**2, HOURLY_CV**2, size=w.hours)
        neg_rate = mean * shape * day_level * noise
        other_ratio = rng.uniform(1.5, 2.5)
        other_noise = rng.gamma(1 / HOURLY_CV**2, HOURLY_CV**2, size=w.hours)
        other_rate = mean * other_ratio * shape * day_level * other_noise
        t_hours = np.arange(w.hours)
        if family == "drift":
            neg_rate *= 1 + 0.8 * np.clip((t_hours - w.hour_of(EVAL_START)) / (7 * 24), 0, 1)
        if family == "daily-peak":
            h0 = rng.uniform(9, 14)
            neg_rate *= 1 + 2 * np.exp(-((w.local_hour() - h0) ** 2) / (2 * 0.7**2))
        storm = _plan_storm(w, family)
        extra = np.zeros(w.hours)
        if storm is not None:
            plan.storms.append(storm)
            extra = _storm_rate(w, shape, mean, storm, ramp=family != "spike6x")
        plan.expected, plan.extra, plan.day_level = neg_rate / noise, extra, day_level
        plan.other_expected = other_rate / other_noise
        unit = w.unit((f"forum{b}", "forum")) if family.startswith("outage") else 0
        tag = f"b{b}-"
        neg = w.hourly(neg_rate, w.neg, b, tag)
        other = w.hourly(other_rate, w.other, b, tag, follow_ups=0.0)
        storm_rows = w.hourly(extra, w.neg, b, f"{tag}s", follow_ups=0.15)
        created, texts, authors = (np.concatenate(parts) for parts in zip(neg, other, storm_rows, strict=True))
        _place(w, b, family, created, texts, authors, unit, mean, shape, other_rate, storm)
    cols = {k: np.concatenate(v) for k, v in w.cols.items()}
    return World(seed, w.t0, EVAL_START, EVAL_START + timedelta(days=7), plans, w.units,
                 cols["created"], cols["collected"], cols["brand"], cols["unit"], cols["author"], cols["text"])


def _plan_storm(w: _Builder, family: str) -> Storm | None:
    rng = w.rng
    if family.startswith("rise"):
        rise = 2.0 if family.startswith("rise2x") else 3.0
        hour = rng.uniform(0, 5) if family.endswith("night") else rng.uniform(9, 16)
        start = w.at(int(rng.integers(1, 6)), math.floor(hour))
        return Storm(start, start + timedelta(hours=int(rng.integers(6, 25))), rise)
    if family == "spike6x":
        start = w.at(int(rng.integers(1, 6)), int(rng.integers(8, 21)))
        return Storm(start, start + timedelta(hours=int(rng.integers(1, 3))), 6.0)
    if family == "young":
        start = w.at(int(rng.integers(1, 5)), int(rng.integers(9, 16)))
        return Storm(start, start + timedelta(hours=int(rng.integers(6, 13))), 3.0)
    return None


def _place(w: _Builder, b: int, family: str, created: np.ndarray, texts: np.ndarray, authors: np.ndarray,
           unit: int, mean: float, shape: np.ndarray, other_rate: np.ndarray, storm: Storm | None) -> None:
    """Apply the family's collection story (start, backfill, outage, extra source) and add the mentions."""
    rng = w.rng

    def secs(t: datetime) -> float:
        return (t - datetime(1970, 1, 1)).total_seconds()

    if family in ("young", "new-brand"):
        if storm is not None:  # young: collection started two days before the storm
            start = secs(storm.start) - 2 * 86400
        else:
            start = secs(w.at(int(rng.integers(2, 5)), rng.uniform(0, 24)))
        days = 7 if family == "new-brand" else 3
        back = (created < start) & (created >= start - days * 86400) & (rng.uniform(size=len(created)) < 0.2)
        live = created >= start
        collected = np.where(back, start + rng.uniform(0, 600, size=len(created)), np.nan)
        keep = back | live
        w.add(b, created[keep], texts[keep], authors[keep], unit,
              np.where(live, created + rng.uniform(30, 360, size=len(created)), collected)[keep])
        return
    if family.startswith("outage"):
        start = secs(w.at(int(rng.integers(1, 6)), rng.uniform(0, 24)))
        inside = (created >= start) & (created < start + 6 * HOUR)
        if family == "outage-late":
            collected = np.where(inside, start + 6 * HOUR + rng.uniform(60, 600, size=len(created)),
                                 created + rng.uniform(30, 360, size=len(created)))
            w.add(b, created, texts, authors, unit, collected)
        else:
            w.add(b, created[~inside], texts[~inside], authors[~inside], unit)
        return
    if family == "few-authors":
        d1, d2 = rng.choice(np.arange(1, 6), size=2, replace=False)
        for day, people in ((d1, (20,)), (d2, (10, 9))):
            at = secs(w.at(int(day), int(rng.integers(10, 21))))
            for k, n in enumerate(people):
                created = np.concatenate([created, at + np.sort(rng.uniform(0, HOUR - 1, size=n))])
                texts = np.concatenate([texts, rng.choice(w.neg, size=n)])
                authors = np.concatenate([authors, np.array([f"b{b}-loud{day}-{k}"] * n, dtype=object)])
    w.add(b, created, texts, authors, unit)
    if family == "new-source":
        start = secs(w.at(int(rng.integers(2, 5)), rng.uniform(0, 24)))
        share = rng.uniform(0.6, 1.0)
        neg = w.hourly(mean * shape * share, w.neg, b, f"b{b}-n")
        other = w.hourly(other_rate * share, w.other, b, f"b{b}-n", follow_ups=0.0)
        c, t, a = (np.concatenate(parts) for parts in zip(neg, other, strict=True))
        back = (c < start) & (c >= start - 7 * 86400) & (rng.uniform(size=len(c)) < 0.2)
        live = c >= start
        collected = np.where(live, c + rng.uniform(30, 360, size=len(c)), start + rng.uniform(0, 600, size=len(c)))
        keep = back | live
        w.add(b, c[keep], t[keep], a[keep], w.unit(("reddit", "reddit")), collected[keep])



