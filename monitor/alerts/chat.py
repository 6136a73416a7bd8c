"""Chat and webhook channels through Apprise: Slack, Microsoft Teams, Discord, Telegram, JSON webhooks.

Each ``alerts.channels`` entry names the environment variable that holds its Apprise URL
(``slack://...``, ``msteams://...``, ``json://host/path``), so the URL, which usually carries
a token, never sits in config.yaml. The message is short Markdown: what happened in plain
words, how bad, since when (the team's time zone and UTC), what drove it, and two links that
land: the alert's page and the brand's escalations.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime

from monitor.alerts import links, wording
from monitor.alerts.channels import Channel, TransportError
from monitor.config import ChannelConfig, Config, secret
from monitor.store import Alert

_STAMP = re.compile(r"^[\d-]+ [\d:,]+ - \w+ - ")


def render(alert: Alert, brand: str, config: Config, *, now: datetime) -> tuple[str, str]:
    """The title and Markdown body of a chat message for ``alert``."""
    d, tz, base = alert.details, config.dashboard.time_zone, config.alerts.dashboard_url
    title = f"[{brand}] Negative storm, {wording.severity_word(alert.severity)}: " + wording.headline(
        alert.kind, alert.observed, alert.expected, d)
    lines = [
        wording.summary(alert.kind, alert.observed, alert.expected, d),
        "",
        f"**How bad:** {wording.how_bad(alert.severity, alert.observed, alert.expected, alert.kind)}",
        f"**Since:** {wording.local_and_utc(alert.window_start, tz)}, "
        f"{wording.since(alert.window_start, now, alert.is_open, alert.window_end)}",
    ]
    drivers = wording.drivers(d, limit=4)
    if drivers:
        lines.append("**What drove it:** " + "; ".join(drivers))
    lines += ["", f"[Open the alert]({links.alert_url(base, alert.id)}) · "
                  f"[{brand}'s escalations]({links.escalations_url(base, brand)})"]
    return title, "\n".join(lines)


class AppriseChannel(Channel):
    """One ``alerts.channels`` entry: its Apprise URL from the environment, its brands and minimum severity."""

    kind = "apprise"

    def __init__(self, cfg: ChannelConfig, config: Config, env: Mapping[str, str], *, now: datetime) -> None:
        self.cfg, self.config, self.env, self.now = cfg, config, env, now
        self.name = cfg.name

    def wants(self, brand: str, severity: int) -> bool:
        return self.cfg.wants(brand, severity)

    def notify(self, alert: Alert, brand: str) -> str:
        """Send the message; returns the service's name (e.g. ``json``, ``slack``).

        Raises :class:`TransportError` when the URL variable is unset, Apprise does not know
        the URL, or the service did not accept the message. The URL itself is never in an error.
        """
        import apprise

        try:
            url = secret(self.cfg.url_env, self.env)
        except OSError as err:
            raise TransportError(f"{self.cfg.url_env}_FILE cannot be read: {err.strerror}") from err
        if not url:
            raise TransportError(f"environment variable {self.cfg.url_env} is not set; set it to the "
                                 f"channel's Apprise URL (alerts.channels {self.name!r})")
        sender = apprise.Apprise()
        if not sender.add(url):
            raise TransportError(f"{self.cfg.url_env} does not hold a URL Apprise knows; see Apprise's list "
                                 "of services (e.g. slack://, msteams://, json://host/path)", permanent=True)
        title, body = render(alert, brand, self.config, now=self.now)
        kind = apprise.NotifyType.FAILURE if alert.severity >= 3 else apprise.NotifyType.WARNING
        with apprise.LogCapture(level=logging.WARNING) as log:
            ok = sender.notify(title=title, body=body, body_format=apprise.NotifyFormat.MARKDOWN, notify_type=kind)
        if not ok:
            lines = [_STAMP.sub("", line) for line in str(log.getvalue()).splitlines() if line.strip()]
            said = " ".join(" ".join(lines).split()).replace(url, "<url>")[:300]
            raise TransportError(f"{self.name} did not accept the alert: {said or 'no reason given'}")
        return str(sender[0].service_name if len(sender) else self.name)
