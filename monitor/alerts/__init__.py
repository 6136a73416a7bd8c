"""Alerts: the outbox every alert is delivered from, and the channels it is delivered through.

- :mod:`monitor.alerts.outbox`: claim a due alert row, deliver it, record the outcome, retry with backoff;
- :mod:`monitor.alerts.channels`: the :class:`Channel` interface new destinations implement;
- :mod:`monitor.alerts.email`: the email channel (SMTP, or ``.eml`` files in the outbox folder).
"""

from __future__ import annotations

from monitor.alerts.outbox import DeliveryReport, backoff, claim, send_pending

__all__ = ["DeliveryReport", "backoff", "claim", "send_pending"]
