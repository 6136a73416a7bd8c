"""The demo as a care team sees it: `monitor demo --no-dashboard`, then `streamlit run`, in headless Chromium.

Screenshots every page (into $MONITOR_SCREENSHOTS when set, to look at them), checks that the storm
brand's banner comes first on the home page, and that the link in the alert email opens that alert.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from tests.conftest import _free_port
from tests.test_dashboard_browser import chromium_page, streamlit_served

pytestmark = pytest.mark.slow
PAGES = [("alerts", "Alerts"), ("escalations", "Escalations"), ("trends", "Trends"), ("mentions", "Mentions"),
         ("share-of-voice", "Share of voice"), ("health", "Health")]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The demo workspace, served by `streamlit run` on a loopback port; (base URL, workspace)."""
    ws = tmp_path_factory.mktemp("demo") / "ws"
    port = _free_port()
    made = CliRunner().invoke(cli, ["demo", "--workspace", str(ws), "--days", "10", "--port", str(port),
                                    "--no-dashboard"])
    assert made.exit_code == 0, made.output
    with streamlit_served(ws / "config.yaml", ws, port=port) as base:
        yield base, ws


def _shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("MONITOR_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_every_page_of_the_demo_the_storm_first_and_the_email_link_lands(
    demo: tuple[str, Path], tmp_path: Path
) -> None:
    base, ws = demo
    shots = _shots(tmp_path)
    [eml] = sorted((ws / "outbox").glob("*.eml"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"Open the alert:\s+(https?://\S+)", text)
    assert link and link.group(1).startswith(f"{base}/alerts?alert=")
    errors: list[str] = []
    with chromium_page() as (page, _):
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base, timeout=60_000)
        page.get_by_text("Brands, most in trouble first").wait_for(timeout=60_000)
        first_banner = page.get_by_test_id("stAlert").first
        first_banner.wait_for(timeout=30_000)
        assert "Nimbus · Critical" in first_banner.inner_text(), first_banner.inner_text()
        page.wait_for_timeout(1500)  # sparklines
        page.screenshot(path=str(shots / "home.png"), full_page=True)
        for path, title in PAGES:
            page.goto(f"{base}/{path}", timeout=60_000)
            page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)
            page.wait_for_timeout(2000)
            page.screenshot(path=str(shots / f"{path}.png"), full_page=True)
            assert page.get_by_test_id("stException").count() == 0, path
        page.goto(link.group(1), timeout=60_000)
        page.get_by_role("heading", name="Nimbus: negative storm").wait_for(timeout=60_000)
        page.get_by_text("Where it was sent").wait_for(timeout=30_000)
        page.wait_for_timeout(2000)
        page.screenshot(path=str(shots / "alert-from-email.png"), full_page=True)
        assert page.get_by_test_id("stException").count() == 0
        assert "alert=" in page.url  # the link stays shareable
    assert errors == []
