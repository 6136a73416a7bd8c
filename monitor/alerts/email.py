"""The email channel: an alert as a plain-text and an HTML part saying what happened and what
drove it, sent over SMTP or written to the outbox folder as an ``.eml`` file.

Everything that came from a mention (text, author, URL) is HTML-escaped, and only http(s)
links become clickable. The Message-ID is derived from the alert, so a retried send of the
same alert carries the same id and mail clients can recognise the duplicate.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

from monitor.alerts.channels import Channel, TransportError
from monitor.config import AlertsConfig, SmtpConfig, secret
from monitor.store import Alert
from monitor.text import safe_url

log = logging.getLogger(__name__)

TOP = 5
SEVERITY_WORDS = {1: "low", 2: "medium", 3: "high", 4: "critical"}


def message_id(alert: Alert, sender: str) -> str:
    """``<alert-<id>.<created epoch>@<sender domain>>``: stable across retries of one alert."""
    domain = sender.rsplit("@", 1)[-1] or "localhost"
    stamp = int((alert.created_at - datetime(1970, 1, 1)).total_seconds())
    return f"<alert-{alert.id}.{stamp}@{domain}>"


def _when(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M UTC")


def _facts(alert: Alert, brand: str) -> dict[str, Any]:
    d = alert.details
    share = d.get("share", {})
    volume = d.get("volume", {})
    if alert.kind == "negative_share":
        headline = (f"negative share {alert.observed:.0%} vs {alert.expected:.0%} usual "
                    f"({volume.get('observed', '?')} negative of {share.get('total', '?')})")
    else:
        headline = f"{alert.observed:.0f} negative mentions vs {alert.expected:.1f} expected"
    severity = f"{alert.severity}/4 ({SEVERITY_WORDS.get(alert.severity, '?')})"
    return {
        "subject": f"[{brand}] Negative spike: {headline} · severity {severity}",
        "headline": headline,
        "severity": severity,
        "window": f"{_when(alert.window_start)} – {_when(alert.window_end)}"
                  + ("" if alert.is_open else " (over)"),
        "p_value": f"{alert.p_value:.2g}",
        "share": (f"{share['observed']:.0%} of scored mentions negative vs {share['expected']:.0%} usual"
                  if "observed" in share and "expected" in share else ""),
        "total": (f"{d['total_observed']} negative mentions in the window vs {d['total_expected']:.1f} expected"
                  if "total_observed" in d else ""),
        "terms": d.get("rising_terms", [])[:8],
        "mentions": d.get("top_mentions", [])[:TOP],
    }


def render_text(alert: Alert, brand: str, config: AlertsConfig) -> str:
    """The plain-text body."""
    f = _facts(alert, brand)
    lines = [f"Negative spike for {brand}: {f['headline']}.", "",
             f"Severity:  {f['severity']}", f"Window:    {f['window']}",
             f"p-value:   {f['p_value']}"]
    if f["share"]:
        lines.append(f"Share:     {f['share']}")
    if f["total"]:
        lines.append(f"Total:     {f['total']}")
    lines += ["", "What drove it (terms used more than in the past week):"]
    lines += [f"  - {t['term']}: {t['count']} mentions ({t['share']:.0%} vs {t['baseline_share']:.0%} usually)"
              for t in f["terms"]] or ["  (no term stands out)"]
    lines += ["", f"Top {len(f['mentions'])} negative mentions:"]
    for i, m in enumerate(f["mentions"], 1):
        text = " ".join(str(m.get("text", "")).split())[:280]
        lines.append(f"  {i}. {m.get('author') or 'unknown'} (reach {int(m.get('reach') or 0):,}): {text}")
        if m.get("url"):
            lines.append(f"     {m['url']}")
    lines += ["", f"Dashboard: {config.dashboard_url}", f"Alert #{alert.id}"]
    return "\n".join(lines) + "\n"


def render_html(alert: Alert, brand: str, config: AlertsConfig) -> str:
    """The HTML body; all mention-derived text is escaped."""
    f = _facts(alert, brand)
    e = escape
    rows = [("Severity", f["severity"]), ("Window", f["window"]), ("Observed vs expected", f["headline"]),
            ("p-value", f["p_value"])]
    rows += [("Share", f["share"])] if f["share"] else []
    rows += [("Total", f["total"])] if f["total"] else []
    table = "".join(f"<tr><th align='left'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
    terms = "".join(
        f"<li><b>{e(t['term'])}</b>: {t['count']} mentions ({t['share']:.0%} vs {t['baseline_share']:.0%})</li>"
        for t in f["terms"]) or "<li>no term stands out</li>"
    items = []
    for m in f["mentions"]:
        url = safe_url(str(m.get("url") or ""))
        link = f" <a href=\"{e(url)}\">open</a>" if url else ""
        items.append(f"<li><b>{e(str(m.get('author') or 'unknown'))}</b> (reach {int(m.get('reach') or 0):,}): "
                     f"{e(str(m.get('text', ''))[:500])}{link}</li>")
    dash = safe_url(config.dashboard_url)
    dash_html = (f"<p><a href=\"{e(dash)}\">Open the dashboard</a> · alert #{alert.id}</p>" if dash
                 else f"<p>Dashboard: {e(config.dashboard_url)} · alert #{alert.id}</p>")
    return (f"<html><body><h2>Negative spike for {e(brand)}</h2><table>{table}</table>"
            f"<h3>What drove it</h3><ul>{terms}</ul>"
            f"<h3>Top negative mentions</h3><ol>{''.join(items) or '<li>none stored</li>'}</ol>"
            f"{dash_html}</body></html>")


def build_message(alert: Alert, brand: str, config: AlertsConfig, *, now: datetime) -> EmailMessage:
    """The multipart/alternative email for ``alert`` (text first, HTML preferred)."""
    msg = EmailMessage()
    msg["Subject"] = _facts(alert, brand)["subject"]
    msg["From"] = config.sender
    msg["To"] = ", ".join(config.recipients) or "undisclosed-recipients:;"
    msg["Date"] = format_datetime(now.replace(tzinfo=UTC), usegmt=True)
    msg["Message-ID"] = message_id(alert, config.sender)
    msg["X-Brand-Monitor-Alert"] = str(alert.id)
    msg.set_content(render_text(alert, brand, config))
    msg.add_alternative(render_html(alert, brand, config), subtype="html")
    return msg


def smtp_send(cfg: SmtpConfig, env: Mapping[str, str], msg: EmailMessage) -> None:
    """Send ``msg`` through the configured server; raises ``OSError`` or ``smtplib.SMTPException``."""
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if cfg.security == "ssl":
        client = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=context)
    else:
        client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
    with client:
        if cfg.security == "starttls":
            client.starttls(context=context)
        username = secret(cfg.username_env, env)
        if username:
            client.login(username, secret(cfg.password_env, env) or "")
        refused = client.send_message(msg)
    if refused:
        log.warning("alert email: %d recipient(s) refused: %s", len(refused), ", ".join(sorted(refused)))


def write_eml(outbox: Path, alert_id: int, msg: EmailMessage) -> Path:
    """Write ``msg`` to ``outbox/alert-<id>.eml`` atomically; returns the path. Raises ``OSError``."""
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"alert-{alert_id}.eml"
    tmp = path.with_suffix(f".eml.{os.getpid()}.tmp")
    tmp.write_bytes(msg.as_bytes())
    os.replace(tmp, path)
    return path


class EmailChannel(Channel):
    """Email to ``alerts.recipients`` over ``alerts.smtp``; without SMTP, an ``.eml`` file in ``alerts.outbox_dir``."""

    kind = "email"

    def __init__(self, cfg: AlertsConfig, env: Mapping[str, str], *, now: datetime) -> None:
        self.cfg, self.env, self.now = cfg, env, now

    def notify(self, alert: Alert, brand: str) -> str:
        """Send (or write) the alert's email; returns the outbox file or the SMTP host.

        Raises :class:`TransportError` for an SMTP or file-system failure, and a permanent
        one when SMTP is configured without recipients.
        """
        msg = build_message(alert, brand, self.cfg, now=self.now)
        try:
            if self.cfg.smtp is None:
                assert alert.id is not None
                return str(write_eml(self.cfg.outbox_dir, alert.id, msg))
            if not self.cfg.recipients:
                raise TransportError("alerts.recipients is empty; add at least one address", permanent=True)
            smtp_send(self.cfg.smtp, self.env, msg)
        except (OSError, smtplib.SMTPException) as err:
            raise TransportError(f"{type(err).__name__}: {err}") from err
        return self.cfg.smtp.host
