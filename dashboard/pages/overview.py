"""Overview: per brand, mentions, negative share, net sentiment and open work for the window."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import queries, ui

ctx = ui.current()
st.title("Overview")
ui.flash()


def _delta(now: float | None, before: float | None, scale: float = 1.0, unit: str = "") -> str | None:
    if now is None or before is None:
        return None
    return f"{(now - before) * scale:+.1f}{unit}" if unit else f"{now - before:+.2f}"


def _sparks(series: pd.DataFrame, buckets: pd.DatetimeIndex) -> dict[int, pd.DataFrame]:
    """Per brand_id, per bucket: mentions, negative share and net sentiment (carried over empty buckets)."""
    if series.empty:
        return {}
    wide = series.pivot_table(index=["brand_id", "bucket"], columns="sentiment", values="mentions",
                              aggfunc="sum", fill_value=0).reindex(columns=[*ui.LABELS, "unscored"], fill_value=0)
    out = {}
    for bid, part in wide.groupby(level=0):
        part = part.droplevel(0).reindex(buckets, fill_value=0)
        scored = part[list(ui.LABELS)].sum(axis=1).where(lambda x: x > 0)
        out[int(bid)] = pd.DataFrame({
            "mentions": part.sum(axis=1),
            "negative": (part["negative"] / scored).ffill().fillna(0).round(3),
            "net": ((part["positive"] - part["negative"]) / scored).ffill().fillna(0).round(3),
        })
    return out


def _brand_card(name: str, is_own: bool, cur: pd.Series, prev: pd.Series, work: pd.Series,
                spark: pd.DataFrame | None) -> None:
    with st.container(border=True):
        st.subheader(ui.md_escape(name) + ("" if is_own else " (competitor)"), anchor=False)
        mentions, prev_mentions = int(cur["mentions"]), int(prev["mentions"])
        neg = cur["negative"] / cur["scored"] if cur["scored"] else None
        prev_neg = prev["negative"] / prev["scored"] if prev["scored"] else None
        net = ui.net_sentiment(cur["positive"], cur["negative"], cur["scored"])
        prev_net = ui.net_sentiment(prev["positive"], prev["negative"], prev["scored"])
        change = f"{(mentions - prev_mentions) / prev_mentions:+.0%}" if prev_mentions else None
        a, b, c = st.columns(3)
        def chart(col: str) -> list[float] | None:
            return None if spark is None else [float(v) for v in spark[col]]

        a.metric("Mentions", f"{mentions:,}", change, chart_data=chart("mentions"), chart_type="bar",
                 help=f"vs {prev_mentions:,} in the previous window of the same length")
        b.metric("Negative share", "—" if neg is None else f"{neg:.1%}", _delta(neg, prev_neg, 100, " pp"),
                 delta_color="inverse", chart_data=chart("negative"), chart_type="line")
        c.metric("Net sentiment", "—" if net is None else f"{net:+.2f}", _delta(net, prev_net, unit=""),
                 chart_data=chart("net"), chart_type="line",
                 help="(positive − negative) / scored mentions; a person's correction counts over the model")
        d, e, f = st.columns(3)
        d.metric("Open escalations", int(work.get("open_escalations", 0)))
        e.metric("Active alerts", int(work.get("active_alerts", 0)))
        f.metric("Scored", f"{int(cur['scored']):,}")


@ui.live(ctx)
def body() -> None:
    win, plats = ui.window(), ui.selected_platforms()
    st.caption(f"{win.label} ({win.start:%Y-%m-%d %H:%M} to {win.end:%Y-%m-%d %H:%M} UTC)"
               + (f" · {ui.md_escape(', '.join(plats))}" if plats else ""))
    brands = queries.brands(ctx.src)
    if brands.empty:
        st.info("No brands in the database yet. Run `monitor init` and let the collectors run.")
        return
    zero = pd.Series({"mentions": 0, "scored": 0, "negative": 0, "neutral": 0, "positive": 0})
    cur = queries.brand_totals(ctx.src, win.start, win.end, plats).set_index("brand_id")
    prev_win = win.previous()
    prev = queries.brand_totals(ctx.src, prev_win.start, prev_win.end, plats).set_index("brand_id")
    work = queries.open_work(ctx.src).set_index("brand_id")
    series = queries.brand_series(ctx.src, win.start, win.end, win.bucket_seconds, plats)
    sparks = _sparks(series, ui.bucket_range(win))
    for i, row in enumerate(brands.itertuples()):
        bid = int(row.id)
        if i % 2 == 0:
            cols = st.columns(2)
        with cols[i % 2]:
            _brand_card(str(row.name), bool(row.is_own), cur.loc[bid] if bid in cur.index else zero,
                        prev.loc[bid] if bid in prev.index else zero,
                        work.loc[bid] if bid in work.index else pd.Series(dtype=int), sparks.get(bid))


body()
