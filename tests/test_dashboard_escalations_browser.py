"""The escalation inbox as a person uses it: `streamlit run` on loopback, driven in headless Chromium."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlmodel import Session, select

from monitor.store import Escalation, EscalationEvent, Mention, make_engine
from tests import test_dashboard_browser as browser_test
from tests.fixtures_dashboard import HOSTILE_TEXT

served = browser_test.served  # the fixture: the seeded dashboard under `streamlit run`, for pytest to find
chromium_page = browser_test.chromium_page

pytestmark = pytest.mark.slow


def first_two(url: str) -> list[tuple[int, str]]:
    """The two escalations the inbox shows first (priority, then the oldest post), with their status."""
    with Session(make_engine(url)) as s:
        rows = s.exec(select(Escalation, Mention.created_at).join(Mention, Mention.id == Escalation.mention_id)
                      .where(Escalation.status.in_(["open", "acknowledged"]))).all()
        ordered = sorted(rows, key=lambda r: (-r[0].priority, r[1]))
        return [(int(e.id or 0), e.status) for e, _ in ordered[:2]]


def test_inbox_bulk_acknowledge_note_and_trail_in_the_browser(served: tuple[str, str], tmp_path: Path) -> None:
    base, db_url = served
    picked = first_two(db_url)
    with chromium_page(height=1200) as (page, dialogs):
        page.goto(base, timeout=60_000)
        page.get_by_role("link", name="Escalations").click()
        page.get_by_text("Queue (8)").wait_for(timeout=60_000)
        page.get_by_text("urgent · ", exact=False).first.wait_for(timeout=30_000)
        # the customer's words, shown literally: no script runs, no link or emphasis is made of them
        page.get_by_test_id("stText").get_by_text(HOSTILE_TEXT, exact=True).first.wait_for(timeout=30_000)
        assert page.locator('a[href="http://x"]').count() == 0 and dialogs == []
        name = page.get_by_label("Your name")
        name.fill("sam")
        name.press("Enter")
        page.wait_for_timeout(1500)
        boxes = page.get_by_test_id("stCheckbox").filter(has_text="Select")
        boxes.nth(0).click()
        page.wait_for_timeout(800)
        boxes.nth(1).click()
        page.get_by_text("2 selected").wait_for(timeout=30_000)
        if keep := os.environ.get("SCREENSHOT_DIR"):
            page.screenshot(path=str(Path(keep) / "escalations-top.png"))
        page.get_by_role("button", name="Acknowledge selected").click()
        page.get_by_text("2 escalation(s) done.").wait_for(timeout=30_000)
        page.get_by_label("Note").fill("called the customer back")
        page.get_by_role("button", name="Add note").click()
        try:
            page.get_by_text("called the customer back").last.wait_for(timeout=30_000)
        except PlaywrightTimeout:  # say what the page showed instead (a refusal, an error)
            pytest.fail("the note never showed; the page read:\n" + page.inner_text("body")[:3000])
        page.wait_for_timeout(1000)
        shot = tmp_path / "escalations.png"
        page.screenshot(path=str(shot), full_page=True)
        if keep:
            page.screenshot(path=str(Path(keep) / "escalations.png"), full_page=True)
        assert shot.stat().st_size > 20_000
    with Session(make_engine(db_url)) as s:
        assert [s.get(Escalation, i).status for i, _ in picked] == ["acknowledged", "acknowledged"]
        trail = [(e.escalation_id, e.actor, e.action) for e in s.exec(select(EscalationEvent)).all()]
    assert sorted(t for t in trail if t[2] == "acknowledged") == sorted(
        (i, "sam", "acknowledged") for i, status in picked if status == "open")
    assert any(actor == "sam" and action == "note" for _, actor, action in trail)
