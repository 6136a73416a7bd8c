"""Alerts: the outbox every alert is delivered from, the channels it goes through, and what people do to it.

- :mod:`monitor.alerts.outbox`: one delivery row per alert and channel; claim it, deliver, record the outcome, retry;
- :mod:`monitor.alerts.channels`: the :class:`Channel` interface, and the channels the config asks for;
- :mod:`monitor.alerts.email`: the email channel (SMTP, or ``.eml`` files in the outbox folder);
- :mod:`monitor.alerts.chat`: Slack, Teams, Discord, webhooks and the rest through Apprise;
- :mod:`monitor.alerts.wording`: an alert in plain words, for every channel and the dashboard;
- :mod:`monitor.alerts.links`: the dashboard URLs an alert links to;
- :mod:`monitor.alerts.actions`: acknowledge and resolve, with who and when.
"""

from __future__ import annotations

from monitor.alerts.outbox import DeliveryReport, backoff, claim, send_pending

__all__ = ["DeliveryReport", "backoff", "claim", "send_pending"]
