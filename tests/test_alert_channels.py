"""Alerts reach every channel exactly once: a real JSON webhook on loopback through Apprise, and
the email through a real SMTP server (aiosmtpd), each with its own delivery row and retries."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine
from sqlmodel import select

from monitor.alerts.outbox import send_pending
from monitor.config import Config
from monitor.store import Alert, AlertDelivery, session_scope
from tests.fixtures_alerts import add_brand, make_config, make_db
from tests.test_delivery import NOW, Inbox, free_port, make_alert


class Hook:
    """A loopback HTTP server that keeps every JSON body POSTed to it; can go down and come back."""

    def __init__(self, port: int) -> None:
        self.port, self.bodies, self.server = port, [], None
        self.paths: list[str] = []

    def up(self) -> None:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                hook.bodies.append(json.loads(self.rfile.read(length)))
                hook.paths.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return make_db(tmp_path)


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook(free_port())
    yield h
    h.down()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def config(smtp_port: int, *channels: dict[str, Any], tz: str = "Europe/London") -> Config:
    return make_config(
        brands=[{"name": "Acme", "keywords": ["acme"]}, {"name": "Globex", "keywords": ["globex"]}],
        alerts={"recipients": ["care@acme.test"], "sender": "monitor@acme.test", "max_attempts": 5,
                "dashboard_url": "https://monitor.acme.test",
                "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none", "username_env": None,
                         "password_env": None, "timeout": 5},
                "channels": list(channels)},
        dashboard={"time_zone": tz},
    )


def env(hook: Hook) -> dict[str, str]:
    return {"CARE_WEBHOOK": f"json://127.0.0.1:{hook.port}/hooks/care"}


def rows(engine: Engine, alert_id: int) -> dict[str, AlertDelivery]:
    with session_scope(engine) as s:
        return {r.channel: r for r in s.exec(select(AlertDelivery).where(AlertDelivery.alert_id == alert_id))}


def test_one_json_webhook_per_alert_and_the_email_still_goes_out(
    engine: Engine, hook: Hook, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    hook.up()
    cfg = config(port, {"name": "care-webhook", "url_env": "CARE_WEBHOOK"})
    brand = add_brand(engine)
    first, second = make_alert(engine, brand), make_alert(engine, brand, severity=2)
    report = send_pending(engine, cfg, env(hook), now=NOW)
    assert sorted(report.sent) == [(first, "care-webhook"), (first, "email"), (second, "care-webhook"),
                                   (second, "email")]
    for later in (NOW + timedelta(minutes=5), NOW + timedelta(hours=3)):
        assert send_pending(engine, cfg, env(hook), now=later).sent == []
    assert len(hook.bodies) == 2 and len(inbox.messages) == 2
    body = hook.bodies[0]
    assert hook.paths == ["/hooks/care", "/hooks/care"]
    assert body["title"] == "[Acme] Negative storm, high: 25 negative mentions in an hour, usually about 3"
    assert f"https://monitor.acme.test/alerts?alert={first}" in body["message"]
    assert "https://monitor.acme.test/escalations?brand=Acme" in body["message"]
    assert "GMT" in body["message"] and "UTC" in body["message"]  # the team's zone, with UTC beside it
    assert "p-value" not in body["message"] and "negative_volume" not in body["message"]
    assert body["type"] == "failure" and hook.bodies[1]["type"] == "warning"  # high vs medium
    delivered = rows(engine, first)
    assert delivered["care-webhook"].status == "sent" and delivered["care-webhook"].target == "JSON"
    assert delivered["email"].status == "sent" and delivered["email"].target == "127.0.0.1"


def test_a_webhook_that_is_down_is_retried_later_and_still_gets_exactly_one(
    engine: Engine, hook: Hook, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    cfg = config(port, {"name": "care-webhook", "url_env": "CARE_WEBHOOK"})
    alert_id = make_alert(engine, add_brand(engine))
    report = send_pending(engine, cfg, env(hook), now=NOW)  # nobody listens on the webhook's port
    assert report.sent == [(alert_id, "email")] and len(inbox.messages) == 1  # email is not held back
    assert "did not accept" in report.failed[(alert_id, "care-webhook")]
    row = rows(engine, alert_id)["care-webhook"]
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 1, NOW + timedelta(minutes=1))
    assert "hooks/care" not in (row.last_error or "")  # a URL's path often holds its token: never stored
    assert send_pending(engine, cfg, env(hook), now=NOW + timedelta(seconds=30)).failed == {}  # not due yet
    hook.up()
    later = NOW + timedelta(minutes=1)
    assert send_pending(engine, cfg, env(hook), now=later).sent == [(alert_id, "care-webhook")]
    assert send_pending(engine, cfg, env(hook), now=later + timedelta(hours=2)).sent == []
    assert len(hook.bodies) == 1 and len(inbox.messages) == 1
    row = rows(engine, alert_id)["care-webhook"]
    assert (row.status, row.attempts) == ("sent", 2) and "did not accept" in (row.last_error or "")


def test_channels_route_by_brand_and_severity(engine: Engine, hook: Hook, smtp: tuple[Inbox, int]) -> None:
    _, port = smtp
    hook.up()
    cfg = config(port, {"name": "globex-only", "url_env": "CARE_WEBHOOK", "brands": ["globex"]},
                 {"name": "critical-only", "url_env": "CARE_WEBHOOK", "min_severity": 4})
    acme, globex = add_brand(engine), add_brand(engine, "Globex")
    acme_alert, globex_alert = make_alert(engine, acme), make_alert(engine, globex, severity=2)
    report = send_pending(engine, cfg, env(hook), now=NOW)
    assert sorted(report.sent) == [(acme_alert, "email"), (globex_alert, "email"), (globex_alert, "globex-only")]
    with session_scope(engine) as s:  # the storm grows: the critical channel now wants it
        alert = s.get(Alert, acme_alert)
        assert alert is not None
        alert.severity, alert.updated_at = 4, NOW + timedelta(hours=1)
        s.add(alert)
    report = send_pending(engine, cfg, env(hook), now=NOW + timedelta(hours=1))
    assert report.sent == [(acme_alert, "critical-only")]
    assert [b["title"].split("]")[0] for b in hook.bodies] == ["[Globex", "[Acme"]


def test_a_channel_without_its_url_variable_fails_visibly_and_names_it(
    engine: Engine, smtp: tuple[Inbox, int]
) -> None:
    _, port = smtp
    cfg = config(port, {"name": "slack", "url_env": "SLACK_CARE_URL"})
    alert_id = make_alert(engine, add_brand(engine))
    report = send_pending(engine, cfg, {}, now=NOW)
    assert report.sent == [(alert_id, "email")]
    assert "environment variable SLACK_CARE_URL is not set" in report.failed[(alert_id, "slack")]


def test_resolved_and_old_alerts_are_not_sent_to_a_new_channel(
    engine: Engine, hook: Hook, smtp: tuple[Inbox, int]
) -> None:
    _, port = smtp
    hook.up()
    brand = add_brand(engine)
    old = make_alert(engine, brand, created_at=NOW - timedelta(days=9), updated_at=NOW - timedelta(days=9))
    resolved = make_alert(engine, brand, resolved_at=NOW, resolved_by="kim")
    report = send_pending(engine, config(port, {"name": "hook", "url_env": "CARE_WEBHOOK"}), env(hook), now=NOW)
    assert report.sent == [] and rows(engine, old) == {} and rows(engine, resolved) == {}
    assert hook.bodies == []


def test_config_checks_channels() -> None:
    from monitor.config import ConfigError, parse_config

    base = {"brands": [{"name": "Acme", "keywords": ["acme"]}]}
    for channels, expected in (
        ([{"name": "email", "url_env": "X"}], "'email' is the built-in email channel"),
        ([{"name": "a", "url_env": "X"}, {"name": "a", "url_env": "Y"}], "channel name 'a' is used twice"),
        ([{"name": "a", "url_env": "X", "brands": ["Initech"]}], "alerts.channels[0].brands: 'Initech'"),
        ([{"name": "a", "url": "slack://secret"}], "alerts.channels[0].url: unknown key (did you mean 'url_env'?)"),
    ):
        with pytest.raises(ConfigError) as err:
            parse_config({**base, "alerts": {"channels": channels}})
        assert expected in str(err.value), str(err.value)
