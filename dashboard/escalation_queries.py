"""The escalation inbox's reads: the queue with its filters, the people on it, an escalation's audit trail.

Cached and read-only like :mod:`dashboard.queries`; each takes a :class:`Source` first. The
queue sorts as the priority rule says (``monitor/escalations/priority.py``): priority, highest
first, then the customer's post, oldest first.
"""

from __future__ import annotations

from typing import NamedTuple, cast

import pandas as pd
from sqlalchemy import Table, func, or_, select

from dashboard.sql import B, E, M
from dashboard.store import Source, cached, frame
from monitor.store import EscalationEvent

EV = cast(Table, EscalationEvent.__table__)
QUEUE_LIMIT = 1000
UNASSIGNED = ""


class InboxFilter(NamedTuple):
    """What the inbox shows; a tuple so the cache can hash it. ``assignee`` None is anyone, "" unassigned."""

    statuses: tuple[str, ...] = ("open", "acknowledged")
    brand_ids: tuple[int, ...] = ()
    tiers: tuple[int, ...] = ()
    assignee: str | None = None
    platforms: tuple[str, ...] = ()


@cached
def inbox(src: Source, f: InboxFilter, limit: int = QUEUE_LIMIT) -> pd.DataFrame:
    """Escalations matching ``f`` with their mention, by priority then post age (at most ``limit``).

    Columns: id, priority, severity, status, version, brand_id, brand, platform, author,
    author_reach, engagement, title, text, url, posted_at (the customer's post), flagged_at,
    reasons, assignee, note, updated_by, updated_at, acknowledged_at, resolved_at, mention_id.
    """
    engagement = func.coalesce(func.nullif(M.c.engagement, 0), M.c.likes + M.c.replies + M.c.reposts + M.c.quotes)
    stmt = (
        select(E.c.id, E.c.priority, E.c.severity, E.c.status, E.c.version, E.c.brand_id, B.c.name.label("brand"),
               M.c.platform, M.c.author, M.c.author_reach, engagement.label("engagement"), M.c.title, M.c.text,
               M.c.url, M.c.created_at.label("posted_at"), E.c.created_at.label("flagged_at"), E.c.reasons,
               E.c.assignee, E.c.note, E.c.updated_by, E.c.updated_at, E.c.acknowledged_at, E.c.resolved_at,
               E.c.mention_id)
        .join(B, B.c.id == E.c.brand_id)
        .join(M, M.c.id == E.c.mention_id)
        .where(E.c.status.in_(list(f.statuses)))
        .order_by(E.c.priority.desc(), M.c.created_at.asc(), E.c.id)
        .limit(limit)
    )
    if f.brand_ids:
        stmt = stmt.where(E.c.brand_id.in_(list(f.brand_ids)))
    if f.tiers:
        stmt = stmt.where(E.c.severity.in_(list(f.tiers)))
    if f.platforms:
        stmt = stmt.where(M.c.platform.in_(list(f.platforms)))
    if f.assignee == UNASSIGNED:
        stmt = stmt.where(or_(E.c.assignee.is_(None), E.c.assignee == ""))
    elif f.assignee is not None:
        stmt = stmt.where(E.c.assignee == f.assignee)
    return frame(src, stmt)


@cached
def assignees(src: Source) -> list[str]:
    """Everyone an escalation is assigned to, sorted."""
    stmt = select(E.c.assignee).where(E.c.assignee.is_not(None), E.c.assignee != "").group_by(E.c.assignee)
    return sorted(frame(src, stmt)["assignee"].tolist())


@cached
def trail(src: Source, escalation_id: int) -> pd.DataFrame:
    """The audit trail of one escalation, oldest first: at, actor, action, from_status, to_status, detail."""
    stmt = (select(EV.c.at, EV.c.actor, EV.c.action, EV.c.from_status, EV.c.to_status, EV.c.detail)
            .where(EV.c.escalation_id == escalation_id).order_by(EV.c.at, EV.c.id))
    return frame(src, stmt)
