"""The dashboard as a user sees it: `streamlit run` on a loopback port, loaded in headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from monitor.store import Mention, MentionBrand, make_engine, utcnow
from tests.conftest import _free_port
from tests.fixtures_dashboard import APP, HOSTILE_TEXT, seed, write_config

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextmanager
def chromium_page(width: int = 1440, height: int = 1000) -> Iterator[tuple[Any, list[str]]]:
    """A page in headless Chromium, and the messages of the dialogs it opened (each dismissed).

    Fails, not skips, when Chromium is missing: the browser tests are what prove the pages work.
    """
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "no chromium: bash tests/system-deps.sh installs it"
    dialogs: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            yield page, dialogs
        finally:
            browser.close()


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not become healthy in {timeout}s")


@contextmanager
def streamlit_served(config: Path, cwd: Path, *, port: int | None = None,
                    env: dict[str, str] | None = None) -> Iterator[str]:
    """The dashboard on ``config`` under `streamlit run` on a loopback port (``port``, else a free one), its log
    in ``cwd``/streamlit.log, until the block ends; yields its base URL once it answers its health check."""
    port = port or _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           "--client.toolbarMode", "minimal", "--", "--config", str(config)]
    log = (cwd / "streamlit.log").open("wb")
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _add_mention(url: str, text: str) -> None:
    engine = make_engine(url)
    with Session(engine) as s:
        now = utcnow()
        m = Mention(platform="x", native_id="fresh", source="x", text=text, created_at=now)
        s.add(m)
        s.flush()
        s.add(MentionBrand(mention_id=int(m.id or 0), brand_id=1, created_at=now))
        s.commit()
    engine.dispose()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The dashboard over a seeded database, served by `streamlit run` refreshing every 2s."""
    data = seed(tmp_path / "monitor.db", utcnow())
    config = write_config(tmp_path, data.url, refresh="2s", cache_ttl="1s")
    with streamlit_served(config, tmp_path) as base:
        yield base, data.url


def test_overview_renders_hostile_text_stays_inert_and_data_goes_live(
    served: tuple[str, str], tmp_path: Path
) -> None:
    base, db_url = served
    with chromium_page() as (page, dialogs):
        page.goto(base, timeout=60_000)
        page.get_by_text("Negative share").first.wait_for(timeout=60_000)
        page.get_by_text("Globex (competitor)").wait_for(timeout=30_000)
        page.wait_for_timeout(1500)  # let the sparklines draw
        shot = tmp_path / "overview.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 20_000

        page.get_by_role("link", name="Mentions").click()
        page.get_by_text("Matching mentions").wait_for(timeout=30_000)
        page.get_by_test_id("stText").get_by_text(HOSTILE_TEXT, exact=True).wait_for(timeout=30_000)
        page.get_by_role("button", name="Save correction").wait_for(timeout=30_000)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(tmp_path / "mentions.png"), full_page=True)
        injected = page.evaluate(
            "() => Array.from(document.querySelectorAll('script'))"
            ".filter(s => s.textContent.includes('alert(1)')).length"
        )
        assert injected == 0
        assert page.locator('a[href="http://x"]').count() == 0
        assert page.locator("strong", has_text="markdown").count() == 0
        assert dialogs == []

        with page.expect_download(timeout=30_000) as download:
            page.get_by_role("button", name="Export CSV").click()
        exported = Path(download.value.path()).read_text(encoding="utf-8")
        assert exported.startswith("id,created_at,platform")
        assert exported.count("https://example.com/") == 361  # the whole filtered set, not a page

        search = page.get_by_label("Search text")
        search.fill("breaking")
        search.press("Enter")
        page.get_by_text("No mentions match these filters").wait_for(timeout=30_000)
        _add_mention(db_url, "breaking: Acme outage reported")
        # the live fragment picks the new mention up by itself, keeping the search
        page.get_by_test_id("stText").get_by_text("breaking: Acme outage reported", exact=True).wait_for(timeout=30_000)
        assert search.input_value() == "breaking"
        assert page.get_by_test_id("stMetricValue").first.inner_text() == "1"
