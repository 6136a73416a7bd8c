"""Run the scenario suite: replay each world through the real detector and score it against the truth.

Each world's mentions go into a fresh SQLite file (WAL) as they are *collected*: the
history before the evaluation week at once, then bucket by bucket, each with the model's
cached score, and the detector runs at every bucket boundary with the clock as ``now``,
as the scheduler would. An alert counts for a storm when it was sent after the storm
began and before its end plus the cool-down (it *caught* the storm if sent before the
storm's last bucket ended); every other alert sent in the week is a false alarm, even one
that a storm later reopened (no new email goes out then). Per case family and overall
the suite reports the detection rate, the delay (in buckets from the storm's true start
to the alert), false alarms per brand-week and alerts per caught storm.
"""

from __future__ import annotations

import importlib
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert
from sqlmodel import SQLModel

from monitor.config import Config
from monitor.errors import UsageError
from monitor.lab.scenario_bound import storm_chance
from monitor.lab.scenario_texts import TextPool
from monitor.lab.scenarios import BrandPlan, World
from monitor.store import Alert, Brand, Mention, MentionBrand, Sentiment, make_engine, session_scope

Detector = Callable[..., list[Alert]]
EPOCH = datetime(1970, 1, 1)


class ScenarioError(UsageError):
    """A scenario option is wrong (e.g. ``--detector`` names nothing importable)."""


def load_detector(spec: str | None) -> Detector:
    """``module:function`` (default ``monitor.spikes:detect_spikes``); raises :class:`ScenarioError`."""
    spec = spec or "monitor.spikes:detect_spikes"
    module, _, name = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), name or "detect_spikes")  # type: ignore[no-any-return]
    except (ImportError, AttributeError) as err:
        raise ScenarioError(f"--detector {spec!r} cannot be imported ({err}); write module:function") from None


@dataclass(frozen=True)
class Sent:
    """An alert as sent during the replay, in its final state."""

    brand: int
    sent_at: datetime
    window_start: datetime
    window_end: datetime
    summary: str
    observed: float = 0.0
    expected: float = 0.0


def _when(seconds: np.ndarray) -> list[datetime]:
    return [EPOCH + timedelta(seconds=float(x)) for x in seconds]


def _insert(engine: Any, world: World, pool: TextPool, rows: np.ndarray, brand_ids: list[int]) -> None:
    if len(rows) == 0:
        return
    created, collected = _when(world.created[rows]), _when(world.collected[rows])
    mentions, links, scores = [], [], []
    for k, i in enumerate(rows):
        source, platform = world.units[int(world.unit[i])]
        t = int(world.text[i])
        mid = int(i) + 1
        mentions.append({"id": mid, "platform": platform, "native_id": f"{world.seed}-{mid}", "source": source,
                         "text": pool.texts[t], "author": str(world.author[i]), "author_reach": 0, "likes": 0,
                         "replies": 0, "reposts": 0, "quotes": 0, "engagement": 0, "url": "",
                         "created_at": created[k], "collected_at": collected[k], "raw": {}})
        links.append({"mention_id": mid, "brand_id": brand_ids[int(world.brand[i])], "created_at": created[k],
                      "matched_terms": []})
        p = float(pool.p_negative[t])
        scores.append({"mention_id": mid, "label": str(pool.model_label[t]), "p_negative": p,
                       "p_neutral": (1 - p) / 2, "p_positive": (1 - p) / 2, "model_version": pool.model_version,
                       "scored_at": collected[k]})
    with engine.begin() as conn:
        conn.execute(insert(Mention), mentions)
        conn.execute(insert(MentionBrand), links)
        conn.execute(insert(Sentiment), scores)


def replay(world: World, pool: TextPool, config: Config, detector: Detector, *,
           start: datetime | None = None, end: datetime | None = None) -> list[Sent]:
    """Replay ``world`` from ``start`` to ``end`` (default: its evaluation week); returns the alerts sent."""
    size = config.spikes.bucket
    start, end = start or world.eval_start, end or world.eval_end
    order = np.argsort(world.collected, kind="stable")
    collected = world.collected[order]
    with tempfile.TemporaryDirectory(prefix="monitor-scenario-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'scenario.db'}")
        SQLModel.metadata.create_all(engine)
        try:
            with session_scope(engine) as session:
                brands = [Brand(name=p.name) for p in world.brands]
                session.add_all(brands)
                session.flush()
                brand_ids = [int(b.id or 0) for b in brands]
            sent: list[tuple[datetime, int]] = []
            done = 0
            clock = start
            while clock <= end:
                upto = int(np.searchsorted(collected, (clock - EPOCH).total_seconds(), side="left"))
                _insert(engine, world, pool, order[done:upto], brand_ids)
                done = upto
                sent += [(clock, a.id or 0) for a in detector(engine, config, now=clock) if a.created_at == clock]
                clock += size
            with session_scope(engine) as session:
                index = {bid: i for i, bid in enumerate(brand_ids)}
                out = []
                for at, alert_id in sent:
                    a = session.get(Alert, alert_id)
                    if a is not None:
                        out.append(Sent(index[a.brand_id], at, a.window_start, a.window_end,
                                        str(a.details.get("summary", "")), a.observed, a.expected))
                return out
        finally:
            engine.dispose()


@dataclass
class CaseResult:
    """One brand-week scored: its storms (caught or not, delay) and its false alarms."""

    plan: BrandPlan
    delays: list[float | None] = field(default_factory=list)
    chances: list[float | None] = field(default_factory=list)
    """Per storm, an oracle's chance of alerting within two buckets (:mod:`monitor.lab.scenario_bound`)."""
    rhythm_chances: list[float | None] = field(default_factory=list)
    """The same for an oracle that knows the brand's rhythm but not the day's level."""
    model_chances: list[float | None] = field(default_factory=list)
    """The same for an oracle that knows the rhythm and counts the model's negatives, as the detector does."""
    alerts_per_storm: list[int] = field(default_factory=list)
    false: list[Sent] = field(default_factory=list)
    alerts: list[Sent] = field(default_factory=list)

    @property
    def false_alarms(self) -> int:
        return len(self.false)


def score_world(world: World, sent: Sequence[Sent], config: Config,
                seen: tuple[float, float] | None = None) -> list[CaseResult]:
    """Match each world's alerts to its planted storms; the rest are false alarms. ``seen``: the model's
    recall on gold negatives and its rate of false negatives among the others, for the third oracle."""
    size, cooldown = config.spikes.bucket, config.spikes.cooldown
    out = []
    for b, plan in enumerate(world.brands):
        mine = [s for s in sent if s.brand == b]
        result = CaseResult(plan, alerts=mine)
        used: set[int] = set()
        for storm in plan.storms:
            matched = [k for k, s in enumerate(mine) if storm.start <= s.sent_at <= storm.end + cooldown]
            used.update(matched)
            caught = [mine[k].sent_at for k in matched if mine[k].sent_at <= storm.end + size]
            result.delays.append((min(caught) - storm.start) / size if caught else None)
            result.chances.append(storm_chance(plan, storm, world.start, size))
            result.rhythm_chances.append(storm_chance(plan, storm, world.start, size, knows_day=False))
            result.model_chances.append(None if seen is None else storm_chance(plan, storm, world.start, size,
                                                                               knows_day=False, seen=seen))
            if caught:
                result.alerts_per_storm.append(len(matched))
        result.false = [s for k, s in enumerate(mine)
                        if k not in used and world.eval_start <= s.sent_at < world.eval_end]
        out.append(result)
    return out


@dataclass
class SuiteReport:
    """Every case of every world, plus how long it took."""

    cases: list[CaseResult]
    worlds: int
    mentions: int
    seconds: float
    model: str
    recall: float
    false_negative_rate: float

    def rows(self) -> list[dict[str, Any]]:
        """Per family, then "all": brand-weeks, storms, caught, within 2 buckets, delays, false alarms."""
        families = sorted({c.plan.family for c in self.cases})
        return [_row(f, [c for c in self.cases if c.plan.family == f]) for f in families] + [_row("all", self.cases)]


def _row(name: str, cases: list[CaseResult]) -> dict[str, Any]:
    delays = [d for c in cases for d in c.delays]
    caught = [d for d in delays if d is not None]
    per_storm = [n for c in cases for n in c.alerts_per_storm]
    chances = [p for c in cases for p in c.chances]
    rhythm = [p for c in cases for p in c.rhythm_chances]
    model = [p for c in cases for p in c.model_chances]
    weeks = len(cases)
    return {"family": name, "brand_weeks": weeks, "storms": len(delays), "caught": len(caught),
            "within_2": sum(d <= 2 for d in caught),
            "oracle_within_2": sum(chances) if chances and None not in chances else None,
            "rhythm_oracle_within_2": sum(rhythm) if rhythm and None not in rhythm else None,
            "model_oracle_within_2": sum(model) if model and None not in model else None,
            "median_delay": statistics.median(caught) if caught else None,
            "max_delay": max(caught) if caught else None, "false_alarms": sum(c.false_alarms for c in cases),
            "false_alarms_per_10": 10 * sum(c.false_alarms for c in cases) / weeks if weeks else 0.0,
            "alerts_per_storm": (sum(per_storm) / len(per_storm)) if per_storm else None}


def run_suite(pool: TextPool, config: Config, seeds: Sequence[int], *, history_days: int = 14,
              families: tuple[str, ...] | None = None, detector: Detector | None = None,
              console: Console | None = None) -> SuiteReport:
    """Generate and replay one world per seed; returns the scored cases."""
    from monitor.lab.scenarios import FAMILIES, generate_world, model_sight

    started = time.monotonic()
    detector = detector or load_detector(None)
    cases: list[CaseResult] = []
    mentions = 0
    for seed in seeds:
        world = generate_world(seed, pool, history_days=history_days, families=families or FAMILIES)
        mentions += len(world)
        t = time.monotonic()
        sent = replay(world, pool, config, detector)
        cases += score_world(world, sent, config, model_sight(pool))
        if console is not None:
            console.print(f"world {seed}: {len(world):,} mentions, {len(world.brands)} brands, "
                          f"{len(sent)} alert(s), {time.monotonic() - t:.0f}s")
    return SuiteReport(cases, len(seeds), mentions, time.monotonic() - started, pool.model_version,
                       pool.recall(), pool.false_negative_rate())


def suite_json(report: SuiteReport) -> dict[str, Any]:
    """The suite's figures (per family and overall) and every storm and false alarm, JSON-ready."""
    return {
        "worlds": report.worlds, "brand_weeks": len(report.cases), "mentions": report.mentions,
        "model": report.model, "model_recall": report.recall, "seconds": round(report.seconds, 1),
        "families": report.rows(),
        "storms": [{"brand": c.plan.name, "family": c.plan.family, "start": s.start.isoformat(),
                    "end": s.end.isoformat(), "rise": s.rise, "negatives_per_hour": round(c.plan.mean_negative, 2),
                    "delay_buckets": d, "oracle_within_2": p, "rhythm_oracle_within_2": q,
                    "model_oracle_within_2": r} for c in report.cases
                   for s, d, p, q, r in zip(c.plan.storms, c.delays, c.chances, c.rhythm_chances, c.model_chances,
                                            strict=True)],
        "false_alarms": [{"brand": c.plan.name, "family": c.plan.family, "sent_at": a.sent_at.isoformat(),
                          "summary": a.summary} for c in report.cases for a in c.false],
    }


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def print_suite(report: SuiteReport, console: Console) -> None:
    """The per-family table, then the storms missed or late and the false alarms, one line each."""
    console.print(f"[bold]Scenario suite[/bold]: {report.worlds} world(s), {len(report.cases)} brand-weeks, "
                  f"{report.mentions:,} mentions, model {report.model} (recall on gold negatives "
                  f"{report.recall:.0%}, calls {report.false_negative_rate:.0%} of the others negative), "
                  f"{report.seconds:.0f}s")
    table = Table(title="Per case family (delay: buckets from the storm's true start to the alert; "
                        "FA: false alarms)")
    for column in ("family", "brand-weeks", "storms", "caught", "≤2 buckets", "oracle ≤2 (day / rhythm / model)",
                   "median delay", "max delay", "FA", "FA per 10 brand-weeks", "alerts per storm"):
        table.add_column(column, justify="left" if column == "family" else "right",
                         no_wrap=column == "family" or column.startswith("oracle"))
    for r in report.rows():
        storms = r["storms"]
        table.add_row(r["family"], str(r["brand_weeks"]), str(storms) if storms else "-",
                      f"{r['caught']}/{storms}" if storms else "-", f"{r['within_2']}/{storms}" if storms else "-",
                      " / ".join(_fmt(r[k]) for k in ("oracle_within_2", "rhythm_oracle_within_2",
                                                      "model_oracle_within_2")) if storms else "-",
                      _fmt(r["median_delay"]), _fmt(r["max_delay"]), str(r["false_alarms"]),
                      f"{r['false_alarms_per_10']:.2f}", _fmt(r["alerts_per_storm"], ".2f"))
    console.print(table)
    console.print("  oracle ≤2: how many storms an oracle is expected to catch within 2 buckets at the same "
                  "false-alarm budget: seeing the gold labels and knowing each hour's expected negatives (day) or "
                  "only the brand's rhythm, not the day's level (rhythm); knowing the rhythm and counting the "
                  "model's negatives, as the detector does (model) (monitor/lab/scenario_bound.py)")
    for c in report.cases:
        for storm, delay, *odds in zip(c.plan.storms, c.delays, c.chances, c.rhythm_chances, c.model_chances,
                                       strict=True):
            if delay is None or delay > 2:
                oracle = "" if None in odds else f", oracles {' / '.join(f'{p:.0%}' for p in odds)} within 2"
                console.print(f"  {'missed' if delay is None else f'late ({delay:.0f} buckets)'}: {c.plan.name} "
                              f"{storm.rise:g}x from {storm.start:%a %H:%M} for {storm.end - storm.start} "
                              f"(~{c.plan.mean_negative:.1f} negatives/h{oracle})")
        for s in c.false:
            console.print(f"  false alarm: {c.plan.name} at {s.sent_at:%a %H:%M}: "
                          f"{s.summary or f'{s.observed:.0f} vs {s.expected:.1f} expected'}")
