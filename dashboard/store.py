"""The dashboard's connection to the store: one engine per URL, TTL caching, the setup check.

:mod:`dashboard.queries` builds on these; pages use :func:`engine_for` only to hand the
engine to actions (``monitor.escalations.workflow``, ``monitor.scoring.correct_sentiment``)
through ``dashboard.ui.act``, which then calls :func:`clear` so the next read sees the write.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple, ParamSpec, TypeVar

import pandas as pd
import streamlit as st
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError

from monitor.store import make_engine, sqlite_path

P = ParamSpec("P")
R = TypeVar("R")
REQUIRED_TABLES = ("brand", "mention", "mention_brand", "sentiment", "escalation", "alert", "source_state",
                   "rollup_hour")


class Source(NamedTuple):
    """Where to read and for how long a result stays fresh."""

    url: str
    ttl_seconds: float


@st.cache_resource(show_spinner=False)
def engine_for(url: str) -> Engine:
    """The one engine per database URL for this server process (never creates folders)."""
    return make_engine(url, create_dirs=False)


def cached(fn: Callable[P, R]) -> Callable[P, R]:
    """``st.cache_data`` with the TTL carried by the call's :class:`Source` argument."""
    by_ttl: dict[float, Callable[..., Any]] = {}

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        ttl = args[0].ttl_seconds
        if ttl not in by_ttl:
            by_ttl[ttl] = st.cache_data(ttl=ttl, show_spinner=False)(fn)
        return by_ttl[ttl](*args, **kwargs)

    return call  # type: ignore[return-value]


def clear() -> None:
    """Forget cached results (after an action wrote to the database)."""
    st.cache_data.clear()


def frame(src: Source, stmt: Any) -> pd.DataFrame:
    with engine_for(src.url).connect() as conn:
        result = conn.execute(stmt)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def dialect(src: Source) -> str:
    return engine_for(src.url).dialect.name


def database_problem(src: Source) -> str | None:
    """Why the database cannot be shown yet (missing file or driver, no server, no tables), or None.

    The text never repeats the URL, which may hold a password.
    """
    try:
        path = sqlite_path(src.url)
        if path is not None and not path.expanduser().exists():
            return f"The database file {path} does not exist yet. Run `monitor init`, then start collecting."
        names = set(inspect(engine_for(src.url)).get_table_names())
    except ArgumentError:
        return "database.url in the config is not a URL SQLAlchemy can use; check its form and driver name."
    except ImportError as err:
        return (f"The database driver is not installed (no module {err.name!r}): install it, or name an "
                "installed driver in database.url, e.g. postgresql+psycopg:// (pip install -e '.[postgres]').")
    except DBAPIError as err:
        reason = type(err.orig).__name__ if err.orig is not None else type(err).__name__
        return f"Cannot connect to the database ({reason}). Is the server up and database.url right?"
    missing = [t for t in REQUIRED_TABLES if t not in names]
    if missing:
        return "The database has no monitor tables yet (missing: " + ", ".join(missing) + "). Run `monitor init`."
    return None
