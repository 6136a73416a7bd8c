"""Mentions explorer: filter, page through, open, export as CSV, correct a mention's sentiment."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from dashboard import fmt, queries, ui
from dashboard.sql import UNSCORED, MentionFilter
from monitor.scoring import correct_sentiment
from monitor.store import utcnow

ctx = ui.current()
st.title("Mentions")
ui.flash()
names = ui.brand_names(ctx)
ids = {name: i for i, name in names.items()}
a, b, c, d = st.columns([2, 2, 3, 1.3], vertical_alignment="bottom")
a.multiselect("Brand", list(ids), key="brands", placeholder="All brands", bind="query-params",
              persist_state="session")
b.multiselect("Sentiment", [*ui.LABELS, UNSCORED], key="sentiment", placeholder="Any sentiment",
              bind="query-params", persist_state="session")
c.text_input("Search text", key="q", placeholder="words in the text, title or author", bind="query-params",
             persist_state="session")
d.toggle("Escalated only", key="escalated", bind="query-params", persist_state="session")


def _filter() -> MentionFilter:
    win = ui.window()
    s = st.session_state
    brands = tuple(ids[n] for n in s.get("brands") or () if n in ids)
    return MentionFilter(win.start, win.end, brands, ui.selected_platforms(),
                         tuple(s.get("sentiment") or ()), s.get("q") or "", bool(s.get("escalated")))


def _correction_panel(page: pd.DataFrame) -> None:
    st.subheader("Inspect and correct", anchor=False)
    labels = {int(r.id): f"#{r.id} · {fmt.when(r.created_at, ui.tz())} · {r.platform} · {r.sentiment}"
              for r in page.itertuples()}
    mid = st.selectbox("Mention", list(labels), key="m_selected", format_func=labels.get)
    row = queries.mention_detail(ctx.src, mid)
    if row is None:
        st.warning("That mention no longer exists.")
        return
    with st.container(border=True):
        st.caption(f"{ui.md_escape(row['platform'])} · {ui.md_escape(row['author'])} · "
                   f"{fmt.when(row['created_at'], ui.tz())}", help=fmt.utc(row["created_at"]))
        if row.get("title"):
            st.text(str(row["title"]))
        st.text(str(row["text"]), width="stretch")
        if url := ui.safe_url(row["url"]):
            st.link_button("Open original", url, icon=":material/open_in_new:")
        m1, m2, m3 = st.columns(3)
        scored = isinstance(row["model_label"], str)
        m1.metric("Model label", ui.label_format(row["model_label"]),
                  help=f"model {row['model_version']}" if scored else "not scored yet")
        if scored:
            m2.metric("Model p(neg / neu / pos)",
                      f"{row['p_negative']:.2f} / {row['p_neutral']:.2f} / {row['p_positive']:.2f}")
        corrected = isinstance(row["corrected_label"], str)
        m3.metric("Correction", ui.label_format(row["corrected_label"]),
                  help=f"by {row['corrected_by'] or 'someone'} at {fmt.when(row['corrected_at'], ui.tz())}"
                  if corrected else "a person's label counts over the model's in every number")
    x, y = st.columns([3, 1], vertical_alignment="bottom")
    x.segmented_control("Correct to", list(ui.LABELS), key="m_correct_to")
    if y.button("Save correction", key="m_save", type="primary"):
        label = st.session_state.get("m_correct_to")
        if not label:
            st.error("Choose negative, neutral or positive first.")
            st.stop()
        ui.act(lambda: correct_sentiment(queries.engine_for(ctx.src.url), mid, label, by=ui.user_name()),
               f"Mention #{mid} corrected to {label}; the model's score is kept beside it.")


@ui.live(ctx)
def body() -> None:
    f = _filter()
    total = queries.mention_count(ctx.src, f)
    size = ctx.config.dashboard.page_size
    pages = max(1, math.ceil(total / size))
    left, mid_col, right = st.columns([2, 1, 1], vertical_alignment="bottom")
    left.metric("Matching mentions", f"{total:,}")
    page_no = mid_col.number_input("Page", min_value=1, max_value=pages, value=1, step=1, key="m_page")
    right.download_button(
        "Export CSV", data=lambda: queries.mentions_csv(ctx.src, f), key="m_export",
        file_name=f"mentions-{utcnow():%Y%m%d-%H%M}.csv", mime="text/csv", on_click="ignore",
        icon=":material/download:", disabled=total == 0,
    )
    if total > queries.EXPORT_LIMIT:
        right.caption(f"exports the newest {queries.EXPORT_LIMIT:,}")
    page = queries.mention_page(ctx.src, f, min(int(page_no), pages) - 1, size)
    if page.empty:
        st.info("No mentions match these filters in the window.")
        return
    st.caption(f"Newest first · page {min(int(page_no), pages)} of {pages} · {fmt.when(f.start, ui.tz())} to "
               f"{fmt.when(f.end, ui.tz())}", help=f"UTC: {fmt.utc(f.start)} to {fmt.utc(f.end)}")
    view = page.assign(url=page["url"].map(ui.safe_url), created_at=fmt.local_column(page["created_at"], ui.tz()),
                       corrected_label=page["corrected_label"].fillna(""))
    st.dataframe(
        view[["created_at", "text", "brands", "platform", "author", "sentiment", "model_label", "p_negative",
              "corrected_label", "engagement", "url", "id"]],
        hide_index=True, key="m_table",
        column_config={
            "created_at": st.column_config.DatetimeColumn(f"time ({ui.tz()})", format="ddd D MMM HH:mm"),
            "sentiment": st.column_config.TextColumn("sentiment", help="a correction if any, else the model"),
            "model_label": "model",
            "p_negative": st.column_config.ProgressColumn("p(negative)", min_value=0, max_value=1,
                                                          format="%.2f"),
            "corrected_label": "corrected",
            "text": st.column_config.TextColumn("text", width="large"),
            "url": st.column_config.LinkColumn("link", display_text="open"),
        },
    )
    _correction_panel(page)


body()
