"""Altair charts for the pages; every function takes already aggregated frames."""

from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard.ui import PLATFORM_COLORS, SENTIMENT_COLORS

_SENTIMENTS = list(SENTIMENT_COLORS)
_ALERT_COLOR = SENTIMENT_COLORS["negative"]
_ALL = "All platforms"


def _alert_layers(alerts: pd.DataFrame) -> tuple[alt.Chart, alt.Chart] | None:
    """A shaded band over each alert's window (to draw behind) and a rule at its start (in front)."""
    if alerts.empty:
        return None
    data = alerts[["window_start", "window_end", "kind", "severity", "observed", "expected", "brand"]]
    base = alt.Chart(data)
    tooltip = [
        alt.Tooltip("brand:N", title="Brand"),
        alt.Tooltip("kind:N", title="Alert"),
        alt.Tooltip("severity:Q", title="Severity (1-4)"),
        alt.Tooltip("observed:Q", title="Negative mentions at the peak", format=".0f"),
        alt.Tooltip("expected:Q", title="Usually", format=".1f"),
        alt.Tooltip("window_start:T", title="From", format="%Y-%m-%d %H:%M"),
    ]
    band = base.mark_rect(color=_ALERT_COLOR, opacity=0.12).encode(x="window_start:T", x2="window_end:T")
    rule = base.mark_rule(color=_ALERT_COLOR, strokeDash=[4, 3], strokeWidth=2).encode(
        x="window_start:T", tooltip=tooltip
    )
    return band, rule


def _with_alerts(*charts: alt.Chart, alerts: pd.DataFrame) -> alt.LayerChart:
    layers = _alert_layers(alerts)
    return alt.layer(*charts) if layers is None else alt.layer(layers[0], *charts, layers[1])


def volume_by_sentiment(
    df: pd.DataFrame, alerts: pd.DataFrame, bucket_label: str, bucket_seconds: int
) -> alt.TopLevelMixin:
    """Stacked bars of mentions per bucket by sentiment; df: bucket, sentiment, mentions."""
    df = df.assign(bucket_end=df["bucket"] + pd.Timedelta(seconds=bucket_seconds))
    bars = (
        alt.Chart(df)
        .mark_bar(stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("bucket:T", title=None),
            x2="bucket_end:T",
            y=alt.Y("sum(mentions):Q", title=f"Mentions per {bucket_label}"),
            color=alt.Color(
                "sentiment:N",
                scale=alt.Scale(domain=_SENTIMENTS, range=list(SENTIMENT_COLORS.values())),
                legend=alt.Legend(orient="top", title=None),
            ),
            order=alt.Order("sentiment:N"),
            tooltip=[
                alt.Tooltip("bucket:T", title="From", format="%Y-%m-%d %H:%M"),
                "sentiment:N",
                alt.Tooltip("sum(mentions):Q", title="Mentions"),
            ],
        )
    )
    return _with_alerts(bars, alerts=alerts).properties(height=280)


def net_sentiment_lines(df: pd.DataFrame, alerts: pd.DataFrame) -> alt.TopLevelMixin:
    """Net sentiment per bucket, one line per series; df: bucket, series, net, scored.

    "All platforms" is dark grey; platforms take :data:`~dashboard.ui.PLATFORM_COLORS`, never the
    sentiment red or green."""
    others = sorted(s for s in df["series"].unique() if s != _ALL)
    domain = [_ALL, *others]
    palette = ["#212529", *(PLATFORM_COLORS[i % len(PLATFORM_COLORS)] for i in range(len(others)))]
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#adb5bd").encode(y="y:Q")
    lines = (
        alt.Chart(df)
        .mark_line(point=alt.OverlayMarkDef(size=30))
        .encode(
            x=alt.X("bucket:T", title=None),
            y=alt.Y("net:Q", title="Net sentiment", scale=alt.Scale(domain=[-1, 1])),
            color=alt.Color("series:N", scale=alt.Scale(domain=domain, range=palette),
                            legend=alt.Legend(orient="top", title=None)),
            tooltip=[
                alt.Tooltip("bucket:T", title="From", format="%Y-%m-%d %H:%M"),
                alt.Tooltip("series:N", title="Series"),
                alt.Tooltip("net:Q", title="Net", format="+.2f"),
                alt.Tooltip("scored:Q", title="Scored"),
            ],
        )
    )
    return _with_alerts(zero, lines, alerts=alerts).properties(height=240)


EMOTION_COLORS = {"anger": SENTIMENT_COLORS["negative"], "sadness": "#6c757d", "optimism": "#74c69d",
                  "joy": SENTIMENT_COLORS["positive"]}
"""Anger in the sentiment red (bad for the brand), joy in its green; sadness grey, optimism a light green."""


def emotion_lines(df: pd.DataFrame, alerts: pd.DataFrame) -> alt.TopLevelMixin:
    """Mentions per bucket and emotion, one line per emotion; df: bucket, emotion, mentions."""
    lines = (
        alt.Chart(df)
        .mark_line(point=alt.OverlayMarkDef(size=30))
        .encode(
            x=alt.X("bucket:T", title=None),
            y=alt.Y("mentions:Q", title="Mentions"),
            color=alt.Color("emotion:N", scale=alt.Scale(domain=list(EMOTION_COLORS),
                                                         range=list(EMOTION_COLORS.values())),
                            legend=alt.Legend(orient="top", title=None)),
            tooltip=[
                alt.Tooltip("bucket:T", title="From", format="%Y-%m-%d %H:%M"),
                alt.Tooltip("emotion:N", title="Emotion"),
                alt.Tooltip("mentions:Q", title="Mentions"),
            ],
        )
    )
    return _with_alerts(lines, alerts=alerts).properties(height=220)


def share_bars(df: pd.DataFrame) -> alt.TopLevelMixin:
    """Horizontal bars of share of voice; df: brand, mentions, share, own."""
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y("brand:N", sort="-x", title=None),
            x=alt.X("share:Q", title="Share of voice", axis=alt.Axis(format="%")),
            color=alt.condition(alt.datum.own, alt.value("#264653"), alt.value("#a8dadc")),
            tooltip=["brand:N", alt.Tooltip("mentions:Q", title="Mentions"),
                     alt.Tooltip("share:Q", title="Share", format=".1%")],
        )
        .properties(height=alt.Step(36))
    )


def net_bars(df: pd.DataFrame) -> alt.TopLevelMixin:
    """Horizontal diverging bars of net sentiment, labelled; df: brand, net, scored."""
    order = list(df.sort_values("net", ascending=False)["brand"])
    base = alt.Chart(df).encode(y=alt.Y("brand:N", sort=order, title=None))
    labels = base.mark_text(align="left", dx=6, color="#495057").encode(
        x=alt.X("net:Q"), text=alt.Text("net:Q", format="+.2f")
    )
    bars = (
        base
        .mark_bar()
        .encode(
            x=alt.X("net:Q", title="Net sentiment", scale=alt.Scale(domain=[-1, 1])),
            color=alt.condition(alt.datum.net >= 0, alt.value("#2a9d8f"), alt.value("#d1495b")),
            tooltip=["brand:N", alt.Tooltip("net:Q", title="Net", format="+.2f"),
                     alt.Tooltip("scored:Q", title="Scored")],
        )
    )
    return alt.layer(bars, labels).properties(height=alt.Step(36))


def storm_chart(series: pd.DataFrame, band: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
                bucket_label: str, bucket_seconds: int) -> alt.TopLevelMixin:
    """Negative mentions per bucket around a storm against the usual range detection expected.

    series: bucket, negative; band: bucket, expected, low, high (the storm's judged buckets);
    the storm's window is shaded red.
    """
    df = series.assign(bucket_end=series["bucket"] + pd.Timedelta(seconds=bucket_seconds),
                       in_storm=(series["bucket"] >= start) & (series["bucket"] < end))
    window = alt.Chart(pd.DataFrame({"start": [start], "end": [end]})).mark_rect(
        color=_ALERT_COLOR, opacity=0.08).encode(x="start:T", x2="end:T")
    bars = alt.Chart(df).mark_bar(stroke="white", strokeWidth=0.5).encode(
        x=alt.X("bucket:T", title=None), x2="bucket_end:T",
        y=alt.Y("negative:Q", title=f"Negative mentions per {bucket_label}"), y2=alt.datum(0),
        color=alt.condition(alt.datum.in_storm, alt.value(_ALERT_COLOR), alt.value("#adb5bd")),
        tooltip=[alt.Tooltip("bucket:T", title="From", format="%a %d %b %H:%M"),
                 alt.Tooltip("negative:Q", title="Negative mentions")],
    )
    layers: list[alt.Chart] = [window]
    if not band.empty:
        half = pd.Timedelta(seconds=bucket_seconds / 2)
        b = band.assign(bucket_end=band["bucket"] + 2 * half, mid=band["bucket"] + half)
        base = alt.Chart(b)
        layers.append(base.mark_rect(color="#264653", opacity=0.18).encode(
            x="bucket:T", x2="bucket_end:T", y="low:Q", y2="high:Q",
            tooltip=[alt.Tooltip("expected:Q", title="Usually", format=".1f"),
                     alt.Tooltip("high:Q", title="Top of the usual range", format=".1f")]))
    layers.append(bars)
    if not band.empty:
        layers.append(base.mark_tick(color="#264653", thickness=2, size=18).encode(
            x=alt.X("mid:T"), y=alt.Y("expected:Q")))
    return alt.layer(*layers).properties(height=280)
