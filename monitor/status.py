"""Health figures for `monitor status` (and the dashboard's health page)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from monitor.context import App
from monitor.health import source_health
from monitor.ingest.deadletter import open_counts
from monitor.store import (
    Alert,
    AlertDelivery,
    DeliveryStatus,
    Escalation,
    EscalationStatus,
    Mention,
    SourceState,
    utcnow,
)
from monitor.store.sql import unscored


def rejected_counts(engine: Engine) -> dict[str, int]:
    """Open dead letters per source (items rejected at the edge and not yet retried or dropped).

    For the dashboard's health page as for ``monitor status``; ``sum(...values())`` is the total.
    """
    return open_counts(engine)


def gather(app: App) -> dict[str, Any]:
    """Per-source state for every configured source, and store-wide totals (``rejected``: open dead letters)."""
    enabled = app.config.sources.enabled()
    rejected = rejected_counts(app.engine)
    with Session(app.engine) as session:
        states = {s.name: s for s in session.exec(select(SourceState)).scalars()}
        scalar = session.execute
        totals = {
            "mentions": scalar(select(func.count()).select_from(Mention)).scalar_one(),
            "unscored": scalar(unscored(func.count())).scalar_one(),
            "open_escalations": scalar(
                select(func.count()).select_from(Escalation).where(
                    Escalation.status.in_([EscalationStatus.open, EscalationStatus.acknowledged]))
            ).scalar_one(),
            "open_alerts": scalar(select(func.count()).select_from(Alert).where(Alert.is_open)).scalar_one(),
            "undelivered_alerts": scalar(
                select(func.count(func.distinct(AlertDelivery.alert_id)))
                .where(AlertDelivery.status != DeliveryStatus.sent)
            ).scalar_one(),
            "rejected": sum(rejected.values()),
        }
    sources = []
    now = utcnow()
    for name, cfg in app.config.sources:
        st = states.get(name)
        sources.append({
            "name": name,
            "enabled": name in enabled,
            "health": source_health(enabled=name in enabled, interval=cfg.interval, now=now,
                                    last_run_at=st.last_run_at if st else None,
                                    last_success_at=st.last_success_at if st else None,
                                    last_error_at=st.last_error_at if st else None,
                                    paused_until=st.paused_until if st else None),
            "last_run_at": st.last_run_at if st else None,
            "last_success_at": st.last_success_at if st else None,
            "last_error": st.last_error if st else None,
            "paused_reason": st.paused_reason if st and st.paused_until else None,
            "mentions_collected": st.mentions_collected if st else 0,
            "rejected": rejected.get(name, 0),
        })
    return {"sources": sources, "totals": totals, "escalations_7d": escalation_summary(app)}


def escalation_summary(app: App, days: int = 7) -> dict[str, Any]:
    """The response times of escalations flagged in the last ``days`` days, in seconds (None when unmeasured),
    and their count per status: :func:`monitor.escalations.stats.escalation_stats`, as the dashboard shows them."""
    from monitor.escalations.stats import escalation_stats

    stats = escalation_stats(app.engine, since=utcnow() - timedelta(days=days))
    times = {"time_to_acknowledge_median": stats.time_to_acknowledge_median,
             "time_to_acknowledge_p90": stats.time_to_acknowledge_p90,
             "time_to_resolve_median": stats.time_to_resolve_median,
             "time_to_resolve_p90": stats.time_to_resolve_p90}
    return {"flagged": stats.total, "by_status": stats.by_status,
            **{f"{k}_s": v.total_seconds() if v is not None else None for k, v in times.items()}}
