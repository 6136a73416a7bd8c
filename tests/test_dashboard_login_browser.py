"""Signing in in a real browser: a link from an alert email lands on the login form, then on the alert;
a reload keeps the sign-in (streamlit-authenticator's signed cookie)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from dashboard.auth import COOKIE
from monitor.store import utcnow
from tests.fixtures_dashboard import seed, write_config
from tests.test_dashboard_browser import chromium_page, streamlit_served
from tests.test_dashboard_login import hashed

pytestmark = pytest.mark.slow


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """The seeded dashboard with login on (user dana, agent); (base URL, the storm alert's id)."""
    data = seed(tmp_path / "monitor.db", utcnow())
    users = tmp_path / "users.yaml"
    users.write_text(yaml.safe_dump({"users": {"dana": {"name": "Dana Scully", "role": "agent",
                                                        "password_hash": hashed("s3cret-dana")}}}))
    config = write_config(tmp_path, data.url, auth={"enabled": True, "users_file": str(users)})
    with streamlit_served(config, tmp_path, env={"MONITOR_DASHBOARD_COOKIE_KEY": "test-cookie-key-" * 3}) as base:
        yield base, data.alert_ids[0]


def test_an_email_link_asks_for_a_login_then_opens_the_alert(served: tuple[str, int], tmp_path: Path) -> None:
    base, alert_id = served
    with chromium_page(1280, 900) as (page, _):
        page.goto(f"{base}/alerts?alert={alert_id}", timeout=60_000)
        page.get_by_role("textbox", name="Username").wait_for(timeout=60_000)
        assert page.get_by_text("Acme: negative storm").count() == 0  # nothing before signing in
        page.get_by_role("textbox", name="Username").fill("dana")
        page.get_by_role("textbox", name="Password").fill("wrong password")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("Wrong username or password.").wait_for(timeout=30_000)
        page.get_by_role("textbox", name="Password").fill("s3cret-dana")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Acme: negative storm").wait_for(timeout=60_000)
        page.get_by_text("Signed in as").wait_for(timeout=30_000)
        page.screenshot(path=str(tmp_path / "signed-in-alert.png"), full_page=True)
        assert f"alert={alert_id}" in page.url
        # the cookie component writes the signed cookie from the browser a moment after the sign-in:
        # reload only once it is there, or the reload races it
        for _ in range(120):
            if any(c["name"] == COOKIE for c in page.context.cookies()):
                break
            page.wait_for_timeout(500)
        assert any(c["name"] == COOKIE for c in page.context.cookies()), "the sign-in cookie was never stored"
        page.reload()
        page.get_by_role("heading", name="Acme: negative storm").wait_for(timeout=60_000)
