"""The dashboard's entry file: load the config once, draw the shared sidebar, route to a page.

Start it with ``streamlit run dashboard/app.py -- --config PATH`` (or set $MONITOR_CONFIG;
the default is ./config.yaml).
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:  # `streamlit run` puts only dashboard/ on the path
    sys.path.insert(0, str(_ROOT))

import streamlit as st  # noqa: E402

from dashboard import ui  # noqa: E402

PAGES = [
    ("pages/overview.py", "Overview", ":material/dashboard:"),
    ("pages/trends.py", "Trends", ":material/show_chart:"),
    ("pages/share_of_voice.py", "Share of voice", ":material/donut_small:"),
    ("pages/mentions.py", "Mentions", ":material/forum:"),
    ("pages/escalations.py", "Escalations", ":material/priority_high:"),
    ("pages/alerts.py", "Alerts", ":material/notifications_active:"),
    ("pages/health.py", "Health", ":material/monitor_heart:"),
]


def main() -> None:
    st.set_page_config(page_title="Brand monitor", page_icon=":material/insights:", layout="wide")
    here = Path(__file__).parent
    nav = st.navigation(
        [st.Page(here / path, title=title, icon=icon, default=i == 0) for i, (path, title, icon) in
         enumerate(PAGES)]
    )
    ctx = ui.load()
    ui.sidebar(ctx)
    with ui.entered():
        nav.run()


if __name__ == "__main__":
    main()
