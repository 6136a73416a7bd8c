"""One alert's page: what happened in plain words, the spike against its usual range, what drove it,
the loudest mentions, where it was delivered, and acknowledge / resolve with who and when."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import charts, fmt, queries, ui, work
from monitor.alerts import actions, links, wording
from monitor.store import utcnow

CONTEXT = timedelta(hours=24)
"""How much before the storm the chart shows, so the usual level is visible."""


def usual_range(details: dict[str, Any]) -> pd.DataFrame:
    """The judged buckets' expected counts with a band of about two standard deviations
    (negative binomial: variance = expected × dispersion); columns bucket, expected, low, high."""
    rows = [b for b in details.get("buckets") or [] if isinstance(b, dict) and "expected" in b]
    if not rows:
        return pd.DataFrame(columns=["bucket", "expected", "low", "high"])
    d = max(float(details.get("dispersion") or 1.0), 1.0)
    exp = pd.Series([float(b["expected"]) for b in rows])
    sd = (exp * d).map(math.sqrt)
    return pd.DataFrame({"bucket": pd.to_datetime([b["start"] for b in rows]), "expected": exp,
                         "low": (exp - 2 * sd).clip(lower=0), "high": exp + 2 * sd})


def _status(a: dict[str, Any], tz: str) -> str:
    parts = []
    if isinstance(a["acknowledged_by"], str):
        parts.append(f"acknowledged by **{fmt.md_escape(a['acknowledged_by'])}** {fmt.when(a['acknowledged_at'], tz)}")
    if isinstance(a["resolved_by"], str):
        parts.append(f"resolved by **{fmt.md_escape(a['resolved_by'])}** {fmt.when(a['resolved_at'], tz)}")
    return " · ".join(parts) or "**Nobody has acknowledged it yet.**"


def _actions(ctx: ui.Ctx, a: dict[str, Any]) -> None:
    engine = queries.engine_for(ctx.src.url)
    aid = int(a["id"])
    locked = not ui.can_act()
    resolved = isinstance(a["resolved_by"], str)
    with st.container(horizontal=True):
        if st.button("Acknowledge", key="alert_ack", type="primary", icon=":material/pan_tool:",
                     disabled=locked or resolved or isinstance(a["acknowledged_by"], str)):
            ui.act(lambda: actions.acknowledge(engine, aid, by=ui.user_name()),
                   f"Alert #{aid} acknowledged by {fmt.md_escape(ui.user_name())}.")
        if st.button("Resolve", key="alert_resolve", icon=":material/task_alt:", disabled=locked or resolved):
            ui.act(lambda: actions.resolve(engine, aid, by=ui.user_name()),
                   f"Alert #{aid} resolved by {fmt.md_escape(ui.user_name())}.")
        if resolved and st.button("Reopen", key="alert_reopen", disabled=locked):
            ui.act(lambda: actions.reopen(engine, aid, by=ui.user_name()), f"Alert #{aid} reopened.")
        st.page_link("pages/escalations.py", label=f"{a['brand']}'s escalations", icon=":material/forum:",
                     query_params={links.BRAND_PARAM: a["brand"]})
    if locked:
        st.caption("Read-only: you can look, not act.")


def _chart(ctx: ui.Ctx, a: dict[str, Any], details: dict[str, Any]) -> None:
    seconds = int(details.get("bucket_seconds") or 3600)
    now = utcnow()
    end = max(a["window_end"], min(now, a["window_end"] + timedelta(hours=6)))
    series = work.storm_series(ctx.src, int(a["brand_id"]), a["window_start"] - CONTEXT, end, seconds)
    tz = ui.tz()
    shown = series.assign(bucket=fmt.local_column(series["bucket"], tz).dt.tz_localize(None))
    band = usual_range(details)
    if not band.empty:
        band = band.assign(bucket=fmt.local_column(band["bucket"], tz).dt.tz_localize(None))
    start_local, end_local = (fmt.local_column(pd.Series([a["window_start"], a["window_end"]]), tz)
                              .dt.tz_localize(None))
    label = wording.bucket_words(details).removeprefix("an ").removeprefix("a ")
    st.altair_chart(charts.storm_chart(shown, band, start_local, end_local, label, seconds))
    st.caption(f"Red bars: the storm. Dark ticks: the usual level detection expected; the shaded band, the usual "
               f"range. Times in {tz}.")


def _mentions(ctx: ui.Ctx, details: dict[str, Any]) -> None:
    top = pd.DataFrame(details.get("top_mentions") or [])
    if top.empty:
        st.caption("No mention stored for this window.")
        return
    for col in ("author", "text", "url", "platform"):
        if col not in top:
            top[col] = ""
    reach = top["reach"] if "reach" in top else pd.Series([0] * len(top))
    view = pd.DataFrame({"text": top["text"].astype(str), "author": top["author"].fillna("unknown"),
                         "reach": reach.fillna(0).map(wording.count), "platform": top["platform"],
                         "url": top["url"].fillna("").astype(str).map(ui.safe_url)})
    st.dataframe(view, hide_index=True, key="alert_top", column_config={
        "text": st.column_config.TextColumn("what they wrote", width="large"),
        "reach": st.column_config.TextColumn("reach", help="followers of the author"),
        "url": st.column_config.LinkColumn("link", display_text="open")})


def _deliveries(ctx: ui.Ctx, alert_id: int) -> None:
    rows = work.deliveries(ctx.src, alert_id)
    if rows.empty:
        st.caption("Not delivered yet: `monitor send-alerts` (or the scheduler) sends it to every channel.")
        return
    tz = ui.tz()
    view = pd.DataFrame({
        "channel": rows["channel"], "status": rows["status"], "attempts": rows["attempts"],
        "sent": [fmt.when(t, tz) if t is not None and not pd.isna(t) else "—" for t in rows["sent_at"]],
        "next try": [fmt.when(t, tz) if s == "failed" else "—" for t, s in zip(rows["next_attempt_at"],
                                                                             rows["status"], strict=True)],
        "problem": rows["last_error"].fillna(""), "went to": rows["target"].fillna(""),
    })
    st.dataframe(view, hide_index=True, key="alert_deliveries",
                 column_config={"problem": st.column_config.TextColumn("problem", width="large")})


def show(ctx: ui.Ctx, alert_id: int) -> None:
    """The whole page for alert ``alert_id`` (a message if there is no such alert)."""
    a = work.alert(ctx.src, alert_id)
    if a is None:
        st.warning(f"There is no alert #{alert_id}. It may have been removed; here are the recent ones.")
        return
    details = a["details"] if isinstance(a["details"], dict) else {}
    tz, now = ui.tz(), utcnow()
    sev = int(a["severity"])
    st.header(f"{a['brand']}: negative storm", anchor=False)
    box = st.error if sev >= 3 and not isinstance(a["resolved_by"], str) else st.info
    box(f"**{wording.how_bad(sev, a['observed'], a['expected'], a['kind'])}**  \n"
        f"{fmt.md_escape(wording.summary(a['kind'], a['observed'], a['expected'], details))}")
    st.markdown(f"Since **{wording.local(a['window_start'], tz)}**, "
                f"{wording.since(a['window_start'], now, bool(a['is_open']), a['window_end'])} · {_status(a, tz)}",
                help=f"Started {fmt.utc(a['window_start'])}; times in {tz}")
    _actions(ctx, a)
    m1, m2, m3, m4 = st.columns(4)
    if a["kind"] == wording.SHARE:
        m1.metric("Negative share at the peak", wording.percent(a["observed"]))
        m2.metric("Usually", wording.percent(a["expected"]))
    else:
        m1.metric("At the peak", wording.count(a["observed"]),
                  help=f"negative mentions in the busiest {wording.bucket_words(details).removeprefix('an ')}")
        m2.metric("Usually", wording.usual(float(a["expected"])))
    m3.metric("How bad", wording.severity_word(sev).capitalize(), help="low, medium, high or critical")
    if details.get("total_observed") is not None:
        m4.metric("In the whole storm so far", wording.count(details["total_observed"]),
                  help=f"usually {wording.usual(float(details.get('total_expected') or 0))} over the same hours")
    _chart(ctx, a, details)
    left, right = st.columns([1, 2])
    with left:
        st.subheader("What drove it", anchor=False)
        drivers = wording.drivers(details, limit=8)
        st.markdown("\n".join(f"- {fmt.md_escape(d)}" for d in drivers) if drivers else "No word stands out.")
    with right:
        st.subheader("The loudest negative mentions", anchor=False)
        _mentions(ctx, details)
    st.subheader("Where it was sent", anchor=False)
    _deliveries(ctx, alert_id)
