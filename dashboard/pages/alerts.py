"""Alerts: every storm in the window, and one alert's own page at ``/alerts?alert=ID`` (the link in
every email and chat message), where the team acknowledges and resolves it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import alert_view, fmt, ui, work
from monitor.alerts import links, wording

ctx = ui.current()
ui.flash()


def _chosen() -> int | None:
    raw = st.query_params.get(links.ALERT_PARAM)
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def _open(key: str) -> None:
    """Selecting an alert in the list opens its page (and puts it in the URL)."""
    picked = st.session_state.get(key)
    if picked is not None:
        st.query_params[links.ALERT_PARAM] = str(picked)


def _list() -> None:
    win, tz = ui.window(), ui.tz()
    alerts = work.alert_list(ctx.src, win.start, win.end)
    st.caption(f"Alerts whose storm overlaps the {win.label}; times in {tz}")
    if alerts.empty:
        st.info("No alerts in this window.")
        return
    a, b, c = st.columns(3)
    a.metric("Alerts", len(alerts))
    b.metric("Nobody on it yet", int((alerts["acknowledged_by"].isna() & alerts["resolved_by"].isna()).sum()))
    c.metric("Resolved", int(alerts["resolved_by"].notna().sum()))
    view = pd.DataFrame({
        "page": [links.alert_url(".", int(i)) for i in alerts["id"]],
        "started": fmt.local_column(alerts["window_start"], tz),
        "brand": alerts["brand"],
        "how bad": [wording.how_bad(r.severity, r.observed, r.expected, r.kind) for r in alerts.itertuples()],
        "what happened": [wording.headline(r.kind, r.observed, r.expected, r.details if isinstance(r.details, dict)
                                           else {}) for r in alerts.itertuples()],
        "state": ["resolved by " + r.resolved_by if isinstance(r.resolved_by, str) else
                  ("acknowledged by " + r.acknowledged_by if isinstance(r.acknowledged_by, str) else
                   ("storm going on" if r.is_open else "over, not resolved")) for r in alerts.itertuples()],
        "delivered": alerts["delivery"],
    })
    st.dataframe(view, hide_index=True, key="a_table", column_config={
        "started": st.column_config.DatetimeColumn(f"started ({tz})", format="ddd D MMM HH:mm"),
        "page": st.column_config.LinkColumn("page", display_text="open"),
    })
    labels = {int(r.id): f"#{r.id} · {r.brand} · {wording.local(r.window_start, tz)}" for r in alerts.itertuples()}
    st.selectbox("Open an alert", list(labels), index=None, format_func=labels.get, key="a_pick",
                 placeholder="choose one to see its chart, drivers and mentions, and act on it",
                 on_change=_open, args=("a_pick",))


alert_id = _chosen()
if alert_id is None:
    st.title("Alerts")
    ui.live(ctx)(_list)()
else:
    if st.button("All alerts", icon=":material/arrow_back:", key="a_back", type="tertiary"):
        del st.query_params[links.ALERT_PARAM]
        st.rerun()
    ui.live(ctx)(lambda: alert_view.show(ctx, alert_id))()
