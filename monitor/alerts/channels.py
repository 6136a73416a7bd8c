"""Where alert delivery channels plug in: a channel is a class with one :meth:`Channel.notify`.

As in healthchecks' ``transports.py``: each kind of destination implements
``notify(alert, brand)`` and raises :class:`TransportError` when the message did not get
through. There are two kinds: the built-in email channel (:mod:`monitor.alerts.email`,
``alerts.recipients``) and every ``alerts.channels`` entry, an Apprise URL (Slack, Microsoft
Teams, Discord, Telegram, a JSON webhook, ...) sent through :mod:`monitor.alerts.chat`. The
outbox (:mod:`monitor.alerts.outbox`) keeps one delivery row per alert and channel, claims it,
calls the channel, and records the outcome, so a channel never touches the database.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

from monitor.config import Config
from monitor.errors import MonitorError
from monitor.store import Alert

EMAIL = "email"


class TransportError(MonitorError):
    """A delivery that failed; ``permanent`` when retrying cannot help (e.g. no recipients configured)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Channel(abc.ABC):
    """One destination for alerts, with the routing rule that says which alerts it wants."""

    kind: ClassVar[str]
    name: str

    def wants(self, brand: str, severity: int) -> bool:
        """Whether an alert of ``brand`` at ``severity`` goes here (every alert, unless overridden)."""
        return True

    @abc.abstractmethod
    def notify(self, alert: Alert, brand: str) -> str:
        """Deliver ``alert`` (of brand ``brand``); return a short note of where it went (never a secret).

        Raises :class:`TransportError` when it could not be delivered.
        """


def build_channels(config: Config, env: Mapping[str, str], *, now: datetime) -> list[Channel]:
    """The email channel, then one Apprise channel per ``alerts.channels`` entry, in config order."""
    from monitor.alerts.chat import AppriseChannel
    from monitor.alerts.email import EmailChannel

    channels: list[Channel] = [EmailChannel(config, env, now=now)]
    channels += [AppriseChannel(c, config, env, now=now) for c in config.alerts.channels]
    return channels
