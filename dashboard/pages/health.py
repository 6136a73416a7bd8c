"""Health: each collector's last run and error, the unscored backlog, model versions, database size."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.engine import make_url

from dashboard import queries, ui
from monitor.store import utcnow

ctx = ui.current()
st.title("Health")


@ui.live(ctx)
def body() -> None:
    b = queries.backlog(ctx.src)
    versions = queries.model_versions(ctx.src)
    a, c, d, e = st.columns(4)
    a.metric("Mentions stored", f"{b['mentions']:,}")
    oldest = b["oldest_unscored"]
    c.metric("Unscored backlog", f"{b['unscored']:,}",
             help=None if oldest is None else f"oldest unscored mention from {oldest:%Y-%m-%d %H:%M} UTC")
    d.metric("Database size", ui.fmt_bytes(queries.database_size(ctx.src)))
    e.metric("Sentiment model", ctx.config.model.name)
    st.subheader("Collectors", anchor=False)
    sources = queries.source_health(ctx.src)
    if sources.empty:
        st.info("No collector has run yet.")
    else:
        now = utcnow()
        view = sources.assign(
            since_run=[ui.fmt_duration((now - t).total_seconds()) if t is not None and t == t else "never"
                       for t in sources["last_run_at"]],
            status=[
                "paused" if p else ("error" if err and (ok is None or (et is not None and et >= ok)) else "ok")
                for p, err, ok, et in zip(sources["paused_reason"], sources["last_error"],
                                          sources["last_success_at"], sources["last_error_at"], strict=True)
            ],
        )
        st.dataframe(
            view[["name", "status", "since_run", "last_run_at", "last_success_at", "mentions_collected", "runs",
                  "last_error", "last_error_at", "paused_reason", "paused_until"]],
            hide_index=True, key="h_sources",
            column_config={
                "name": "collector", "since_run": "last run", "last_run_at": "last run at (UTC)",
                "last_success_at": "last success (UTC)", "mentions_collected": "mentions collected",
                "last_error": st.column_config.TextColumn("last error", width="large"),
                "last_error_at": "error at (UTC)", "paused_reason": "paused because",
                "paused_until": "paused until",
            },
        )
    st.subheader("Model versions in the sentiment table", anchor=False)
    if versions.empty:
        st.info("Nothing scored yet.")
    else:
        st.dataframe(versions, hide_index=True, key="h_models", column_config={
            "model_version": "model version", "mentions": "mentions scored",
            "first_scored": "first scored (UTC)", "last_scored": "last scored (UTC)"})
    url = make_url(ctx.src.url)
    st.caption(f"Database: {url.get_backend_name()} {ui.md_escape(url.database or '')} · config "
               f"{ui.md_escape(ctx.config_path)} · cache {ctx.src.ttl_seconds:.0f}s · refresh "
               f"{ctx.config.dashboard.refresh.total_seconds():.0f}s")


body()
