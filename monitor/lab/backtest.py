"""Backtest: replay a timestamped mention file through scoring and detection as if it were live.

Rows without a ``label``/``sentiment`` column are scored once, up front, in large batches
(the real scorer); rows with one use it as their score. The clock then steps one bucket at
a time over a temporary SQLite database: at each step the mentions created before the clock
are ingested as if collected at that moment (``collected_at`` and ``scored_at`` are the
clock, so coverage, warm-up and the escalation watermark see what a live run would), and
:func:`monitor.jobs.run_detection` runs with ``now`` set to the clock. Every alert that
would have been emailed is reported with the time it would have gone out, and every
escalation that would have been flagged.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, update
from sqlmodel import SQLModel, col, select

from collectors.base import Mention as Incoming
from collectors.file import read_mentions
from monitor.config import Config
from monitor.errors import MonitorError
from monitor.ingest import ingest_mentions
from monitor.ingest.matching import Matcher
from monitor.jobs import run_detection
from monitor.scoring import mention_text
from monitor.store import Alert, Brand, Escalation, Mention, Sentiment, make_engine, session_scope, to_db

LABELS = {"negative": "negative", "neg": "negative", "-1": "negative", "neutral": "neutral", "neu": "neutral",
          "0": "neutral", "positive": "positive", "pos": "positive", "1": "positive"}
PROBS = {"negative": (1.0, 0.0, 0.0), "neutral": (0.0, 1.0, 0.0), "positive": (0.0, 0.0, 1.0)}
SCORE_BATCH = 512

Key = tuple[str, str]
Probs = tuple[str, float, float, float]


class BacktestError(MonitorError):
    """The file cannot be replayed (empty, or unlabelled rows with no scorer); the message says why."""


@dataclass(frozen=True)
class BacktestAlert:
    """An alert as the backtest saw it: when it would have been sent, and its final state."""

    sent_at: datetime
    brand: str
    kind: str
    window_start: datetime
    window_end: datetime
    observed: float
    expected: float
    p_value: float
    severity: int
    closed_at: datetime | None
    rising_terms: list[str]
    summary: str = ""


@dataclass(frozen=True)
class BacktestEscalation:
    """An escalation the replay flagged (``priority`` is None until the store has one)."""

    platform: str
    native_id: str
    brand: str
    severity: int
    priority: float | None
    reasons: list[str]


@dataclass
class BacktestReport:
    """Everything :func:`backtest` found; ``per_brand_week`` counts alerts by (brand, Monday)."""

    path: Path
    bucket: timedelta
    start: datetime | None = None
    end: datetime | None = None
    mentions: int = 0
    stored: int = 0
    labelled: int = 0
    model_scored: int = 0
    steps: int = 0
    escalations: int = 0
    alerts: list[BacktestAlert] = field(default_factory=list)
    flagged: list[BacktestEscalation] = field(default_factory=list)
    per_brand_week: dict[tuple[str, date], int] = field(default_factory=dict)
    seconds: float = 0.0


def _label(m: Incoming) -> str | None:
    raw = m.raw.get("label", m.raw.get("sentiment"))
    return LABELS.get(str(raw).strip().lower()) if raw not in (None, "") else None


def score_up_front(mentions: list[Incoming], scorer: Any) -> dict[Key, Probs]:
    """The model's (label, p_negative, p_neutral, p_positive) for each mention, each distinct text scored once."""
    texts = sorted({mention_text(m.title, m.text) for m in mentions})
    scores: dict[str, Probs] = {}
    for i in range(0, len(texts), SCORE_BATCH):
        chunk = texts[i:i + SCORE_BATCH]
        for text, s in zip(chunk, scorer.score(chunk), strict=True):
            scores[text] = (str(s.label), float(s.p_negative), float(s.p_neutral), float(s.p_positive))
    return {(m.platform, str(m.native_id)): scores[mention_text(m.title, m.text)] for m in mentions}


def backtest(path: str | Path, app_or_config: Any, scorer: Any = None, *,
             bucket: timedelta | None = None) -> BacktestReport:
    """Replay ``path`` (JSONL or CSV) bucket by bucket; returns a :class:`BacktestReport`.

    ``app_or_config`` is an :class:`monitor.context.App` or a :class:`Config`; ``scorer`` is
    only used for rows without a label (with an App and no scorer, ``App.scorer`` is loaded
    when such rows exist). ``bucket`` overrides ``spikes.bucket``. Raises :class:`BacktestError`
    for an empty file or unlabelled rows with no scorer, ``FatalSourceError`` for a CSV
    without the required columns, and whatever the scorer raises.
    """
    started = time.monotonic()
    config: Config = app_or_config if isinstance(app_or_config, Config) else app_or_config.config
    app = None if isinstance(app_or_config, Config) else app_or_config
    if bucket is not None:
        config = config.model_copy(update={"spikes": config.spikes.model_copy(update={"bucket": bucket})})
    size = config.spikes.bucket
    report = BacktestReport(path=Path(path), bucket=size)
    mentions = sorted(read_mentions(path), key=lambda m: m.created_at)
    if not mentions:
        raise BacktestError(f"{path}: no valid mentions to replay")
    report.mentions = len(mentions)
    scores: dict[Key, Probs] = {}
    for m in mentions:
        label = _label(m)
        if label is not None:
            scores[(m.platform, str(m.native_id))] = (label, *PROBS[label])
    unlabelled = [m for m in mentions if (m.platform, str(m.native_id)) not in scores]
    model = None
    if unlabelled:
        if scorer is None and app is None:
            raise BacktestError(f"{path}: some rows have no label column; a scorer is needed to score them")
        model = scorer if scorer is not None else app.scorer  # type: ignore[union-attr]
        scores.update(score_up_front(unlabelled, model))
    version = str(getattr(model, "version", "model"))
    model_keys = {(m.platform, str(m.native_id)) for m in unlabelled}
    first, last = to_db(mentions[0].created_at), to_db(mentions[-1].created_at)
    epoch = datetime(1970, 1, 1)
    clock = epoch + size * ((first - epoch) // size + 1)
    report.start, report.end = clock - size, epoch + size * ((last - epoch) // size + 2)
    matcher = Matcher(config.brands)
    with tempfile.TemporaryDirectory(prefix="monitor-backtest-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'backtest.db'}")
        SQLModel.metadata.create_all(engine)
        try:
            i = 0
            sent: list[tuple[datetime, int]] = []
            while clock <= report.end:
                batch = []
                while i < len(mentions) and to_db(mentions[i].created_at) < clock:
                    batch.append(mentions[i])
                    i += 1
                if batch:
                    result = ingest_mentions(engine, "backtest", batch, config.brands, matcher=matcher)
                    report.stored += result.stored
                    _record(engine, result.mention_ids, scores, model_keys, version, clock, report)
                detected = run_detection(engine, config, now=clock)
                report.steps += 1
                sent += [(clock, alert.id or 0) for alert in detected.new_alerts]
                clock += size
            _finalise(engine, report, sent)
        finally:
            engine.dispose()
    report.seconds = time.monotonic() - started
    return report


def _record(engine: Any, ids: list[int], scores: dict[Key, Probs], model_keys: set[Key], version: str,
            clock: datetime, report: BacktestReport) -> None:
    """Mark the stored mentions collected at ``clock`` and write their scores, scored at ``clock``."""
    if not ids:
        return
    with session_scope(engine) as session:
        session.execute(update(Mention).where(col(Mention.id).in_(ids)).values(collected_at=clock))
        rows = session.exec(select(Mention.id, Mention.platform, Mention.native_id)
                            .where(col(Mention.id).in_(ids))).all()
        values = []
        for mention_id, platform, native_id in rows:
            label, neg, neu, pos = scores[(platform, native_id)]
            by_model = (platform, native_id) in model_keys
            values.append({"mention_id": mention_id, "label": label, "p_negative": neg, "p_neutral": neu,
                           "p_positive": pos, "model_version": version if by_model else "label", "scored_at": clock})
            report.model_scored += by_model
            report.labelled += not by_model
        session.execute(insert(Sentiment), values)


def _snapshot(alert: Alert, sent_at: datetime, brand: str) -> BacktestAlert:
    return BacktestAlert(sent_at, brand, alert.kind, alert.window_start, alert.window_end, alert.observed,
                         alert.expected, alert.p_value, alert.severity, alert.closed_at,
                         [t["term"] for t in alert.details.get("rising_terms", [])[:5]],
                         str(alert.details.get("summary", "")))


def _finalise(engine: Any, report: BacktestReport, sent: list[tuple[datetime, int]]) -> None:
    """Report each alert in its final state (whole window, peak, closed), the escalations, and alerts per brand-week."""
    with session_scope(engine) as session:
        names = {b.id: b.name for b in session.exec(select(Brand)).all()}
        for sent_at, alert_id in sent:
            alert = session.get(Alert, alert_id)
            if alert is not None:
                report.alerts.append(_snapshot(alert, sent_at, names.get(alert.brand_id, "?")))
        rows = session.exec(select(Escalation, Mention.platform, Mention.native_id)
                            .join(Mention, col(Mention.id) == col(Escalation.mention_id))
                            .order_by(col(Escalation.id))).all()
        report.flagged = [BacktestEscalation(platform, native_id, names.get(esc.brand_id, "?"), esc.severity,
                                             getattr(esc, "priority", None), list(esc.reasons))
                          for esc, platform, native_id in rows]
        report.escalations = len(report.flagged)
    weeks: Counter[tuple[str, date]] = Counter()
    for a in report.alerts:
        monday = (a.sent_at - timedelta(days=a.sent_at.weekday())).date()
        weeks[(a.brand, monday)] += 1
    report.per_brand_week = dict(sorted(weeks.items()))


def report_json(report: BacktestReport) -> dict[str, Any]:
    """The alerts and escalations the replay raised, as plain JSON-ready values (times ISO-8601 UTC)."""
    return {
        "file": str(report.path), "bucket_seconds": int(report.bucket.total_seconds()),
        "start": report.start.isoformat() if report.start else None,
        "end": report.end.isoformat() if report.end else None, "mentions": report.mentions,
        "alerts": [{"brand": a.brand, "kind": a.kind, "sent_at": a.sent_at.isoformat(),
                    "window_start": a.window_start.isoformat(), "window_end": a.window_end.isoformat(),
                    "observed": a.observed, "expected": a.expected, "severity": a.severity,
                    "summary": a.summary} for a in report.alerts],
        "escalations": [{"platform": e.platform, "native_id": e.native_id, "brand": e.brand,
                         "severity": e.severity, "priority": e.priority, "reasons": e.reasons}
                        for e in report.flagged],
    }


def write_json(report: BacktestReport, path: str | Path) -> None:
    """Write :func:`report_json` to ``path``."""
    Path(path).write_text(json.dumps(report_json(report), indent=2) + "\n", encoding="utf-8")


def print_backtest(report: BacktestReport, console: Console) -> None:
    """Render the report with rich: every alert with its send time, then alerts per brand-week."""
    console.print(f"[bold]Backtest[/bold] {report.path}: {report.mentions:,} mentions "
                  f"({report.stored:,} matched a brand; {report.labelled:,} labelled, "
                  f"{report.model_scored:,} scored by the model), {report.steps:,} steps of {report.bucket}, "
                  f"{report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC, "
                  f"{report.seconds:.1f}s")
    table = Table(title=f"{len(report.alerts)} alert(s) that would have been sent")
    for column in ("sent (UTC)", "brand", "kind", "window", "observed", "expected", "sev", "why", "drivers"):
        table.add_column(column)
    for a in report.alerts:
        share = a.kind == "negative_share"
        window = f"{a.window_start:%m-%d %H:%M}–{a.window_end:%H:%M}" + ("" if a.closed_at else " (open)")
        table.add_row(f"{a.sent_at:%Y-%m-%d %H:%M}", a.brand, a.kind, window,
                      f"{a.observed:.0%}" if share else f"{a.observed:.0f}",
                      f"{a.expected:.0%}" if share else f"{a.expected:.1f}",
                      str(a.severity), a.summary, ", ".join(a.rising_terms))
    console.print(table)
    weeks = Table(title="Alerts per brand-week")
    for column in ("brand", "week of", "alerts"):
        weeks.add_column(column)
    for (brand, monday), n in report.per_brand_week.items():
        weeks.add_row(brand, monday.isoformat(), str(n))
    console.print(weeks if report.per_brand_week else "No alerts: no brand-week had one.")
    console.print(f"Escalations flagged: {report.escalations:,}")
