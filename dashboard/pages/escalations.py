"""Escalations: the inbox a care team works through, highest priority first, then the oldest post.

Each card shows the customer's words first and in full, then the brand, platform, author,
reach, how long ago the customer posted, the severity tier as a coloured chip and the reasons.
Filters: brand, tier, status, assignee (and the sidebar's platforms). Tick cards to
acknowledge, assign or dismiss them together; open one for its actions, notes and audit trail.
Every action is made under the name from :func:`dashboard.ui.user_name` and names the version
of the escalation the person saw, so a change someone else made meanwhile is never overwritten.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import escalation_queries as eq
from dashboard import inbox, queries, ui
from monitor.alerts import links
from monitor.escalations.workflow import ConflictError, add_note, assign, bulk, transition
from monitor.store import utcnow

ctx = ui.current()
st.title("Escalations")
ui.flash()
STATUSES = ("open", "acknowledged", "resolved", "dismissed")
ACTIONS = [("Acknowledge", "acknowledged"), ("Resolve", "resolved"), ("Dismiss", "dismissed"), ("Reopen", "open")]
ANYONE = "Anyone"
brands = ui.brand_names(ctx)


def _from_link() -> None:
    """A shared link opens the inbox where it points, once per link: ``?brand=NAME`` (an alert email's
    "escalations" button) filters to that brand, ``?escalation=ID`` (the home page) opens that one."""
    name, esc = st.query_params.get(links.BRAND_PARAM), st.query_params.get(links.ESCALATION_PARAM)
    if st.session_state.get("e_link") == (name, esc):
        return
    st.session_state["e_link"] = (name, esc)
    by_name = {v.lower(): k for k, v in brands.items()}
    if name and name.lower() in by_name:
        st.session_state["e_brands"] = [by_name[name.lower()]]
    if esc and esc.isdigit():
        st.session_state["e_selected"] = int(esc)
        st.session_state["e_status"] = list(STATUSES)  # a linked escalation shows whatever its state


_from_link()
with st.container(horizontal=True):
    st.multiselect("Brand", list(brands), format_func=brands.get, key="e_brands", placeholder="All brands",
                   persist_state="session")
    st.pills("Tier", [4, 3, 2, 1], selection_mode="multi", format_func=inbox.tier_name, key="e_tiers",
             persist_state="session")
    st.pills("Status", STATUSES, selection_mode="multi", default=["open", "acknowledged"], key="e_status",
             persist_state="session")
    people = [ANYONE, eq.UNASSIGNED, *eq.assignees(ctx.src)]
    st.selectbox("Assignee", people, key="e_assignee", format_func=lambda a: a or "Unassigned",
                 persist_state="session")


def _filter() -> eq.InboxFilter:
    who = st.session_state.get("e_assignee", ANYONE)
    return eq.InboxFilter(statuses=tuple(st.session_state.get("e_status") or STATUSES),
                          brand_ids=tuple(st.session_state.get("e_brands") or ()),
                          tiers=tuple(st.session_state.get("e_tiers") or ()),
                          assignee=None if who == ANYONE else who, platforms=ui.selected_platforms())


def _seen(escalation_id: int, current: int) -> int:
    """The version of the escalation this person last saw (the one now shown, if this is the first look)."""
    return int(st.session_state.get("e_seen", {}).get(escalation_id, current))


def _saw(versions: dict[int, int]) -> None:
    """Record the versions this person has now seen (or made, by acting)."""
    st.session_state["e_seen"] = {**st.session_state.get("e_seen", {}), **versions}


def _act(escalation_id: int, version: int, run: Any, done: str) -> None:
    """One action through :func:`dashboard.ui.act`.

    After a refusal the person has seen the new state; after success, the version their own
    action made is the one they know, so their next action on it is not refused as stale even
    when it comes before the page has finished redrawing.
    """
    def action() -> None:
        try:
            row = run(version)
        except ConflictError as err:
            _saw({escalation_id: err.version})
            raise
        _saw({escalation_id: int(row.version)})

    ui.act(action, done)


def _bulk(queue: pd.DataFrame) -> None:
    picked = [int(i) for i in queue["id"] if st.session_state.get(f"e_pick_{int(i)}")]
    versions = dict(zip(queue["id"].astype(int), queue["version"].astype(int), strict=True))
    engine = queries.engine_for(ctx.src.url)
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.caption(f"{len(picked)} selected")
        who = st.text_input("Assign to", key="e_bulk_assignee", placeholder="name")
        choices = [("Acknowledge", "acknowledged"), ("Assign", "assign"), ("Dismiss", "dismissed")]
        for label, action in choices:
            if st.button(f"{label} selected", key=f"e_bulk_{action}", disabled=not picked):
                seen = {i: _seen(i, versions[i]) for i in picked}
                ui.act(lambda a=action, s=seen: _bulk_note(bulk(engine, s, a, by=ui.user_name(), assignee=who)), "")


def _bulk_note(result: Any) -> None:
    """Leave the bulk outcome for the next run: how many were done, and why any were refused."""
    for i in [*result.done, *result.refused]:
        st.session_state.pop(f"e_pick_{i}", None)
    _saw(result.versions)  # their own change: not a reason to refuse their next action as stale
    lines = [f"{len(result.done)} escalation(s) done."] + [f"#{i} refused: {why}" for i, why in result.refused.items()]
    st.session_state["e_bulk_outcome"] = (not result.refused, lines)


def _detail(row: pd.Series) -> None:
    eid, version = int(row["id"]), _seen(int(row["id"]), int(row["version"]))
    engine = queries.engine_for(ctx.src.url)
    st.subheader(f"#{eid} · {row['brand']}", anchor=False)
    inbox.card_body(row, utcnow())
    if url := ui.safe_url(row["url"]):
        st.link_button("Open the post", url, icon=":material/open_in_new:")
    name = st.text_input("Assignee", value=inbox.text_or_none(row["assignee"]) or "", key=f"e_assignee_{eid}")
    with st.container(horizontal=True):
        if st.button("Assign", key="e_assign", icon=":material/person:"):
            _act(eid, version, lambda v: assign(engine, eid, name, by=ui.user_name(), version=v),
                 f"Escalation #{eid} assigned to {ui.md_escape(name) if name.strip() else 'nobody'}.")
        for label, to in ACTIONS:
            primary = to == "acknowledged" and row["status"] == "open"
            if st.button(label, key=f"e_{to}", type="primary" if primary else "secondary",
                         disabled=row["status"] == to):
                _act(eid, version, lambda v, t=to: transition(engine, eid, t, by=ui.user_name(), version=v),
                     f"Escalation #{eid} is now {to}.")
    note = st.text_area("Note", key=f"e_note_{eid}", placeholder="what was done, what is needed")
    if st.button("Add note", key="e_add_note", icon=":material/edit_note:"):
        _act(eid, version, lambda v: add_note(engine, eid, note, by=ui.user_name(), version=v),
             f"Note added to escalation #{eid}.")
    st.caption("Audit trail")
    st.dataframe(inbox.trail_view(eq.trail(ctx.src, eid), ui.tz()), hide_index=True, key="e_trail", width="stretch")


def _timings() -> None:
    win = ui.window()
    t = queries.escalation_timings(ctx.src, win.start, win.end)
    cols = st.columns(6)
    cols[0].metric("Created", int(t["created"] or 0), help=f"escalations created in the {win.label}")
    cols[1].metric("Acknowledge, median", ui.fmt_duration(t["ack_median"]), help=inbox.TIMING_HELP)
    cols[2].metric("Acknowledge, p90", ui.fmt_duration(t["ack_p90"]), help=inbox.TIMING_HELP)
    cols[3].metric("Resolve, median", ui.fmt_duration(t["resolve_median"]), help=inbox.TIMING_HELP)
    cols[4].metric("Resolve, p90", ui.fmt_duration(t["resolve_p90"]), help=inbox.TIMING_HELP)
    cols[5].metric("Dismissed", int(t.get("dismissed") or 0), help="counted once: answered, never resolved")


@ui.live(ctx)
def body() -> None:
    _timings()
    if outcome := st.session_state.pop("e_bulk_outcome", None):
        ok, lines = outcome
        (st.success if ok else st.warning)("  \n".join(ui.md_escape(line) for line in lines))
    queue = eq.inbox(ctx.src, _filter())
    st.subheader(f"Queue ({len(queue)}{'+' if len(queue) >= eq.QUEUE_LIMIT else ''})", anchor=False)
    if queue.empty:
        st.info("Nothing in the queue for these filters.")
        return
    if not ui.user_name():
        st.warning("Enter your name in the sidebar to act on escalations: every action is recorded under it.")
    left, right = st.columns([3, 2], gap="large")
    with left:
        _bulk(queue)
        size = ctx.config.dashboard.page_size
        pages = (len(queue) - 1) // size + 1
        page = int(st.number_input("Page", 1, pages, 1, key="e_page")) if pages > 1 else 1
        now = utcnow()
        for row in queue.iloc[(page - 1) * size: page * size].itertuples(index=False):
            inbox.card(pd.Series(row._asdict()), now)
    with right:
        labels = {int(i): f"#{i}" for i in queue["id"]}
        chosen = st.session_state.get("e_selected")
        if chosen not in labels:
            st.session_state["e_selected"] = next(iter(labels))
        st.selectbox("Escalation", list(labels), key="e_selected", format_func=labels.get)
        here = str(st.session_state["e_selected"])  # keep the open escalation in the URL: a link that lands here
        st.query_params[links.ESCALATION_PARAM] = here
        st.session_state["e_link"] = (st.query_params.get(links.BRAND_PARAM), here)  # ours, not a new link
        _detail(queue.loc[queue["id"] == st.session_state["e_selected"]].iloc[0])
    _saw(dict(zip(queue["id"].astype(int), queue["version"].astype(int), strict=True)))


body()
