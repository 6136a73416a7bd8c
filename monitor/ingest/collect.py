"""Run one source: page by page through the ingest pipeline, recording health.

A page and its cursor are stored together, so a stop between pages (SIGTERM, a rate
limit, a crash) leaves no half-written batch and the next run resumes from the cursor.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from collectors.base import (
    FatalSourceError,
    Mention,
    NotConfigured,
    RateLimited,
    RetriableError,
)
from collectors.registry import build
from monitor.context import App
from monitor.errors import UsageError
from monitor.ingest.matching import Matcher
from monitor.ingest.pipeline import IngestResult, ingest_mentions, load_cursor, match_brands
from monitor.store import SourceState, session_scope, to_db, utcnow

log = logging.getLogger(__name__)
PAUSE_FOR_FATAL = timedelta(days=3650)


class UnknownSource(UsageError):
    """The source name is not in config.yaml's sources."""


@dataclass
class CollectReport:
    """What a run did; ``status`` is ok, skipped, paused, rate_limited or error.

    ``str(report)`` is its one result line, e.g. ``x: ok, 12 new, 0 duplicate, 3 unmatched``.
    """

    source: str
    status: str = "ok"
    message: str = ""
    pages: int = 0
    result: IngestResult = field(default_factory=IngestResult)
    preview: list[tuple[Mention, dict[str, list[str]]]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True when the source errored or is paused for an error (the CLI then exits 1)."""
        return self.status in ("error", "paused")

    def __str__(self) -> str:
        return f"{self.source}: {self.status}, {self.result}" + (f" ({self.message})" if self.message else "")


def _record(app: App, name: str, report: CollectReport, now: datetime,
            paused_until: datetime | None = None) -> None:
    with session_scope(app.engine) as session:
        state = session.get(SourceState, name) or SourceState(name=name)
        state.last_run_at = now
        state.runs += 1
        if report.status == "ok":
            state.last_success_at = now
            state.paused_until = None
            state.paused_reason = None
            state.last_error = None
            state.last_error_at = None
        else:
            state.last_error = report.message
            state.last_error_at = now
        if paused_until is not None:
            state.paused_until = paused_until
            state.paused_reason = report.message
        session.add(state)


def paused(app: App, name: str, now: datetime | None = None) -> str | None:
    """The reason ``name`` is paused (rate limit or fatal error), or None if it may run."""
    now = now or utcnow()
    with Session(app.engine) as session:
        state = session.get(SourceState, name)
    if state and state.paused_until and state.paused_until > now:
        return state.paused_reason or "paused"
    return None


def collect_source(
    app: App,
    name: str,
    *,
    dry_run: bool = False,
    stop: threading.Event | None = None,
    now: datetime | None = None,
) -> CollectReport:
    """Fetch new mentions from source ``name`` and store them page by page.

    With ``dry_run`` nothing is stored: matching mentions are returned in ``preview`` and
    rejected items counted. Source errors are caught and recorded, not logged (the caller
    prints or logs the report's one line): NotConfigured: skipped; RateLimited: paused until
    the reset; FatalSourceError: paused until run by hand; RetriableError: retried next run.
    Raises :class:`UnknownSource` for a name not in config.yaml.
    """
    options = getattr(app.config.sources, name, None)
    if options is None:
        raise UnknownSource(f"unknown source {name!r}; configured: {', '.join(n for n, _ in app.config.sources)}")
    now = now or utcnow()
    report = CollectReport(source=name)
    brands = app.config.brands
    matcher = Matcher(brands)
    cursor = {} if dry_run else load_cursor(app.engine, name)
    paused_until = None
    try:
        collector = build(name, options, brands, app.env)
        for page in collector.fetch(cursor):
            report.pages += 1
            if dry_run:
                report.result.rejected += len(page.rejected)
                for m in page.mentions:
                    hit = match_brands(matcher, m)
                    if hit:
                        report.preview.append((m, hit))
            else:
                report.result += ingest_mentions(app.engine, name, page.mentions, brands, page.cursor,
                                                 matcher=matcher, rejected=page.rejected)
            if stop is not None and stop.is_set():
                report.message = "stopped between pages; the next run resumes from the cursor"
                break
    except NotConfigured as err:
        report.status, report.message = "skipped", str(err)
    except RateLimited as err:
        report.status = "rate_limited"
        paused_until = to_db(err.reset_at) if err.reset_at else now + timedelta(minutes=15)
        report.message = f"{name}: rate limited until {paused_until:%Y-%m-%d %H:%M} UTC; resumes from the cursor"
    except FatalSourceError as err:
        report.status, report.message = "paused", f"{err} (source paused; fix it, then run `monitor collect {name}`)"
        paused_until = now + PAUSE_FOR_FATAL
    except RetriableError as err:
        report.status, report.message = "error", str(err)
    except Exception as err:  # a bug or an unforeseen failure: record it, keep the daemon up
        report.status, report.message = "error", f"{type(err).__name__}: {err}"
        log.debug("%s: collector failed", name, exc_info=True)
    if not dry_run:
        _record(app, name, report, now, paused_until)
    return report
