"""Whether a source is healthy, in one word, by one rule (for `monitor status` and the dashboard).

- ``disabled``: not enabled in config.yaml;
- ``never run``: enabled, but no run recorded yet;
- ``paused``: paused until a time (a rate limit, or credentials the platform refused);
- ``failing``: its last run ended in an error (no success since the last error);
- ``late``: no run for more than twice its interval (the scheduler is down or stuck);
- ``ok``: otherwise.
"""

from __future__ import annotations

from datetime import datetime, timedelta

LATE_FACTOR = 2


def source_health(*, enabled: bool, interval: timedelta, now: datetime, last_run_at: datetime | None,
                  last_success_at: datetime | None, last_error_at: datetime | None,
                  paused_until: datetime | None) -> str:
    """One of disabled, never run, paused, failing, late, ok (see the module docstring)."""
    if not enabled:
        return "disabled"
    if last_run_at is None:
        return "never run"
    if paused_until is not None and paused_until > now:
        return "paused"
    if last_error_at is not None and (last_success_at is None or last_error_at >= last_success_at):
        return "failing"
    if now - last_run_at > LATE_FACTOR * interval:
        return "late"
    return "ok"
