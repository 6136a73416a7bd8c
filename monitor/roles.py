"""What a ``monitor run`` process can do, by name: ``monitor run --only ROLE`` runs just that.

- ``collect``: every enabled source at its interval (each source held by one process at a time);
- ``score``: the model over the unscored backlog (any number of processes share it batch by batch);
- ``detect``: escalation rules and spike detection (one process at a time);
- ``deliver``: alerts to their channels (one process at a time).

Kept apart from :mod:`monitor.scheduler` so the command line names them without importing it.
"""

from __future__ import annotations

ROLES = ("collect", "score", "detect", "deliver")
