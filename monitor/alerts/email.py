"""The email channel: an alert as a plain-text and a styled HTML part saying what happened in plain
words, what to do, with links straight to the alert's page and the brand's escalations, times in
the team's time zone with UTC; sent over SMTP or written to the outbox folder as an ``.eml`` file.

Everything that came from a mention (text, author, URL) is HTML-escaped, and only http(s)
links become clickable. The Message-ID is derived from the alert, so a retried send of the
same alert carries the same id and mail clients can recognise the duplicate.
"""

from __future__ import annotations

import email.policy
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

from monitor.alerts import links, wording
from monitor.alerts.channels import EMAIL, Channel, TransportError
from monitor.config import Config, SmtpConfig, secret
from monitor.store import Alert
from monitor.text import safe_url

log = logging.getLogger(__name__)

TOP = 5
_POLICY = email.policy.SMTP.clone(max_line_length=998)
"""RFC 5322's hard limit: a long subject stays on one line (Python folds it oddly at 78)."""


def message_id(alert: Alert, sender: str) -> str:
    """``<alert-<id>.<created epoch>@<sender domain>>``: stable across retries of one alert."""
    domain = sender.rsplit("@", 1)[-1] or "localhost"
    stamp = int((alert.created_at - datetime(1970, 1, 1)).total_seconds())
    return f"<alert-{alert.id}.{stamp}@{domain}>"


def _facts(alert: Alert, brand: str, config: Config, now: datetime) -> dict[str, Any]:
    d, tz, base = alert.details, config.dashboard.time_zone, config.alerts.dashboard_url
    headline = wording.headline(alert.kind, alert.observed, alert.expected, d)
    return {
        "subject": f"[{brand}] Negative storm, {wording.severity_word(alert.severity)}: {headline}",
        "summary": wording.summary(alert.kind, alert.observed, alert.expected, d),
        "how_bad": wording.how_bad(alert.severity, alert.observed, alert.expected, alert.kind),
        "since": f"{wording.local_and_utc(alert.window_start, tz)}, "
                 f"{wording.since(alert.window_start, now, alert.is_open, alert.window_end)}",
        "drivers": wording.drivers(d, limit=8),
        "mentions": (d.get("top_mentions") or [])[:TOP],
        "alert_url": links.alert_url(base, alert.id),
        "escalations_url": links.escalations_url(base, brand),
        "zone": tz,
    }


def _todo(brand: str) -> list[str]:
    return ["Open the alert: check the top mentions and what drove it, then acknowledge it so the team "
            "knows someone is on it.",
            f"Answer the people who need a reply in {brand}'s escalations, most urgent first.",
            "Resolve the alert once the storm is handled."]


def render_text(alert: Alert, brand: str, config: Config, *, now: datetime) -> str:
    """The plain-text body."""
    f = _facts(alert, brand, config, now)
    lines = [f"Negative storm for {brand}: {f['summary']}", "",
             f"How bad:  {f['how_bad']}", f"Since:    {f['since']}", "",
             "What to do:"]
    lines += [f"  {i}. {step}" for i, step in enumerate(_todo(brand), 1)]
    lines += ["", f"Open the alert:   {f['alert_url']}", f"Escalations:      {f['escalations_url']}", "",
              "What drove it (terms in more negative mentions than usual):"]
    lines += [f"  - {t}" for t in f["drivers"]] or ["  (no term stands out)"]
    lines += ["", f"Top {len(f['mentions'])} negative mentions:"]
    for i, m in enumerate(f["mentions"], 1):
        text = " ".join(str(m.get("text", "")).split())[:280]
        lines.append(f"  {i}. {m.get('author') or 'unknown'} (reach {wording.count(m.get('reach') or 0)}): {text}")
        if m.get("url"):
            lines.append(f"     {m['url']}")
    lines += ["", f"Times in {f['zone']}, UTC in brackets. Alert #{alert.id}."]
    return "\n".join(lines) + "\n"


_BUTTON = ("display:inline-block;padding:10px 18px;margin:4px 8px 4px 0;border-radius:6px;"
           "text-decoration:none;font-weight:600;")


def _button(url: str, label: str, primary: bool) -> str:
    safe = safe_url(url)
    if not safe:
        return f"<p>{escape(label)}: {escape(url)}</p>"
    colors = "background:#264653;color:#ffffff;" if primary else "background:#e9ecef;color:#264653;"
    return f'<a href="{escape(safe)}" style="{_BUTTON}{colors}">{escape(label)}</a>'


def render_html(alert: Alert, brand: str, config: Config, *, now: datetime) -> str:
    """The HTML body (inline styles, as mail clients need); all mention-derived text is escaped."""
    f = _facts(alert, brand, config, now)
    e = escape
    color = wording.SEVERITY_COLORS.get(alert.severity, "#d1495b")
    rows = "".join(f"<tr><th align='left' style='padding:4px 12px 4px 0;color:#495057;vertical-align:top'>"
                   f"{e(k)}</th><td style='padding:4px 0'>{e(v)}</td></tr>"
                   for k, v in (("How bad", f["how_bad"]), ("Since", f["since"])))
    todo = "".join(f"<li style='margin:4px 0'>{e(step)}</li>" for step in _todo(brand))
    drivers = "".join(f"<li>{e(t)}</li>" for t in f["drivers"]) or "<li>no term stands out</li>"
    items = []
    for m in f["mentions"]:
        url = safe_url(str(m.get("url") or ""))
        link = f" <a href=\"{e(url)}\" style='color:#264653'>open</a>" if url else ""
        items.append(f"<li style='margin:6px 0'><b>{e(str(m.get('author') or 'unknown'))}</b> "
                     f"<span style='color:#6c757d'>(reach {e(wording.count(m.get('reach') or 0))})</span>: "
                     f"{e(str(m.get('text', ''))[:500])}{link}</li>")
    return (
        "<html><body style='margin:0;background:#f4f5f7;font-family:-apple-system,Segoe UI,Helvetica,Arial,"
        "sans-serif;color:#212529'><div style='max-width:640px;margin:0 auto;background:#ffffff'>"
        f"<div style='background:{color};color:#ffffff;padding:14px 20px;font-size:14px;letter-spacing:.04em'>"
        f"<b>{e(wording.severity_word(alert.severity).upper())}</b> · negative storm · {e(brand)}</div>"
        f"<div style='padding:20px'><h2 style='margin:0 0 12px;font-size:20px'>{e(f['summary'])}</h2>"
        f"<table style='font-size:14px;margin-bottom:12px'>{rows}</table>"
        f"<p style='margin:16px 0 8px'>{_button(f['alert_url'], 'Open the alert', True)}"
        f"{_button(f['escalations_url'], f'{brand} escalations', False)}</p>"
        f"<h3 style='font-size:16px;margin:20px 0 6px'>What to do</h3><ol style='padding-left:20px'>{todo}</ol>"
        f"<h3 style='font-size:16px;margin:20px 0 6px'>What drove it</h3><ul style='padding-left:20px'>{drivers}</ul>"
        f"<h3 style='font-size:16px;margin:20px 0 6px'>Top negative mentions</h3>"
        f"<ol style='padding-left:20px'>{''.join(items) or '<li>none stored</li>'}</ol>"
        f"<p style='color:#6c757d;font-size:12px;margin-top:24px'>Times in {e(f['zone'])}, UTC in brackets. "
        f"Alert #{alert.id}.</p></div></div></body></html>"
    )


def build_message(alert: Alert, brand: str, config: Config, *, now: datetime) -> EmailMessage:
    """The multipart/alternative email for ``alert`` (text first, HTML preferred)."""
    cfg = config.alerts
    msg = EmailMessage(policy=_POLICY)
    msg["Subject"] = _facts(alert, brand, config, now)["subject"]
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.recipients) or "undisclosed-recipients:;"
    msg["Date"] = format_datetime(now.replace(tzinfo=UTC), usegmt=True)
    msg["Message-ID"] = message_id(alert, cfg.sender)
    msg["X-Brand-Monitor-Alert"] = str(alert.id)
    msg.set_content(render_text(alert, brand, config, now=now))
    msg.add_alternative(render_html(alert, brand, config, now=now), subtype="html")
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
    name = EMAIL

    def __init__(self, config: Config, env: Mapping[str, str], *, now: datetime) -> None:
        self.config, self.cfg, self.env, self.now = config, config.alerts, env, now

    def notify(self, alert: Alert, brand: str) -> str:
        """Send (or write) the alert's email; returns the outbox file or the SMTP host.

        Raises :class:`TransportError` for an SMTP or file-system failure, and a permanent
        one when SMTP is configured without recipients.
        """
        msg = build_message(alert, brand, self.config, now=self.now)
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
