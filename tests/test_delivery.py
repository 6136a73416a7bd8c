"""Alert delivery against a real SMTP server (aiosmtpd on loopback) and a real outbox folder."""

from __future__ import annotations

import email
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy.engine import Engine
from sqlmodel import select

from monitor.alerts.channels import build_channels
from monitor.alerts.outbox import backoff, claim, ensure_deliveries, send_pending
from monitor.config import Config
from monitor.store import Alert, AlertDelivery, session_scope
from tests.fixtures_alerts import T0, add_brand, make_config, make_db

NOW = T0 + timedelta(days=21, hours=14, minutes=5)


class Inbox:
    """aiosmtpd handler that keeps every message it accepts; ``delay`` slows DATA down."""

    def __init__(self, delay: float = 0.0) -> None:
        self.messages: list[EmailMessage] = []
        self.delay = delay

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            time.sleep(self.delay)
        msg = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return make_db(tmp_path)


@pytest.fixture
def port() -> int:
    return free_port()


def smtp_config(port: int, tmp_path: Path, **smtp: Any) -> Config:
    return make_config(alerts={
        "recipients": ["care@acme.test", "lead@acme.test"], "sender": "monitor@acme.test",
        "dashboard_url": "https://monitor.acme.test/", "max_attempts": 5,
        "outbox_dir": str(tmp_path / "outbox"),
        "smtp": {"host": "127.0.0.1", "port": port, "security": "none", "username_env": None,
                 "password_env": None, "timeout": 5, **smtp},
    })


@pytest.fixture
def smtp_server(port: int) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox
    controller.stop()


def make_alert(engine: Engine, brand_id: int, **fields: Any) -> int:
    mentions = [{"id": i, "text": f"acme charger <b>melted</b> & burned #{i}", "url": f"https://x.test/s/{i}",
                 "author": f"user{i}", "reach": 5000 - i} for i in range(6)]
    mentions[1]["url"] = "javascript:alert(1)"
    details = {"volume": {"observed": 25, "expected": 2.59}, "total_observed": 25, "total_expected": 2.59,
               "share": {"observed": 0.88, "expected": 0.33, "total": 28},
               "rising_terms": [{"term": "melted", "count": 25, "share": 1.0, "baseline_share": 0.0},
                                {"term": "<script>", "count": 3, "share": 0.12, "baseline_share": 0.0}],
               "top_mentions": mentions}
    values: dict[str, Any] = {"kind": "negative_volume", "window_start": NOW - timedelta(hours=1, minutes=5),
                              "window_end": NOW - timedelta(minutes=5), "observed": 25.0, "expected": 2.59,
                              "p_value": 1.9e-5, "severity": 3, "details": details, "created_at": NOW,
                              "updated_at": NOW}
    values.update(fields)
    with session_scope(engine) as s:
        alert = Alert(brand_id=brand_id, **values)
        s.add(alert)
        s.flush()
        assert alert.id is not None
        return alert.id


def get(engine: Engine, alert_id: int, channel: str = "email") -> AlertDelivery:
    """The alert's delivery row for ``channel``."""
    with session_scope(engine) as s:
        row = s.exec(select(AlertDelivery).where(AlertDelivery.alert_id == alert_id,
                                                 AlertDelivery.channel == channel)).one()
        return row


def bodies(msg: EmailMessage) -> tuple[str, str]:
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_alert_email_arrives_with_both_parts_numbers_and_links(
    engine: Engine, smtp_server: Inbox, port: int, tmp_path: Path
) -> None:
    alert_id = make_alert(engine, add_brand(engine))
    report = send_pending(engine, smtp_config(port, tmp_path), {}, now=NOW)
    assert report.sent == [(alert_id, "email")] and report.failed == {}
    [msg] = smtp_server.messages
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["Subject"] == "[Acme] Negative storm, high: 25 negative mentions in an hour, usually about 3"
    assert msg["Message-ID"].startswith(f"<alert-{alert_id}.") and msg["Message-ID"].endswith("@acme.test>")
    assert msg["To"] == "care@acme.test, lead@acme.test"
    text, html = bodies(msg)
    for body in (text, html):
        assert "25 negative mentions in an hour, usually about 3" in body and "High: 10× the usual" in body
        assert "melted" in body and "user0" in body and "(reach 5k)" in body
        assert f"https://monitor.acme.test/alerts?alert={alert_id}" in body
        assert "https://monitor.acme.test/escalations?brand=Acme" in body and "What to do" in body
        assert "user4" in body and "user5" not in body  # the top five only
    assert "https://x.test/s/0" in text
    assert '<a href="https://x.test/s/0"' in html
    assert f'<a href="https://monitor.acme.test/alerts?alert={alert_id}"' in html
    row = get(engine, alert_id)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, NOW)


def test_mention_html_is_escaped_and_only_web_links_are_clickable(
    engine: Engine, smtp_server: Inbox, port: int, tmp_path: Path
) -> None:
    make_alert(engine, add_brand(engine))
    send_pending(engine, smtp_config(port, tmp_path), {}, now=NOW)
    _, html = bodies(smtp_server.messages[0])
    assert "charger &lt;b&gt;melted&lt;/b&gt; &amp; burned" in html and "charger <b>" not in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "javascript:" not in html


def test_smtp_down_then_back_delivers_exactly_once(engine: Engine, port: int, tmp_path: Path) -> None:
    cfg = smtp_config(port, tmp_path)
    alert_id = make_alert(engine, add_brand(engine))
    report = send_pending(engine, cfg, {}, now=NOW)  # nothing listens on the port yet
    assert report.sent == [] and "ConnectionRefusedError" in report.failed[(alert_id, "email")]
    row = get(engine, alert_id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "Connection refused" in (row.last_error or "") and row.next_attempt_at == NOW + timedelta(minutes=1)
    assert send_pending(engine, cfg, {}, now=NOW + timedelta(seconds=30)).failed == {}  # not due yet
    send_pending(engine, cfg, {}, now=NOW + timedelta(minutes=1))
    row = get(engine, alert_id)
    assert (row.attempts, row.next_attempt_at) == (2, NOW + timedelta(minutes=3))

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        later = NOW + timedelta(minutes=3)
        assert send_pending(engine, cfg, {}, now=later).sent == [(alert_id, "email")]
        assert send_pending(engine, cfg, {}, now=later + timedelta(hours=2)).sent == []
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    row = get(engine, alert_id)
    assert (row.status, row.attempts) == ("sent", 3)
    assert "Connection refused" in (row.last_error or "")  # the history stays visible


def test_two_concurrent_senders_never_both_send(engine: Engine, port: int, tmp_path: Path) -> None:
    inbox = Inbox(delay=0.05)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    brand = add_brand(engine)
    ids = {make_alert(engine, brand) for _ in range(6)}
    cfg = smtp_config(port, tmp_path)
    reports: dict[str, Any] = {}
    barrier = threading.Barrier(2)

    def sender(name: str) -> None:
        barrier.wait()
        reports[name] = send_pending(engine, cfg, {}, now=NOW, sender_id=name)

    threads = [threading.Thread(target=sender, args=(n,)) for n in ("a", "b")]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        controller.stop()
    sent_a, sent_b = {a for a, _ in reports["a"].sent}, {a for a, _ in reports["b"].sent}
    assert sent_a | sent_b == ids and not sent_a & sent_b
    assert sorted(m["Message-ID"] for m in inbox.messages) == sorted({m["Message-ID"] for m in inbox.messages})
    assert len(inbox.messages) == len(ids)


def test_claim_is_atomic_and_a_stale_claim_can_be_taken_over(engine: Engine, tmp_path: Path) -> None:
    alert_id = make_alert(engine, add_brand(engine))
    cfg = make_config(alerts={"outbox_dir": str(tmp_path / "outbox")})
    assert ensure_deliveries(engine, build_channels(cfg, {}, now=NOW), NOW) == 1
    assert ensure_deliveries(engine, build_channels(cfg, {}, now=NOW), NOW) == 0  # one row per channel, ever
    delivery = get(engine, alert_id).id
    assert delivery is not None
    assert claim(engine, delivery, "dead-sender", NOW, 5)
    assert not claim(engine, delivery, "other", NOW, 5)
    assert send_pending(engine, cfg, {}, now=NOW + timedelta(minutes=5)).sent == []
    report = send_pending(engine, cfg, {}, now=NOW + timedelta(minutes=16), sender_id="rescuer")
    assert report.sent == [(alert_id, "email")]
    row = get(engine, alert_id)
    assert (row.claimed_by, row.attempts) == ("rescuer", 2)


def test_without_smtp_the_email_is_written_to_the_outbox_folder(engine: Engine, tmp_path: Path) -> None:
    alert_id = make_alert(engine, add_brand(engine))
    outbox = tmp_path / "outbox"
    report = send_pending(engine, make_config(alerts={"outbox_dir": str(outbox)}), {}, now=NOW)
    assert report.outbox_dir == outbox and report.files == [outbox / f"alert-{alert_id}.eml"]
    msg = email.message_from_bytes(report.files[0].read_bytes(), policy=default_policy)
    assert isinstance(msg, EmailMessage)
    assert "25 negative mentions in an hour, usually about 3" in bodies(msg)[0]
    assert list(outbox.iterdir()) == report.files
    assert get(engine, alert_id).status == "sent"


def test_login_uses_secrets_from_the_environment_and_never_records_them(
    engine: Engine, port: int, tmp_path: Path
) -> None:
    seen: list[tuple[str, str]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        seen.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=data.password == b"s3cret-pw", handled=False)

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    cfg = smtp_config(port, tmp_path, username_env="SMTP_USERNAME", password_env="SMTP_PASSWORD")
    pw_file = tmp_path / "pw"
    pw_file.write_text("wrong-pw\n")
    try:
        brand = add_brand(engine)
        first = make_alert(engine, brand)
        bad = send_pending(engine, cfg, {"SMTP_USERNAME": "bot", "SMTP_PASSWORD_FILE": str(pw_file)}, now=NOW)
        assert "SMTPAuthenticationError" in bad.failed[(first, "email")] and "wrong-pw" not in bad.failed[(first, "email")]
        pw_file.write_text("s3cret-pw\n")
        later = NOW + timedelta(minutes=1)
        good = send_pending(engine, cfg, {"SMTP_USERNAME": "bot", "SMTP_PASSWORD_FILE": str(pw_file)}, now=later)
        assert good.sent == [(first, "email")]
    finally:
        controller.stop()
    assert seen[-1] == ("bot", "s3cret-pw") and {pw for _, pw in seen} == {"wrong-pw", "s3cret-pw"}
    assert len(inbox.messages) == 1
    assert "pw" not in (get(engine, first).last_error or "").replace("SMTP", "")


def test_gives_up_after_max_attempts_and_backoff_doubles_to_an_hour(engine: Engine, port: int,
                                                                     tmp_path: Path) -> None:
    assert [backoff(n).total_seconds() / 60 for n in (1, 2, 3, 6, 7, 12)] == [1, 2, 4, 32, 60, 60]
    cfg = smtp_config(port, tmp_path)
    alert_id = make_alert(engine, add_brand(engine))
    now = NOW
    for _ in range(7):
        send_pending(engine, cfg, {}, now=now)
        now += timedelta(hours=2)
    row = get(engine, alert_id)
    assert (row.status, row.attempts) == ("failed", 5)
    assert (row.last_error or "").startswith("gave up after 5 attempts")


def test_no_recipients_with_smtp_is_a_visible_failure(engine: Engine, port: int, tmp_path: Path) -> None:
    cfg = make_config(alerts={"smtp": {"host": "127.0.0.1", "port": port, "security": "none"}})
    alert_id = make_alert(engine, add_brand(engine))
    report = send_pending(engine, cfg, {}, now=NOW)
    assert "alerts.recipients is empty" in report.failed[(alert_id, "email")]


def test_share_alert_reads_as_a_share(engine: Engine, tmp_path: Path) -> None:
    alert_id = make_alert(engine, add_brand(engine), kind="negative_share", observed=0.8, expected=0.33,
                          severity=2, is_open=False, closed_at=NOW)
    report = send_pending(engine, make_config(alerts={"outbox_dir": str(tmp_path / "o")}), {}, now=NOW)
    msg = email.message_from_bytes(report.files[0].read_bytes(), policy=default_policy)
    assert isinstance(msg, EmailMessage)
    assert msg["Subject"] == ("[Acme] Negative storm, medium: 80% of mentions negative (25 of 28), usually 33%")
    assert "lasted 1 hours" not in bodies(msg)[0] and "lasted 60 minutes" in bodies(msg)[0]
    assert str(report) == f"1 sent (emails written to {tmp_path / 'o'}), 0 failed"
    assert report.sent == [(alert_id, "email")]


@pytest.fixture
def server_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1 that the client trusts (via SSL_CERT_FILE)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_starttls_and_ssl_verify_the_server_and_deliver(
    engine: Engine, port: int, tmp_path: Path, server_tls: ssl.SSLContext, security: str
) -> None:
    inbox = Inbox()
    tls = {"tls_context": server_tls, "require_starttls": True} if security == "starttls" else {
        "ssl_context": server_tls}
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **tls)
    controller.start()
    try:
        alert_id = make_alert(engine, add_brand(engine))
        report = send_pending(engine, smtp_config(port, tmp_path, security=security), {}, now=NOW)
    finally:
        controller.stop()
    assert report.sent == [(alert_id, "email")] and len(inbox.messages) == 1


def test_an_untrusted_certificate_is_a_visible_failure(
    engine: Engine, port: int, tmp_path: Path, server_tls: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "none.pem"))
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=server_tls)
    controller.start()
    try:
        alert_id = make_alert(engine, add_brand(engine))
        report = send_pending(engine, smtp_config(port, tmp_path, security="starttls"), {}, now=NOW)
    finally:
        controller.stop()
    assert "SSLCertVerificationError" in report.failed[(alert_id, "email")] and inbox.messages == []
