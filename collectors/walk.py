"""Incremental walks over APIs that return the newest items first (X search, Mastodon timelines).

Such an API pages backwards in time, so the newest id is known first but may only become the
new ``since_id`` once every page down to the old ``since_id`` is stored. Until then the state
keeps a pending walk: ``{"since_id": old, "pending": {"newest_id": ..., "until_id": ...}}``,
where ``until_id`` is the oldest id already yielded. A run that stops mid-walk (rate limit,
crash, page budget) resumes with ``until_id`` as the exclusive upper bound, so nothing is
skipped or repeated; when the walk reaches ``since_id`` the state collapses to
``{"since_id": newest_id, "pending": None}``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from collectors.text import id_key

log = logging.getLogger(__name__)
T = TypeVar("T")

Fetch = Callable[[str | None, str | None, Any], tuple[list[T], list[str], Any]]
"""``fetch(since_id, until_id, token) -> (items, their ids, next token or None)``.

``until_id`` is the exclusive upper bound the run started from; ``token`` is None for the
first page and otherwise what the previous call returned.
"""


def walk(state: dict[str, Any], fetch: Fetch[T], max_pages: int, label: str = "") -> Iterator[
    tuple[list[T], dict[str, Any]]
]:
    """Yield ``(items, new_state)`` per page, newest first, resuming any pending walk in ``state``.

    On a first run (no ``since_id``) the walk stops after ``max_pages`` and older items are
    left alone; otherwise a walk cut short by ``max_pages`` stays pending and continues on the
    next run. Exceptions from ``fetch`` propagate; states already yielded stay valid.
    """
    since: str | None = state.get("since_id")
    pending: dict[str, str] | None = dict(state["pending"]) if state.get("pending") else None
    start_until = pending["until_id"] if pending else None
    token: Any = None
    for _ in range(max_pages):
        items, ids, token = fetch(since, start_until, token)
        if ids:
            low, high = min(ids, key=id_key), max(ids, key=id_key)
            if pending is None:
                pending = {"newest_id": high, "until_id": low}
            else:
                pending["until_id"] = min(pending["until_id"], low, key=id_key)
        if not token or not ids:
            yield items, {"since_id": pending["newest_id"] if pending else since, "pending": None}
            return
        yield items, {"since_id": since, "pending": dict(pending) if pending else None}
    if since is None and pending is not None:
        log.info("%s: first run stopped after %d pages; older items are not collected", label, max_pages)
        yield [], {"since_id": pending["newest_id"], "pending": None}
    elif pending is not None:
        log.info("%s: %d pages collected, the rest continues next run", label, max_pages)
