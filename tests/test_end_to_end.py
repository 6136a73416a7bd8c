"""The whole mission, once: X and Reddit bring a negative surge for one brand, the real model scores it,
an escalation is flagged, the spike is detected, a real SMTP server receives the email, and the
dashboard shows the alert and the escalation.

Only HTTP is faked (``responses``, payloads shaped like the platforms' documented responses);
tweepy, praw, the SQLite file, the model, smtplib and the Streamlit app are the real ones.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler
from sqlalchemy import select, update
from sqlmodel import Session

from collectors.base import Mention
from monitor import jobs
from monitor.context import App
from monitor.ingest import ingest_mentions
from monitor.store import Alert, Escalation
from monitor.store import Mention as MentionRow
from monitor.store.migrate import upgrade
from tests.conftest import write_config

pytestmark = pytest.mark.slow

X_SEARCH = "https://api.twitter.com/2/tweets/search/recent"
REDDIT_TOKEN = "https://www.reddit.com/api/v1/access_token"
REDDIT_SEARCH = "https://oauth.reddit.com/r/all/search/"
ENV = {"X_BEARER_TOKEN": "AAAA-e2e", "REDDIT_CLIENT_ID": "e2e-client", "REDDIT_CLIENT_SECRET": "e2e-secret",
       "REDDIT_USER_AGENT": "brand-monitor-e2e/1.0 by u/monitor"}
ANGRY = [
    "Acme Cloud is down again, nothing loads and support is silent",
    "worst outage ever, Acme you owe us a refund",
    "Acme lost my files?? this is unacceptable",
    "cancelling Acme today, three outages in a week is ridiculous",
    "Acme status page says green but nothing works. furious",
    "day ruined by the Acme outage, my whole team is blocked",
    "Acme why is everything broken AGAIN 😡",
    "is Acme ever coming back up? terrible service",
]


class Inbox(MessageHandler):
    def __init__(self) -> None:
        super().__init__(email.message.EmailMessage)
        self.messages: list[email.message.Message] = []

    def handle_message(self, message: email.message.Message) -> None:
        self.messages.append(message)


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def _tweets(now: datetime, start: int, n: int) -> dict[str, Any]:
    data, users = [], []
    for k in range(n):
        i = start + k
        tid = str(1_860_000_000_000_000_000 + i)
        text = ANGRY[i % len(ANGRY)] + f" #{i}"
        if i == 0:
            text = "@acme your outage cost my company a day of work, I want a full refund or we call our lawyer"
        data.append({"id": tid, "text": text, "author_id": str(900 + i), "created_at": (now - timedelta(minutes=2 + i))
                     .strftime("%Y-%m-%dT%H:%M:%S.000Z"), "lang": "en", "conversation_id": tid,
                     "edit_history_tweet_ids": [tid],
                     "public_metrics": {"retweet_count": i % 3, "reply_count": 1, "like_count": 2 + i,
                                        "quote_count": 0, "bookmark_count": 0, "impression_count": 300}})
        users.append({"id": str(900 + i), "name": f"User {i}", "username": f"user{i}", "verified": False,
                      "public_metrics": {"followers_count": 120_000 if i == 0 else 150 + i, "following_count": 10,
                                         "tweet_count": 100, "listed_count": 0, "like_count": 5}})
    meta = {"newest_id": data[0]["id"], "oldest_id": data[-1]["id"], "result_count": n}
    return {"data": data, "includes": {"users": users}, "meta": meta}


def _reddit(now: datetime, n: int) -> dict[str, Any]:
    children = []
    for i in range(n):
        created = (now - timedelta(minutes=5 + 3 * i)).timestamp()
        children.append({"kind": "t3", "data": {
            "id": f"e2e{i}", "name": f"t3_e2e{i}", "title": f"Acme outage thread {i}",
            "selftext": ANGRY[(i + 3) % len(ANGRY)], "author": f"redditor{i}", "subreddit": "sysadmin",
            "subreddit_name_prefixed": "r/sysadmin", "permalink": f"/r/sysadmin/comments/e2e{i}/acme_outage/",
            "url": f"https://www.reddit.com/r/sysadmin/comments/e2e{i}/", "created_utc": created, "created": created,
            "score": 40 + i, "ups": 40 + i, "num_comments": 12, "over_18": False, "is_self": True}})
    return {"kind": "Listing", "data": {"after": None, "before": None, "dist": n, "modhash": "", "children": children}}


def _quiet_history(now: datetime) -> list[Mention]:
    calm = ["Acme Cloud works fine for me", "trying Acme for the first time", "Acme has a webinar on Thursday",
            "how do I export data from Acme?", "Acme update looks nice", "Globex or Acme for a small team?"]
    out = []
    for h in range(2, 24 * 6):
        for k in range(2):
            i = h * 2 + k
            out.append(Mention(platform="x", native_id=f"h{i}", text=calm[i % len(calm)], language="en",
                               created_at=now - timedelta(hours=h, minutes=7 * k), author=f"calm{i}"))
    return out


@responses.activate
def test_surge_to_email_to_dashboard(tmp_path: Path, smtp: tuple[int, Inbox], monkeypatch: pytest.MonkeyPatch) -> None:
    port, inbox = smtp
    responses.add_passthru("http://127.0.0.1")
    config = write_config(
        tmp_path,
        sources={"file": {"enabled": False}, "x": {"enabled": True, "interval": "1m"},
                 "reddit": {"enabled": True, "interval": "1m", "comments": False}},
        alerts={"recipients": ["team@example.com"], "outbox_dir": str(tmp_path / "outbox"),
                "smtp": {"host": "127.0.0.1", "port": port, "security": "none",
                         "username_env": None, "password_env": None}},
        dashboard={"auth": {"enabled": False}},  # login has its own tests (test_dashboard_login)
    )
    app = App.from_file(config, env=ENV)
    upgrade(app.config.database.url)
    # The surge lands in the last complete hour bucket, whatever minute the test runs at.
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    # A quiet week that X delivered as it happened (collected as written): a covered, warmed-up source.
    ingest_mentions(app.engine, "x", _quiet_history(now), app.config.brands)
    with app.engine.begin() as conn:
        conn.execute(update(MentionRow).values(collected_at=MentionRow.created_at))
    assert jobs.score(app) == len(_quiet_history(now))
    jobs.detect(app)  # the quiet week: a baseline, no alert
    with Session(app.engine) as s:
        assert s.execute(select(Alert)).first() is None

    page1, page2 = _tweets(now, 0, 14), _tweets(now, 14, 10)
    page1["meta"]["next_token"] = "b26v89c19zqg8o3fpds2w2o4k1c0j5"
    responses.get(X_SEARCH, json=page1)
    responses.get(X_SEARCH, json=page2)
    responses.post(REDDIT_TOKEN, json={"access_token": "e2e-token", "token_type": "bearer", "expires_in": 86400,
                                       "scope": "*"})
    responses.get(REDDIT_SEARCH, json=_reddit(now, 6))
    assert jobs.collect(app, "x").result.stored == 24
    assert jobs.collect(app, "reddit").result.stored == 6
    assert jobs.score(app) == 30
    with Session(app.engine) as s:
        labels = {m.native_id: m for m in s.execute(select(MentionRow)).scalars()}
    assert len(labels) == 30 + len(_quiet_history(now))

    jobs.detect(app)
    with Session(app.engine) as s:
        escalations = list(s.execute(select(Escalation)).scalars())
        alerts = list(s.execute(select(Alert)).scalars())
    assert any(any("refund" in r or "reach" in r for r in e.reasons) for e in escalations), escalations
    assert len(alerts) == 1 and alerts[0].observed > alerts[0].expected

    jobs.send_alerts(app)
    assert len(inbox.messages) == 1
    msg = email.message_from_bytes(inbox.messages[0].as_bytes(), policy=email.policy.default)
    assert "Acme" in msg["Subject"] and msg["To"] == "team@example.com"
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Acme" in plain and "https://x.com/" in html

    from tests.fixtures_dashboard import open_app

    at = open_app(config, monkeypatch, "alerts")
    shown = json.dumps([str(e.value) for e in at.markdown] + [e.value.to_json() for e in at.dataframe])
    assert "Acme" in shown
    at = open_app(config, monkeypatch, "escalations")
    queue = " ".join(t.value for t in at.text)  # the inbox shows each customer's words in full
    assert "I want a full refund or we call our lawyer" in queue
    assert f"Queue ({len(escalations)})" in [h.value for h in at.subheader]
    app.engine.dispose()
