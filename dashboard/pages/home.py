"""What needs me now: active alerts as banners, the top of the escalation inbox, then every brand,
the ones in trouble first. Red always means bad for the brand."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import fmt, inbox, queries, ui, work
from dashboard.cards import brand_card, sparks
from monitor.alerts import links, wording
from monitor.store import utcnow

ctx = ui.current()
st.title("What needs me now")
ui.flash()


def banners(alerts: pd.DataFrame) -> None:
    """One banner per active alert, worst first: brand, how bad in words, since when, a link to act."""
    if alerts.empty:
        st.success("No storm right now: no active alert for any brand.", icon=":material/check_circle:")
        return
    now, tz = utcnow(), ui.tz()
    for a in alerts.itertuples():
        details = a.details if isinstance(a.details, dict) else {}
        who = (f" · acknowledged by {fmt.md_escape(a.acknowledged_by)}" if isinstance(a.acknowledged_by, str)
               else " · **nobody has acknowledged it yet**")
        text = (f"**{fmt.md_escape(a.brand)}** · {wording.how_bad(a.severity, a.observed, a.expected, a.kind)}  \n"
                f"{fmt.md_escape(wording.summary(a.kind, a.observed, a.expected, details))}  \n"
                f"Since {wording.local(a.window_start, tz)}, "
                f"{wording.since(a.window_start, now, bool(a.is_open), a.window_end)}{who}")
        box = st.error if a.severity >= 3 else st.warning
        box(text, icon=":material/warning:")
        with st.container(horizontal=True, key=f"home_banner_links_{int(a.id)}"):
            st.page_link("pages/alerts.py", label="Open the alert", icon=":material/arrow_forward:",
                         query_params={links.ALERT_PARAM: str(int(a.id))})
            st.page_link("pages/escalations.py", label=f"{a.brand}'s escalations", icon=":material/forum:",
                         query_params={links.BRAND_PARAM: a.brand})


def needs_a_reply(top: pd.DataFrame) -> None:
    """The top of the escalation inbox, the customer's own words first."""
    st.subheader("Needs a reply", anchor=False)
    if top.empty:
        st.caption("The escalation inbox is empty.")
        return
    now = utcnow()
    view = top.assign(
        waiting=[fmt.fmt_duration((now - t).total_seconds()) for t in top["posted_at"]],
        reach=top["author_reach"].map(wording.count),
        link=[links.escalation_url(".", int(i)) for i in top["id"]],
        tier=top["severity"].map(inbox.tier_name),
    )
    st.dataframe(
        view[["text", "brand", "tier", "priority", "waiting", "author", "reach", "platform", "status", "link"]],
        hide_index=True, key="home_inbox",
        column_config={
            "text": st.column_config.TextColumn("what the customer wrote", width="large"),
            "priority": st.column_config.NumberColumn("priority", help="0-100: how urgently it needs a reply"),
            "waiting": st.column_config.TextColumn("waiting", help="since the customer posted"),
            "link": st.column_config.LinkColumn("open", display_text="open"),
        },
    )
    st.page_link("pages/escalations.py", label="The whole inbox", icon=":material/arrow_forward:")


@ui.live(ctx)
def body() -> None:
    win, plats = ui.window(), ui.selected_platforms()
    alerts = work.active_alerts(ctx.src, win.end.replace(second=0, microsecond=0))
    banners(alerts)
    needs_a_reply(work.top_escalations(ctx.src))
    st.subheader("Brands, most in trouble first", anchor=False)
    st.caption(f"{win.label} · {fmt.when(win.start, ui.tz())} to {fmt.when(win.end, ui.tz())}"
               + (f" · {fmt.md_escape(', '.join(plats))}" if plats else ""))
    brands = queries.brands(ctx.src)
    if brands.empty:
        st.info("No brands in the database yet. Run `monitor init` and let the collectors run.")
        return
    zero = pd.Series({"mentions": 0, "scored": 0, "negative": 0, "neutral": 0, "positive": 0})
    cur = queries.brand_totals(ctx.src, win.start, win.end, plats).set_index("brand_id")
    prev_win = win.previous()
    prev = queries.brand_totals(ctx.src, prev_win.start, prev_win.end, plats).set_index("brand_id")
    esc = work.open_escalations_by_brand(ctx.src)
    work_by_brand = queries.open_work(ctx.src).set_index("brand_id")
    series = queries.brand_series(ctx.src, win.start, win.end, win.bucket_seconds, plats)
    spark = sparks(series, ui.bucket_range(win))
    neg_share = {int(b): float(r["negative"] / r["scored"]) for b, r in cur.iterrows() if r["scored"]}
    names = {int(r.id): (str(r.name), bool(r.is_own)) for r in brands.itertuples()}
    order = work.trouble_order(list(names), alerts, esc, neg_share)
    for i, bid in enumerate(order):
        if i % 2 == 0:
            cols = st.columns(2)
        with cols[i % 2]:
            name, own = names[bid]
            brand_card(name, own, cur.loc[bid] if bid in cur.index else zero,
                       prev.loc[bid] if bid in prev.index else zero,
                       work_by_brand.loc[bid] if bid in work_by_brand.index else pd.Series(dtype=int),
                       spark.get(bid), alerts[alerts["brand_id"] == bid] if not alerts.empty else alerts)


body()
