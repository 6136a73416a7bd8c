"""Where alert delivery channels plug in: a channel is a class with one :meth:`Channel.notify`.

As in healthchecks' ``transports.py``: each kind of destination (email today; chat and
webhooks through a notification library) implements ``notify(alert, brand)`` and raises
:class:`TransportError` when the message did not get through. The outbox
(:mod:`monitor.alerts.outbox`) claims the alert row, calls the channel, and records the
outcome on the row, so a channel never touches the database.
"""

from __future__ import annotations

import abc
from typing import ClassVar

from monitor.errors import MonitorError
from monitor.store import Alert


class TransportError(MonitorError):
    """A delivery that failed; ``permanent`` when retrying cannot help (e.g. no recipients configured)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Channel(abc.ABC):
    """One destination for alerts."""

    kind: ClassVar[str]

    @abc.abstractmethod
    def notify(self, alert: Alert, brand: str) -> str:
        """Deliver ``alert`` (of brand ``brand``); return a short note of where it went.

        Raises :class:`TransportError` when it could not be delivered.
        """
