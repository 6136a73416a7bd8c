"""How the dashboard writes numbers, times and text: plain words, the team's time zone, nothing rendered
from a mention. Counts and shares come from :mod:`monitor.alerts.wording`, the one home of those rules."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from monitor.alerts import wording
from monitor.alerts.wording import count as count
from monitor.alerts.wording import percent as percent


def when(t: datetime | None, tz: str, fmt: str = "%a %d %b %H:%M") -> str:
    """Naive-UTC ``t`` in the team's zone, e.g. "Tue 24 Nov 14:05 CET"; "never" for None."""
    if t is None or pd.isna(t):
        return "never"
    return wording.local(pd.Timestamp(t).to_pydatetime(), tz, fmt)


def utc(t: datetime | None) -> str | None:
    """``t`` in UTC for a tooltip ("2026-11-24 13:05 UTC"), None for None."""
    if t is None or pd.isna(t):
        return None
    return f"{pd.Timestamp(t):%Y-%m-%d %H:%M} UTC"


def local_column(values: pd.Series, tz: str) -> pd.Series:
    """Naive-UTC timestamps as aware ones in ``tz`` (a dataframe then shows the team's local time)."""
    return pd.to_datetime(values).dt.tz_localize("UTC").dt.tz_convert(tz)


def fmt_duration(seconds: float | None) -> str:
    """``seconds`` as e.g. 45s, 12m, 3.5h, 2.1d; an em dash when unknown."""
    if seconds is None or pd.isna(seconds):
        return "—"
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "unknown"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def md_escape(value: object) -> str:
    """``value`` as Markdown that shows literally (no links, emphasis or HTML)."""
    out = str(value)
    for ch in "\\`*_{}[]()<>#+-.!|~$":
        out = out.replace(ch, "\\" + ch)
    return out


def label_format(label: object) -> str:
    return "—" if label is None or (isinstance(label, float) and pd.isna(label)) else str(label)
