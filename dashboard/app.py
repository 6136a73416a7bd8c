"""The dashboard's entry file: load the config once, sign the user in, draw the shared sidebar, route to a page.

Start it with ``streamlit run dashboard/app.py -- --config PATH`` (or set $MONITOR_CONFIG;
the default is ./config.yaml). Each page has a stable path (``/alerts?alert=12``): the
alert emails and chat messages link to them (:mod:`monitor.alerts.links`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:  # `streamlit run` puts only dashboard/ on the path
    sys.path.insert(0, str(_ROOT))

import streamlit as st  # noqa: E402

from dashboard import auth, ui  # noqa: E402
from monitor.alerts import links  # noqa: E402

PAGES = [  # file, title, icon, URL path
    ("pages/home.py", "What needs me now", ":material/crisis_alert:", "home"),
    ("pages/alerts.py", "Alerts", ":material/notifications_active:", links.ALERTS_PAGE),
    ("pages/escalations.py", "Escalations", ":material/priority_high:", links.ESCALATIONS_PAGE),
    ("pages/trends.py", "Trends", ":material/show_chart:", "trends"),
    ("pages/mentions.py", "Mentions", ":material/forum:", "mentions"),
    ("pages/share_of_voice.py", "Share of voice", ":material/donut_small:", "share-of-voice"),
    ("pages/health.py", "Health", ":material/monitor_heart:", "health"),
]


def main() -> None:
    st.set_page_config(page_title="Brand monitor", page_icon=":material/insights:", layout="wide")
    here = Path(__file__).parent
    ctx = ui.load()
    shown = auth.current_user() is not None or not ctx.config.dashboard.auth.enabled
    nav = st.navigation(  # before sign-in, so a deep link keeps its page and query while the form shows
        [st.Page(here / path, title=title, icon=icon, url_path=url, default=i == 0)
         for i, (path, title, icon, url) in enumerate(PAGES)],
        position="sidebar" if shown else "hidden",
    )
    if auth.sign_in(ctx.config.dashboard.auth, os.environ) is not None and not shown:
        st.rerun()  # just signed in: draw the navigation
    ui.sidebar(ctx)
    with ui.entered():
        nav.run()


if __name__ == "__main__":
    main()
