"""Share of voice: an own brand against its configured competitors, volume and net sentiment."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, queries, ui

ctx = ui.current()
st.title("Share of voice")
own = [b for b in ctx.config.brands if b.is_own and b.competitors]
if not own:
    st.info("No brand has competitors configured. Add `competitors:` to a brand in the config.")
    st.stop()
brand = st.selectbox("Brand", [b.name for b in own], key="brand", bind="query-params")
chosen = ctx.config.brand(brand)


@ui.live(ctx)
def body() -> None:
    win, plats = ui.window(), ui.selected_platforms()
    st.caption(f"{ui.md_escape(chosen.name)} vs {ui.md_escape(', '.join(chosen.competitors))} · {win.label}"
               + (f" · {ui.md_escape(', '.join(plats))}" if plats else ""))
    ids = {name.lower(): i for i, name in ui.brand_names(ctx).items()}
    group = [chosen.name, *chosen.competitors]
    totals = queries.brand_totals(ctx.src, win.start, win.end, plats).set_index("brand_id")
    rows = []
    for name in group:
        bid = ids.get(name.lower())
        t = totals.loc[bid] if bid is not None and bid in totals.index else None
        mentions = int(t["mentions"]) if t is not None else 0
        scored = int(t["scored"]) if t is not None else 0
        net = ui.net_sentiment(t["positive"], t["negative"], scored) if t is not None else None
        rows.append({"brand": name, "own": name == chosen.name, "mentions": mentions, "scored": scored,
                     "net": net, "negative": int(t["negative"]) if t is not None else 0})
    df = pd.DataFrame(rows)
    total = df["mentions"].sum()
    df["share"] = df["mentions"] / total if total else 0.0
    if not total:
        st.info("No mentions of these brands in the window.")
        return
    left, right = st.columns(2)
    with left:
        st.subheader("Share of voice", anchor=False)
        st.altair_chart(charts.share_bars(df))
    with right:
        st.subheader("Net sentiment", anchor=False)
        st.altair_chart(charts.net_bars(df.dropna(subset=["net"])))
    st.dataframe(
        df[["brand", "mentions", "share", "net", "negative", "scored"]],
        hide_index=True, key="sov_table",
        column_config={
            "share": st.column_config.NumberColumn("share of voice", format="percent"),
            "net": st.column_config.NumberColumn("net sentiment", format="%+.2f"),
        },
    )


body()
