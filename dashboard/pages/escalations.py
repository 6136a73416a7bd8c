"""Escalations: the queue by severity then age, the actions on it, and response times."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import queries, ui
from monitor.escalations.workflow import assign, transition
from monitor.store import utcnow

ctx = ui.current()
st.title("Escalations")
ui.flash()
STATUSES = ("open", "acknowledged", "resolved", "dismissed")
ACTIONS = [("Acknowledge", "acknowledged"), ("Resolve", "resolved"), ("Dismiss", "dismissed"), ("Reopen", "open")]
st.pills("Status", STATUSES, selection_mode="multi", default=["open", "acknowledged"], key="e_status",
         persist_state="session")


def _act(escalation_id: int, to: str | None, assignee: str) -> None:
    """Run one workflow action through :func:`dashboard.ui.act`."""
    engine = queries.engine_for(ctx.src.url)
    if to is None:
        ui.act(lambda: assign(engine, escalation_id, assignee),
               f"Escalation #{escalation_id} assigned to {ui.md_escape(assignee) if assignee else 'nobody'}.")
    else:
        ui.act(lambda: transition(engine, escalation_id, to, by=ui.user_name(), assignee=assignee or None),
               f"Escalation #{escalation_id} is now {to}.")


def _actions(queue: pd.DataFrame) -> None:
    st.subheader("Act on an escalation", anchor=False)
    labels = {int(r.id): f"#{r.id} · severity {r.severity} · {r.status} · {r.brand}" for r in queue.itertuples()}
    eid = st.selectbox("Escalation", list(labels), key="e_selected", format_func=labels.get)
    row = queue.loc[queue["id"] == eid].iloc[0]
    with st.container(border=True):
        st.caption(f"{ui.md_escape(row['brand'])} · {ui.md_escape(row['platform'])} · "
                   f"{ui.md_escape(row['author'])} · reasons: {ui.md_escape(', '.join(row['reasons'] or []))}")
        st.text(str(row["text"]), width="stretch")
        if url := ui.safe_url(row["url"]):
            st.link_button("Open original", url, icon=":material/open_in_new:")
    name = st.text_input("Assignee", value=row["assignee"] or ui.user_name(), key=f"e_assignee_{eid}")
    with st.container(horizontal=True):
        if st.button("Assign", key="e_assign", icon=":material/person:"):
            _act(eid, None, name)
        for label, to in ACTIONS:
            primary = to == "acknowledged" and row["status"] == "open"
            if st.button(label, key=f"e_{to}", type="primary" if primary else "secondary",
                         disabled=row["status"] == to or (to == "open" and row["status"] == "open")):
                _act(eid, to, name)


@ui.live(ctx)
def body() -> None:
    win = ui.window()
    t = queries.escalation_timings(ctx.src, win.start, win.end)
    a, b, c, d, e = st.columns(5)
    a.metric("Created", int(t["created"] or 0), help=f"escalations created in the {win.label}")
    b.metric("Acknowledge, median", ui.fmt_duration(t["ack_median"]))
    c.metric("Acknowledge, p90", ui.fmt_duration(t["ack_p90"]))
    d.metric("Resolve, median", ui.fmt_duration(t["resolve_median"]))
    e.metric("Resolve, p90", ui.fmt_duration(t["resolve_p90"]))
    statuses = tuple(st.session_state.get("e_status") or STATUSES)
    queue = queries.escalation_queue(ctx.src, statuses)
    st.subheader(f"Queue ({len(queue)})", anchor=False)
    if queue.empty:
        st.info("Nothing in the queue for these statuses.")
        return
    now = utcnow()
    view = queue.assign(
        age=[ui.fmt_duration((now - c).total_seconds()) for c in queue["created_at"]],
        reasons=queue["reasons"].map(lambda r: ", ".join(r or [])),
        assignee=queue["assignee"].fillna(""),
        url=queue["url"].map(ui.safe_url),
    )
    st.dataframe(
        view[["id", "severity", "status", "brand", "age", "assignee", "reasons", "platform", "text", "url"]],
        hide_index=True, key="e_table",
        column_config={
            "severity": st.column_config.NumberColumn("severity", format="%d ⚑"),
            "text": st.column_config.TextColumn("text", width="large"),
            "url": st.column_config.LinkColumn("link", display_text="open"),
        },
    )
    _actions(queue)


body()
