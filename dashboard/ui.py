"""What every page shares: the loaded config, the signed-in user, the sidebar filters, the window.

The entry file calls :func:`load` once per run; pages call :func:`current` for the same
:class:`Ctx`. Problems a user can fix (bad config, no database) become text via
``st.error`` then ``st.stop()``, here and nowhere else. The shared filters live in the URL
(``?window=7d&platforms=x``), so any view can be shared and bookmarked. Formatting lives in
:mod:`dashboard.fmt` (re-exported here for the pages).
"""

from __future__ import annotations

import argparse
import functools
import os
import runpy
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pandas as pd
import streamlit as st
from sqlalchemy.exc import DBAPIError

from dashboard import auth, queries
from dashboard.fmt import fmt_bytes as fmt_bytes
from dashboard.fmt import fmt_duration as fmt_duration
from dashboard.fmt import label_format as label_format
from dashboard.fmt import md_escape as md_escape
from dashboard.queries import Source
from monitor.config import Config, ConfigError, load_config
from monitor.errors import MonitorError
from monitor.store import utcnow
from monitor.store.sql import bucket_index, bucket_start
from monitor.text import safe_url as safe_url

WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
CUSTOM = "Custom"
SENTIMENT_COLORS = {"negative": "#d1495b", "neutral": "#8d99ae", "positive": "#2a9d8f", "unscored": "#dee2e6",
                    "unsupported": "#f1f3f5"}
"""Red is bad for the brand, green good, everywhere; platforms get their own hues (:data:`PLATFORM_COLORS`).
``unsupported`` (a language the model does not cover) counts in volume, never in sentiment."""
PLATFORM_COLORS = ["#4c6ef5", "#7950f2", "#f59f00", "#1098ad", "#5c7cfa", "#ae3ec9", "#495057", "#fab005"]
"""Blues, purples and ambers, never the sentiment red or green, so a platform never reads as good or bad."""
LABELS = ("negative", "neutral", "positive")
"""The sentiment labels: shares and net sentiment divide by their sum, never by every mention."""
NOT_SENTIMENT = ("unscored", "unsupported")
"""Labels that count in volume only."""
_ENTERED: ContextVar[bool] = ContextVar("dashboard_entered", default=False)


@dataclass(frozen=True)
class Ctx:
    config: Config
    config_path: Path
    src: Source


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    label: str

    @property
    def span(self) -> timedelta:
        return self.end - self.start

    def previous(self) -> Window:
        """The window of the same length just before this one."""
        return Window(self.start - self.span, self.start, f"previous {self.label}")

    @property
    def bucket_seconds(self) -> int:
        """Hourly up to 3 days, 6-hourly up to 14 days, daily beyond."""
        if self.span <= timedelta(days=3):
            return 3600
        if self.span <= timedelta(days=14):
            return 6 * 3600
        return 86400


def config_path(argv: list[str] | None = None, env: dict[str, str] | None = None) -> Path:
    """``--config PATH`` after ``--`` on the command line, else $MONITOR_CONFIG, else ./config.yaml."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--config")
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ) if env is None else env
    return Path(args.config or env.get("MONITOR_CONFIG") or "config.yaml")


@st.cache_resource(show_spinner=False)
def _load_config(path: str, mtime: float) -> Config:
    return load_config(path)


def load() -> Ctx:
    """Read the config and check the database; on a problem, explain it and stop the run."""
    path = config_path()
    try:
        mtime = path.stat().st_mtime if path.exists() else 0.0
        config = _load_config(str(path), mtime)
    except ConfigError as err:
        st.error(f"The dashboard cannot start: the configuration in `{path}` has problems.")
        st.code("\n".join(err.problems), language=None)
        st.info("Fix the file, or pass another one: `streamlit run dashboard/app.py -- --config PATH`.")
        st.stop()
    src = Source(config.database.url, config.dashboard.cache_ttl.total_seconds())
    problem = queries.database_problem(src)
    if problem:
        st.error("The dashboard has no data to show yet.")
        st.info(problem)
        st.stop()
    ctx = Ctx(config=config, config_path=path, src=src)
    st.session_state["_ctx"] = ctx
    return ctx


@contextmanager
def entered() -> Iterator[None]:
    """Mark the page the entry file runs as run through it (see :func:`current`)."""
    token = _ENTERED.set(True)
    try:
        yield
    finally:
        _ENTERED.reset(token)


def current() -> Ctx:
    """The context the entry file loaded for this run.

    Because our pages live in a ``pages/`` folder beside the entry file, Streamlit may run a
    page on its own (its legacy folder mode: the first run of a server on a deep link, and
    every AppTest run). Then run the entry file here, which routes back to this same page
    with the sidebar and checks, and stop the outer run.
    """
    ctx = st.session_state.get("_ctx")
    if _ENTERED.get() and isinstance(ctx, Ctx):
        return ctx
    runpy.run_path(str(Path(__file__).with_name("app.py")), run_name="__main__")
    st.stop()


def _now_end() -> datetime:
    """The end of the current minute: windows stay cache-friendly yet include the newest mentions."""
    return utcnow().replace(second=0, microsecond=0) + timedelta(minutes=1)


def sidebar(ctx: Ctx) -> None:
    """The filters every page shares, kept in the URL: window, custom dates, platforms; and, with
    login off, the name actions are recorded under."""
    with st.sidebar:
        st.segmented_control(
            "Window", [*WINDOWS, CUSTOM], default="7d", required=True, key="window", bind="query-params",
            persist_state="session",
        )
        if st.session_state.get("window") == CUSTOM:
            today = pd.Timestamp(utcnow()).tz_localize("UTC").tz_convert(ctx.config.dashboard.time_zone).date()
            st.date_input(
                f"Dates ({ctx.config.dashboard.time_zone})", value=(today - timedelta(days=6), today), max_value=today,
                key="dates", bind="query-params", persist_state="session",
            )
        st.multiselect(
            "Platforms", queries.platforms(ctx.src), key="platforms", placeholder="All platforms",
            bind="query-params", persist_state="session",
        )
        if not ctx.config.dashboard.auth.enabled:
            st.text_input("Your name", key="user_name", placeholder="recorded with what you do",
                          persist_state="session")
        refresh = int(ctx.config.dashboard.refresh.total_seconds())
        st.caption(f"Live: refreshes every {refresh}s · times in {ctx.config.dashboard.time_zone}")


def window() -> Window:
    """The window the sidebar selects."""
    choice = st.session_state.get("window") or "7d"
    if choice == CUSTOM:
        dates = st.session_state.get("dates") or ()
        if isinstance(dates, date):
            dates = (dates,)
        if dates:
            first: date = dates[0]
            last: date = dates[-1]
            return Window(_local_midnight(first), _local_midnight(last + timedelta(days=1)), f"{first} to {last}")
        choice = "7d"
    end = _now_end()
    return Window(end - WINDOWS[choice], end, f"last {choice}")


def _local_midnight(day: date) -> datetime:
    """The start of ``day`` in the team's time zone, as the naive UTC time the database stores."""
    local = pd.Timestamp(datetime.combine(day, time())).tz_localize(tz(), ambiguous=False, nonexistent="shift_forward")
    return local.tz_convert("UTC").tz_localize(None).to_pydatetime()


def selected_platforms() -> tuple[str, ...]:
    return tuple(st.session_state.get("platforms") or ())


def user_name() -> str:
    """The name actions are recorded under: the signed-in user's, or (login off) the sidebar's; "" if none."""
    user = auth.current_user()
    if user is not None:
        return user.username
    return (st.session_state.get("user_name") or "").strip()


def can_act() -> bool:
    """Whether this session may change anything: an agent, or anyone when login is off."""
    ctx = st.session_state.get("_ctx")
    if isinstance(ctx, Ctx) and not ctx.config.dashboard.auth.enabled:
        return True
    user = auth.current_user()
    return user is not None and user.can_act


def tz() -> str:
    """The team's time zone (``dashboard.time_zone``)."""
    ctx = st.session_state.get("_ctx")
    return ctx.config.dashboard.time_zone if isinstance(ctx, Ctx) else "UTC"


def live(ctx: Ctx) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Make a page's data section a fragment that reruns every ``dashboard.refresh``.

    Widgets outside it keep their values (they live in session state under their keys). A
    database that does not answer becomes a message, and the next tick tries again.
    """

    def wrap(fn: Callable[[], None]) -> Callable[[], None]:
        @functools.wraps(fn)
        def guarded() -> None:
            try:
                fn()
            except DBAPIError as err:
                reason = type(err.orig).__name__ if err.orig is not None else type(err).__name__
                st.error(f"The database did not answer ({reason}). Retrying every "
                         f"{ctx.config.dashboard.refresh.total_seconds():.0f}s.")

        return st.fragment(run_every=ctx.config.dashboard.refresh)(guarded)

    return wrap


def brand_names(ctx: Ctx) -> dict[int, str]:
    df = queries.brands(ctx.src)
    return dict(zip(df["id"].astype(int), df["name"], strict=True))


def net_sentiment(positive: float, negative: float, scored: float) -> float | None:
    """(positive - negative) / scored, or None when nothing is scored."""
    return (positive - negative) / scored if scored else None


def act(action: Callable[[], object], done: str) -> None:
    """Run a person's action on the store; on success show ``done`` after the rerun.

    The one place a page turns a domain error (:class:`~monitor.errors.MonitorError`) into
    text: it is shown with ``st.error`` and the run stops, with nothing written. A read-only
    user is refused here, whatever the page shows.
    """
    if not can_act():
        st.error("Your account is read-only: ask whoever runs the monitor for the agent role to act.")
        st.stop()
    try:
        action()
    except MonitorError as err:
        st.error(str(err))
        st.stop()
    queries.clear()
    flash(done)
    st.rerun()


def flash(message: str | None = None) -> None:
    """Show (and clear) the message an action left before its rerun, or leave one."""
    if message is not None:
        st.session_state["_flash"] = message
    elif msg := st.session_state.pop("_flash", None):
        st.success(msg)


def bucket_range(win: Window) -> pd.DatetimeIndex:
    """Every bucket start in ``win``, aligned as the SQL buckets are (:mod:`monitor.store.sql`)."""
    size = timedelta(seconds=win.bucket_seconds)
    first = pd.Timestamp(bucket_start(bucket_index(win.start, size), size))
    return pd.date_range(first, pd.Timestamp(win.end), freq=f"{win.bucket_seconds}s", inclusive="left")
