"""Alerts: spike history with observed vs expected, what drove each, and its email delivery."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import queries, ui

ctx = ui.current()
st.title("Alerts")


def _terms(value: Any) -> pd.DataFrame:
    """Rising terms as a table, whether stored as a list of words, of records, or a mapping."""
    if isinstance(value, dict):
        return pd.DataFrame({"term": list(value), "score": list(value.values())})
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return pd.DataFrame(value)
    return pd.DataFrame({"term": [str(v) for v in value or []]})


def _top_mentions(value: Any) -> pd.DataFrame:
    """Top mentions as a table: records are shown as stored, bare ids are looked up."""
    items = list(value or [])
    if items and all(isinstance(v, int) for v in items):
        return queries.mentions_by_id(ctx.src, tuple(items))
    if items and isinstance(items[0], dict):
        return pd.DataFrame(items)
    return pd.DataFrame({"mention": [str(v) for v in items]})


def _detail(row: pd.Series) -> None:
    details = row["details"] if isinstance(row["details"], dict) else {}
    st.subheader(f"Alert #{row['id']}: what drove it", anchor=False)
    a, b, c, d, e = st.columns(5)
    a.metric("Observed", f"{row['observed']:.0f}")
    b.metric("Expected", f"{row['expected']:.1f}")
    c.metric("p-value", f"{row['p_value']:.2g}")
    d.metric("Delivery", str(row["delivery_status"]))
    e.metric("Attempts", int(row["attempts"]))
    if isinstance(row["last_error"], str) and row["last_error"]:
        st.text(f"Last delivery error: {row['last_error']}")
    left, right = st.columns([1, 2])
    with left:
        st.markdown("**Rising terms**")
        terms = _terms(details.get("rising_terms"))
        if terms.empty:
            st.caption("none recorded")
        else:
            st.dataframe(terms, hide_index=True, key="a_terms")
    with right:
        st.markdown("**Top mentions**")
        top = _top_mentions(details.get("top_mentions"))
        if top.empty:
            st.caption("none recorded")
        else:
            if "url" in top:
                top = top.assign(url=top["url"].map(ui.safe_url))
            st.dataframe(top, hide_index=True, key="a_top",
                         column_config={"url": st.column_config.LinkColumn("link", display_text="open"),
                                        "text": st.column_config.TextColumn("text", width="large")})


@ui.live(ctx)
def body() -> None:
    win = ui.window()
    alerts = queries.alert_history(ctx.src, win.start, win.end)
    st.caption(f"Alerts whose window overlaps the {win.label}")
    if alerts.empty:
        st.info("No alerts in this window.")
        return
    a, b, c = st.columns(3)
    a.metric("Alerts", len(alerts))
    b.metric("Still open", int(alerts["is_open"].sum()))
    c.metric("Delivery failed", int((alerts["delivery_status"] == "failed").sum()))
    view = alerts.assign(rise=alerts["observed"] / alerts["expected"].where(alerts["expected"] > 0))
    st.dataframe(
        view[["id", "window_start", "brand", "kind", "severity", "observed", "expected", "rise", "p_value",
              "is_open", "delivery_status", "attempts", "last_error", "sent_at"]],
        hide_index=True, key="a_table",
        column_config={
            "window_start": st.column_config.DatetimeColumn("window (UTC)", format="YYYY-MM-DD HH:mm"),
            "expected": st.column_config.NumberColumn("expected", format="%.1f"),
            "rise": st.column_config.NumberColumn("observed / expected", format="%.1f×"),
            "p_value": st.column_config.NumberColumn("p-value", format="%.2e"),
            "is_open": "open",
            "delivery_status": "delivery",
            "last_error": st.column_config.TextColumn("last error", width="medium"),
            "sent_at": st.column_config.DatetimeColumn("sent (UTC)", format="YYYY-MM-DD HH:mm"),
        },
    )
    ids = [int(i) for i in alerts["id"]]
    chosen = st.selectbox("Alert", ids, key="a_selected",
                          format_func=lambda i: f"#{i} · {alerts.loc[alerts['id'] == i, 'brand'].iloc[0]}")
    _detail(alerts.loc[alerts["id"] == chosen].iloc[0])


body()
