"""Health that tells the truth: every configured source with its state (ok, late, failing, paused,
never run, disabled), rejected items, the unscored backlog, model versions, database size."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy.engine import make_url

from dashboard import fmt, queries, ui, work
from monitor.context import App
from monitor.health import LATE_FACTOR

ctx = ui.current()
st.title("Health")
ORDER = {"failing": 0, "late": 1, "paused": 2, "never run": 3, "ok": 4, "disabled": 5}
COLOR = {"failing": "#d1495b", "late": "#e8590c", "paused": "#e8590c", "never run": "#868e96",
         "ok": "#2a9d8f", "disabled": "#adb5bd"}
"""Red: broken; orange: needs a look; green: fine; grey: nothing to say."""


@ui.live(ctx)
def body() -> None:
    app = App(config=ctx.config)
    app.engine = queries.engine_for(ctx.src.url)  # type: ignore[misc]  # the dashboard's one engine
    data = work.status(ctx.src, app)
    b = queries.backlog(ctx.src)
    tz = ui.tz()
    sources = pd.DataFrame(data["sources"])
    bad = sources[sources["health"].isin(["failing", "late"])]
    if not bad.empty:
        st.error("Not collecting as it should: " + ", ".join(f"**{fmt.md_escape(n)}** ({h})"
                                                             for n, h in zip(bad["name"], bad["health"], strict=True)))
    a, c, d, e = st.columns(4)
    a.metric("Mentions stored", f"{b['mentions']:,}")
    oldest = b["oldest_unscored"]
    c.metric("Unscored backlog", f"{b['unscored']:,}",
             help=None if oldest is None else f"oldest unscored mention from {fmt.when(oldest, tz)}")
    rejected = int(data["totals"]["rejected"])
    d.metric("Rejected items", f"{rejected:,}",
             help="items a source could not store (bad fields), kept in the dead-letter table: "
                  "`monitor rejected` lists them and retries them after a fix")
    e.metric("Database size", fmt.fmt_bytes(queries.database_size(ctx.src)))
    st.subheader("Sources", anchor=False)
    states = queries.source_health(ctx.src).set_index("name")
    rows = []
    for s in data["sources"]:
        name = s["name"]
        cfg = getattr(ctx.config.sources, name)
        state = states.loc[name] if name in states.index else None
        rows.append({
            "source": name, "state": s["health"], "order": ORDER.get(s["health"], 9),
            "every": fmt.fmt_duration(cfg.interval.total_seconds()),
            "last run": fmt.when(s["last_run_at"], tz), "last success": fmt.when(s["last_success_at"], tz),
            "collected": int(s["mentions_collected"] or 0),
            "rejected": int(s["rejected"]),
            "problem": s["paused_reason"] or s["last_error"] or "",
            "error at": fmt.when(state["last_error_at"], tz) if state is not None and s["last_error"] else "",
        })
    view = pd.DataFrame(rows).sort_values(["order", "source"]).drop(columns="order")
    styled = view.style.map(lambda v: f"color: {COLOR.get(v, '#212529')}; font-weight: 600", subset=["state"])
    st.dataframe(styled, hide_index=True, key="h_sources", column_config={
        "state": st.column_config.TextColumn("state", help=f"late: no run for more than {LATE_FACTOR}× its "
                                             "interval; failing: the last run ended in an error"),
        "problem": st.column_config.TextColumn("problem", width="large")})
    st.subheader("Model versions in the sentiment table", anchor=False)
    versions = queries.model_versions(ctx.src)
    if versions.empty:
        st.info("Nothing scored yet.")
    else:
        st.dataframe(versions.assign(first_scored=versions["first_scored"].map(lambda t: fmt.when(t, tz)),
                                     last_scored=versions["last_scored"].map(lambda t: fmt.when(t, tz))),
                     hide_index=True, key="h_models", column_config={
                         "model_version": "model version", "mentions": "mentions scored",
                         "first_scored": "first scored", "last_scored": "last scored"})
    st.caption(f"Sentiment model: {fmt.md_escape(ctx.config.model.name)} · undelivered alerts: "
               f"{data['totals']['undelivered_alerts']}")
    url = make_url(ctx.src.url)
    st.caption(f"Database: {url.get_backend_name()} {fmt.md_escape(url.database or '')} · config "
               f"{fmt.md_escape(ctx.config_path)} · cache {ctx.src.ttl_seconds:.0f}s · refresh "
               f"{ctx.config.dashboard.refresh.total_seconds():.0f}s")


body()
