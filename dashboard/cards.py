"""A brand's card on the home page: volume, negative share, net sentiment, open work, with colours
that mean one thing: red is bad for the brand, green good, grey neither.

More mentions are neither good nor bad (a storm is more mentions too), so the volume change is
grey; a rising negative share is red; a rising net sentiment is green.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import fmt, ui
from monitor.alerts import wording


def _delta(now: float | None, before: float | None, scale: float = 1.0, unit: str = "") -> str | None:
    if now is None or before is None:
        return None
    return f"{(now - before) * scale:+.1f}{unit}" if unit else f"{now - before:+.2f}"


def sparks(series: pd.DataFrame, buckets: pd.DatetimeIndex) -> dict[int, pd.DataFrame]:
    """Per brand_id, per bucket: mentions, negative share and net sentiment (carried over empty buckets)."""
    if series.empty:
        return {}
    wide = series.pivot_table(index=["brand_id", "bucket"], columns="sentiment", values="mentions",
                              aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=[*ui.LABELS, *ui.NOT_SENTIMENT], fill_value=0)
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


def brand_card(name: str, is_own: bool, cur: pd.Series, prev: pd.Series, work: pd.Series,
               spark: pd.DataFrame | None, alerts: pd.DataFrame) -> None:
    """Draw one brand's card; ``alerts`` are its active alerts (a red line says the storm is on)."""
    with st.container(border=True):
        st.subheader(fmt.md_escape(name) + ("" if is_own else " (competitor)"), anchor=False)
        if not alerts.empty:
            worst = alerts.sort_values("severity", ascending=False).iloc[0]
            st.markdown(f":red[**{wording.severity_word(int(worst['severity'])).capitalize()} negative storm**] · "
                        f"{fmt.md_escape(wording.times_usual(worst['observed'], worst['expected']))} negative "
                        "mentions")
        mentions, prev_mentions = int(cur["mentions"]), int(prev["mentions"])
        neg = cur["negative"] / cur["scored"] if cur["scored"] else None
        prev_neg = prev["negative"] / prev["scored"] if prev["scored"] else None
        net = ui.net_sentiment(cur["positive"], cur["negative"], cur["scored"])
        prev_net = ui.net_sentiment(prev["positive"], prev["negative"], prev["scored"])
        change = f"{(mentions - prev_mentions) / prev_mentions:+.0%}" if prev_mentions else None

        def chart(col: str) -> list[float] | None:
            return None if spark is None else [float(v) for v in spark[col]]

        a, b, c = st.columns(3)
        a.metric("Mentions", wording.count(mentions), change, delta_color="off", chart_data=chart("mentions"),
                 chart_type="bar", help=f"vs {prev_mentions:,} in the previous window of the same length; "
                 "more mentions are neither good nor bad, so the change is grey")
        b.metric("Negative share", "—" if neg is None else wording.percent(neg), _delta(neg, prev_neg, 100, " pp"),
                 delta_color="inverse", chart_data=chart("negative"), chart_type="line",
                 help="share of scored mentions that are negative; up is red")
        c.metric("Net sentiment", "—" if net is None else f"{net:+.2f}", _delta(net, prev_net),
                 chart_data=chart("net"), chart_type="line",
                 help="(positive − negative) / scored mentions, from −1 to +1; a person's correction counts")
        d, e, f = st.columns(3)
        d.metric("Open escalations", int(work.get("open_escalations", 0)))
        e.metric("Active alerts", len(alerts))
        f.metric("Scored", wording.count(int(cur["scored"])))
        st.page_link("pages/trends.py", label=f"{name} over time", icon=":material/show_chart:",
                     query_params={"brand": name})
