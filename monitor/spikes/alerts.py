"""One alert per storm: open it, update it while the storm lasts, close it, respect the cool-down."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from monitor.config import Config
from monitor.spikes.details import details_for, summary, window_counts
from monitor.spikes.evidence import share_severity, volume_severity
from monitor.spikes.judgement import Judgement
from monitor.store import Alert, Brand

KEPT_BUCKETS = 48
VOLUME = "negative_volume"
SHARE = "negative_share"


def severity_of(j: Judgement, min_count: int) -> int:
    """1-4: how far the volume (the bucket, or the sustained window) is above expected, or how far the share rose."""
    sev = volume_severity(j.observed, j.expected, min_count)
    if j.sustained_fired:
        sev = max(sev, volume_severity(j.scan.observed, j.scan.expected, min_count))
    if j.share_fired:
        share = j.observed / j.total if j.total else 0.0
        sev = max(sev, share_severity(share - j.baseline_share))
    return sev


def _excess(kind: str, j: Judgement) -> tuple[float, float, float]:
    if kind == SHARE:
        return (j.observed / j.total if j.total else 0.0), j.baseline_share, j.p_share
    return float(j.observed), round(j.expected, 3), j.p_volume


def apply(session: Session, config: Config, brand: Brand, j: Judgement, now: datetime) -> list[Alert]:
    """Fold one judged bucket into the brand's alerts; returns the alerts it created or changed."""
    open_alert = session.exec(
        select(Alert).where(Alert.brand_id == brand.id, col(Alert.is_open)).order_by(col(Alert.id).desc())
    ).first()
    if open_alert is not None:
        if j.elevated:
            _update(session, config, brand, open_alert, j, now)
        elif not j.partial:
            open_alert.is_open = False
            open_alert.closed_at = j.start
            open_alert.updated_at = now
            session.add(open_alert)
        else:
            return []
        return [open_alert]
    if not j.fired:
        return []
    last = session.exec(
        select(Alert).where(Alert.brand_id == brand.id, col(Alert.closed_at).is_not(None))
        .order_by(col(Alert.closed_at).desc())
    ).first()
    if last is not None and last.closed_at is not None and j.start < last.closed_at + config.spikes.cooldown:
        last.is_open = True
        last.closed_at = None
        _update(session, config, brand, last, j, now)
        return [last]
    kind = VOLUME if j.volume_fired else SHARE
    observed, expected, p_value = _excess(kind, j)
    assert brand.id is not None
    alert = Alert(brand_id=brand.id, kind=kind, window_start=j.storm_start, window_end=j.end, observed=observed,
                  expected=expected, p_value=p_value, severity=severity_of(j, config.spikes.min_count),
                  created_at=now, updated_at=now)
    _update(session, config, brand, alert, j, now)
    return [alert]


def _update(session: Session, config: Config, brand: Brand, alert: Alert, j: Judgement, now: datetime) -> None:
    if alert.kind == SHARE and j.volume_fired:
        alert.kind = VOLUME  # the storm turned out to be a volume spike: report it as one
    alert.severity = max(alert.severity, severity_of(j, config.spikes.min_count))
    alert.window_end = max(alert.window_end, j.end)
    alert.updated_at = now
    this = j.as_dict()
    earlier = [b for b in j.window if b["start"] >= alert.window_start.isoformat()]
    merged = {b["start"]: b for b in [*alert.details.get("buckets", []), *earlier]}
    merged[this["start"]] = this
    buckets: list[dict[str, Any]] = sorted(merged.values(), key=lambda b: b["start"])[-KEPT_BUCKETS:]
    if alert.kind == SHARE:
        peak = max(buckets, key=lambda b: b.get("share", 0.0) - b.get("baseline_share", 0.0))
        alert.observed, alert.expected = peak.get("share", 0.0), peak.get("baseline_share", 0.0)
        alert.p_value = peak.get("p_share", 1.0)
    else:
        peak = max(buckets, key=lambda b: b["observed"] - b["expected"])
        alert.observed, alert.expected, alert.p_value = peak["observed"], peak["expected"], peak["p_value"]
    session.add(alert)
    session.flush()
    assert brand.id is not None
    mentions, people = window_counts(session, brand.id, alert.window_start, alert.window_end)
    expected = sum(b["expected"] for b in buckets if b["start"] >= alert.window_start.isoformat())
    alert.details = {
        "brand": brand.name,
        "kind": alert.kind,
        "summary": summary(alert.kind, mentions=mentions, people=people, expected=expected,
                           start=alert.window_start, end=alert.window_end,
                           ongoing=now - alert.window_end <= config.spikes.bucket,
                           share=(this["share"], this["baseline_share"], this["total"])),
        "bucket_seconds": int(config.spikes.bucket.total_seconds()),
        "method": j.method,
        "dispersion": round(j.dispersion, 3),
        "history_days": round(j.history_days, 1),
        "counted": "people" if config.spikes.people else "mentions",
        "window": {"negative_mentions": mentions, "people": people, "expected": round(expected, 1)},
        "volume": {"observed": j.observed, "expected": round(j.expected, 2), "p_value": j.p_volume},
        "sustained": {"statistic": round(j.scan.statistic, 2), "observed": j.scan.observed,
                      "expected": round(j.scan.expected, 2), "since": j.scan_start.isoformat()},
        "share": {"observed": round(j.observed / j.total, 3) if j.total else 0.0,
                  "expected": round(j.baseline_share, 3), "p_value": j.p_share, "total": j.total},
        "total_observed": sum(b["observed"] for b in buckets),
        "total_expected": round(sum(b["expected"] for b in buckets), 2),
        "buckets": buckets,
        **details_for(session, config, brand, alert),
    }
    session.add(alert)
