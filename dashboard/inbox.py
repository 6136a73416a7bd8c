"""How the escalation inbox draws an escalation: a card with the customer's words first, the tier chip,
the facts a person needs to answer, and the audit trail as a table."""

from __future__ import annotations

import numbers
from datetime import datetime

import pandas as pd
import streamlit as st

from collectors.base import full_text
from dashboard import fmt, ui
from monitor.alerts.wording import count
from monitor.escalations.priority import TIER_NAMES

TIER_COLORS = {4: "red", 3: "orange", 2: "yellow", 1: "gray"}
TIMING_HELP = ("From when the rules flagged it: to the first response (acknowledge, resolve or dismiss), and to "
               "resolved. A dismissed escalation counts once: in the acknowledge times, never as resolved.")


def tier_name(tier: int) -> str:
    """``urgent``, ``high``, ``medium`` or ``low``."""
    return TIER_NAMES.get(int(tier), str(tier))


def followers(n: object) -> str:
    """A follower count as people say it (950, 12k, 1.2M): :func:`monitor.alerts.wording.count`, 0 when unknown."""
    value = int(n) if isinstance(n, numbers.Real) and not pd.isna(n) else 0  # numpy numbers too
    return count(value)


def text_or_none(value: object) -> str | None:
    """A text cell, or None when it is missing (pandas reads a missing text as NaN)."""
    return value if isinstance(value, str) and value else None


def _select(escalation_id: int) -> None:
    st.session_state["e_selected"] = escalation_id


def card_body(row: pd.Series, now: datetime) -> None:
    """The customer's words in full, then the tier chip, the facts and the reasons."""
    st.text(full_text(text_or_none(row["title"]), str(row["text"])), width="stretch")
    with st.container(horizontal=True, vertical_alignment="center"):
        st.badge(f"{tier_name(row['severity'])} · {int(row['priority'])}", color=TIER_COLORS.get(int(row["severity"]),
                                                                                                 "gray"))
        st.caption(meta(row, now))
    st.caption("why: " + ui.md_escape(" · ".join(row["reasons"] or [])))


def meta(row: pd.Series, now: datetime) -> str:
    """Brand · platform · author · reach · age since the customer posted · status and assignee (escaped)."""
    posted = ui.fmt_duration((now - pd.Timestamp(row["posted_at"]).to_pydatetime()).total_seconds())
    owner = f" to {assignee}" if (assignee := text_or_none(row["assignee"])) else ""
    author = text_or_none(row["author"]) or "unknown author"
    parts = [row["brand"], row["platform"], author, f"{followers(row['author_reach'])} followers",
             f"posted {posted} ago",
             f"{row['status']}{owner}"]
    return ui.md_escape(" · ".join(str(p) for p in parts))


def card(row: pd.Series, now: datetime) -> None:
    """One escalation in the queue, with a box to tick it for a bulk action and a button to open it."""
    eid = int(row["id"])
    with st.container(border=True, key=f"e_card_{eid}"):
        card_body(row, now)
        with st.container(horizontal=True):
            st.checkbox("Select", key=f"e_pick_{eid}")
            st.button("Open", key=f"e_open_{eid}", on_click=_select, args=(eid,), type="tertiary",
                      icon=":material/chevron_right:")


def trail_view(trail: pd.DataFrame, tz: str = "UTC") -> pd.DataFrame:
    """The audit trail as a person reads it: when (in the team's time zone ``tz``), who, what, detail."""
    if trail.empty:
        return pd.DataFrame(columns=["when", "who", "what", "detail"])
    what = [a if not f or f == t else f"{a} ({f} → {t})"
            for a, f, t in zip(trail["action"], trail["from_status"], trail["to_status"], strict=True)]
    return pd.DataFrame({"when": fmt.local_column(trail["at"], tz).dt.strftime("%Y-%m-%d %H:%M %Z"),
                         "who": trail["actor"], "what": what, "detail": trail["detail"].fillna("")})
