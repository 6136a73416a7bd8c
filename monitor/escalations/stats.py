"""Response times of the escalation queue, computed in one place for the CLI, the dashboard and reports.

Rule: an escalation's time to acknowledge runs from when it was flagged to the first
response (acknowledge, resolve or dismiss all count: each stamps ``acknowledged_at``); its
time to resolve runs to ``resolved_at`` and counts only escalations whose status is
``resolved`` (a dismissed one was answered, not resolved, so it is counted once, in the
acknowledge times). Percentiles interpolate linearly between the nearest values.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from monitor.store import Escalation, EscalationStatus
from monitor.store.sql import seconds_between


@dataclass(frozen=True)
class EscalationStats:
    """Counts by status and response times; times are None when nothing was measured."""

    total: int
    by_status: dict[str, int]
    time_to_acknowledge_median: timedelta | None
    time_to_acknowledge_p90: timedelta | None
    time_to_resolve_median: timedelta | None
    time_to_resolve_p90: timedelta | None


def percentiles(values: list[float]) -> tuple[timedelta | None, timedelta | None]:
    """Median and 90th percentile (linear interpolation) of ``values`` seconds; (None, None) when empty."""
    if not values:
        return None, None
    values = sorted(values)
    median = statistics.median(values)
    p90 = values[0] if len(values) == 1 else statistics.quantiles(values, n=10, method="inclusive")[-1]
    return timedelta(seconds=median), timedelta(seconds=p90)


def escalation_stats(bind: Engine | Connection, since: datetime | None = None,
                     until: datetime | None = None) -> EscalationStats:
    """Counts and response times for the escalations flagged in ``[since, until)`` (open-ended when None).

    Returns an :class:`EscalationStats`; raises only database errors.
    """
    e = Escalation.__table__.c  # type: ignore[attr-defined]
    dialect = bind.dialect.name
    stmt = select(e.status, seconds_between(dialect, e.acknowledged_at, e.created_at),
                  seconds_between(dialect, e.resolved_at, e.created_at))
    if since is not None:
        stmt = stmt.where(e.created_at >= since)
    if until is not None:
        stmt = stmt.where(e.created_at < until)
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            rows = conn.execute(stmt).all()
    else:
        rows = bind.execute(stmt).all()
    by_status: dict[str, int] = {s.value: 0 for s in EscalationStatus}
    tta: list[float] = []
    ttr: list[float] = []
    for status, ack, resolve in rows:
        by_status[status] = by_status.get(status, 0) + 1
        if ack is not None:
            tta.append(max(0.0, float(ack)))
        if resolve is not None and status == EscalationStatus.resolved:
            ttr.append(max(0.0, float(resolve)))
    ack_med, ack_p90 = percentiles(tta)
    res_med, res_p90 = percentiles(ttr)
    return EscalationStats(len(rows), by_status, ack_med, ack_p90, res_med, res_p90)
