"""Trends: volume by sentiment, net sentiment and emotions over time for a brand, with alerts marked."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, fmt, queries, ui, work
from monitor.store import utcnow

ctx = ui.current()
st.title("Trends")
names = ui.brand_names(ctx)
if not names:
    st.info("No brands in the database yet.")
    st.stop()
alerts = work.active_alerts(ctx.src, utcnow().replace(second=0, microsecond=0))
order = work.trouble_order(list(names), alerts, work.open_escalations_by_brand(ctx.src), {})
by_name = {names[i]: i for i in order}  # the brand most in trouble first, and the default
brand = st.selectbox("Brand", list(by_name), key="brand", bind="query-params")
brand_id = by_name[brand]
BUCKET_LABEL = {3600: "hour", 6 * 3600: "6 hours", 86400: "day"}


def _net(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Net sentiment per ``keys`` from bucket/sentiment/mentions counts."""
    wide = df.pivot_table(index=keys, columns="sentiment", values="mentions", aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=list(ui.LABELS), fill_value=0)
    scored = wide.sum(axis=1)
    out = pd.DataFrame({"net": (wide["positive"] - wide["negative"]) / scored.where(scored > 0), "scored": scored})
    return out.dropna().reset_index()


@ui.live(ctx)
def body() -> None:
    win, plats = ui.window(), ui.selected_platforms()
    bucket = win.bucket_seconds
    st.caption(f"{ui.md_escape(names[brand_id])} · {win.label} · one bar per {BUCKET_LABEL[bucket]} · "
               f"times in {ui.tz()}"
               + (f" · {ui.md_escape(', '.join(plats))}" if plats else ""))
    df = queries.brand_series(ctx.src, win.start, win.end, bucket, plats, (brand_id,), True)
    alerts = queries.alert_history(ctx.src, win.start, win.end, (brand_id,))
    tz = ui.tz()  # the charts speak the team's time zone
    df = df.assign(bucket=fmt.local_column(df["bucket"], tz).dt.tz_localize(None)) if not df.empty else df
    shown = alerts.assign(**{c: fmt.local_column(alerts[c], tz).dt.tz_localize(None)
                             for c in ("window_start", "window_end")}) if not alerts.empty else alerts
    if df.empty:
        st.info("No mentions of this brand in the window.")
        return
    st.subheader("Volume by sentiment", anchor=False)
    volume = df.groupby(["bucket", "sentiment"], as_index=False)["mentions"].sum()
    st.altair_chart(charts.volume_by_sentiment(volume, shown, BUCKET_LABEL[bucket], bucket))
    st.subheader("Net sentiment", anchor=False)
    overall = _net(df, ["bucket"]).assign(series="All platforms")
    per_platform = _net(df, ["bucket", "platform"]).rename(columns={"platform": "series"})
    st.altair_chart(charts.net_sentiment_lines(pd.concat([overall, per_platform]), shown))
    emotions = queries.emotion_series(ctx.src, win.start, win.end, bucket, plats, (brand_id,))
    if not emotions.empty:  # the model gives emotions when it has an emotion head
        st.subheader("Emotions", anchor=False)
        emotions = emotions.groupby(["bucket", "emotion"], as_index=False)["mentions"].sum()
        emotions = emotions.assign(bucket=fmt.local_column(emotions["bucket"], tz).dt.tz_localize(None))
        st.altair_chart(charts.emotion_lines(emotions, shown))
    st.subheader("By platform", anchor=False)
    table = df.pivot_table(index="platform", columns="sentiment", values="mentions", aggfunc="sum",
                           fill_value=0).reindex(columns=[*ui.LABELS, *ui.NOT_SENTIMENT], fill_value=0)
    table["mentions"] = table.sum(axis=1)
    scored = table[list(ui.LABELS)].sum(axis=1)
    table["net sentiment"] = ((table["positive"] - table["negative"]) / scored.where(scored > 0)).round(2)
    st.dataframe(table.sort_values("mentions", ascending=False), key="trends_platforms")
    if not alerts.empty:
        st.caption(f"{len(alerts)} alert(s) in this window are shaded red on the charts.")
        for a in alerts.itertuples():
            st.page_link("pages/alerts.py", label=f"Alert #{a.id}: {fmt.when(a.window_start, tz)}",
                         icon=":material/notifications_active:", query_params={"alert": str(a.id)})


body()
