"""Altair charts for the pages; every function takes already aggregated frames."""

from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard.ui import SENTIMENT_COLORS

_SENTIMENTS = list(SENTIMENT_COLORS)
_ALERT_COLOR = "#e76f51"


def _alert_layers(alerts: pd.DataFrame) -> tuple[alt.Chart, alt.Chart] | None:
    """A shaded band over each alert's window (to draw behind) and a rule at its start (in front)."""
    if alerts.empty:
        return None
    data = alerts[["window_start", "window_end", "kind", "severity", "observed", "expected", "brand"]]
    base = alt.Chart(data)
    tooltip = [
        alt.Tooltip("brand:N", title="Brand"),
        alt.Tooltip("kind:N", title="Alert"),
        alt.Tooltip("severity:Q", title="Severity"),
        alt.Tooltip("observed:Q", title="Observed", format=".1f"),
        alt.Tooltip("expected:Q", title="Expected", format=".1f"),
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
    """Net sentiment per bucket, one line per series; df: bucket, series, net, scored."""
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#adb5bd").encode(y="y:Q")
    lines = (
        alt.Chart(df)
        .mark_line(point=alt.OverlayMarkDef(size=30))
        .encode(
            x=alt.X("bucket:T", title=None),
            y=alt.Y("net:Q", title="Net sentiment", scale=alt.Scale(domain=[-1, 1])),
            color=alt.Color("series:N", scale=alt.Scale(scheme="tableau10"),
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
