"""An alert in plain words: one home for how every channel and the dashboard say what happened.

No raw field names, no p-values: counts with their usual level, shares as percentages,
reach as 120k, times in the team's time zone with UTC beside them, how bad in words.
Pure functions of an :class:`~monitor.store.Alert` (or its columns) and plain values.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

SEVERITY_WORDS = {1: "low", 2: "medium", 3: "high", 4: "critical"}
SEVERITY_COLORS = {1: "#6c757d", 2: "#e9a03b", 3: "#d1495b", 4: "#8b1e3f"}
"""Red for bad for the brand, darker the worse; the dashboard and the email use the same."""
VOLUME, SHARE = "negative_volume", "negative_share"


def severity_word(severity: int) -> str:
    """1-4 as low, medium, high, critical."""
    return SEVERITY_WORDS.get(int(severity), "unknown")


def count(n: float | int | None) -> str:
    """A count for people: 950, 1.2k, 120k, 3.4M (an em dash when unknown)."""
    if n is None or n != n:
        return "—"
    n = float(n)
    for size, unit in ((1e6, "M"), (1e3, "k")):
        if abs(n) >= size:
            v = n / size
            return f"{v:.1f}{unit}".replace(".0", "") if v < 10 else f"{v:.0f}{unit}"
    return f"{n:.0f}" if n == int(n) or abs(n) >= 10 else f"{n:.1f}"


def percent(share: float | None) -> str:
    """0.344 as 34%; small shares keep a decimal (0.4%)."""
    if share is None or share != share:
        return "—"
    pct = share * 100
    return f"{pct:.1f}%" if 0 < abs(pct) < 1 else f"{pct:.0f}%"


def usual(expected: float) -> str:
    """The usual level in words: "about 6", "under 1"."""
    if expected < 1:
        return "under 1"
    return f"about {count(round(expected))}"


def times_usual(observed: float, expected: float) -> str:
    """How many times the usual level, in words ("6× the usual", "far above the usual")."""
    if expected <= 0.05:
        return "far above the usual"
    ratio = observed / expected
    return f"{ratio:.0f}× the usual" if ratio >= 3 else f"{ratio:.1f}× the usual"


def zone(name: str | None) -> ZoneInfo:
    return ZoneInfo(name or "UTC")


def local(t: datetime, tz: str | None, fmt: str = "%a %d %b %H:%M") -> str:
    """Naive-UTC ``t`` in time zone ``tz``: "Tue 24 Nov 14:05 CET"."""
    aware = t.replace(tzinfo=UTC) if t.tzinfo is None else t
    here = aware.astimezone(zone(tz))
    return f"{here.strftime(fmt)} {here.tzname()}"


def local_and_utc(t: datetime, tz: str | None) -> str:
    """"Tue 24 Nov 14:05 CET (13:05 UTC)"; just the UTC time when the team works in UTC."""
    if (tz or "UTC") == "UTC":
        return local(t, "UTC")
    return f"{local(t, tz)} ({local(t, 'UTC', '%H:%M')})"


def duration(span: timedelta) -> str:
    """A span for people: 45 minutes, 3 hours, 2 days."""
    minutes = span.total_seconds() / 60
    if minutes < 90:
        return f"{max(minutes, 1):.0f} minute{'s' if round(minutes) != 1 else ''}"
    hours = minutes / 60
    if hours < 36:
        return f"{hours:.0f} hours"
    return f"{hours / 24:.0f} days"


def bucket_words(details: dict[str, Any]) -> str:
    """The detection bucket as words: "an hour", "15 minutes"."""
    seconds = int(details.get("bucket_seconds") or 3600)
    return "an hour" if seconds == 3600 else duration(timedelta(seconds=seconds))


def headline(kind: str, observed: float, expected: float, details: dict[str, Any]) -> str:
    """What happened in one line, e.g. "29 negative mentions in an hour, usually about 1"."""
    if kind == SHARE:
        share = details.get("share", {})
        total = share.get("total")
        of = f" ({count(details.get('volume', {}).get('observed'))} of {count(total)})" if total else ""
        return f"{percent(observed)} of mentions negative{of}, usually {percent(expected)}"
    return f"{count(observed)} negative mentions in {bucket_words(details)}, usually {usual(expected)}"


def summary(kind: str, observed: float, expected: float, details: dict[str, Any]) -> str:
    """Detection's own one-sentence explanation when it wrote one, else the headline with the total."""
    said = details.get("summary")
    if isinstance(said, str) and said.strip():
        return said.strip()
    line = headline(kind, observed, expected, details)
    total, total_expected = details.get("total_observed"), details.get("total_expected")
    if total is not None and total_expected is not None and kind == VOLUME and total != observed:
        line += f"; {count(total)} in the whole storm so far, usually {usual(float(total_expected))}"
    return line + "."


def how_bad(severity: int, observed: float, expected: float, kind: str) -> str:
    """"High: 6× the usual negative mentions" in words."""
    if kind == SHARE:
        word = severity_word(severity).capitalize()
        return f"{word}: negative share up from {percent(expected)} to {percent(observed)}"
    return f"{severity_word(severity).capitalize()}: {times_usual(observed, expected)} negative mentions"


def drivers(details: dict[str, Any], limit: int = 6) -> list[str]:
    """The terms that rose, in words: ""refund" in 40% of negative mentions (usually 2%)"."""
    out = []
    for t in (details.get("rising_terms") or [])[:limit]:
        if isinstance(t, dict) and "term" in t:
            was = t.get("baseline_share")
            usual_part = f" (usually {percent(was)})" if was is not None else ""
            out.append(f"\u201c{t['term']}\u201d in {percent(t.get('share'))} of negative mentions{usual_part}")
        elif isinstance(t, str):
            out.append(f"\u201c{t}\u201d")
    return out


def since(window_start: datetime, now: datetime, is_open: bool, window_end: datetime) -> str:
    """"for 3 hours" while it goes on, "lasted 2 hours" once over."""
    if is_open:
        return f"going on for {duration(now - window_start)}"
    return f"lasted {duration(window_end - window_start)}"
