"""The escalation inbox through Streamlit's AppTest: the queue's order and cards, its filters, named and
audited actions one at a time or in bulk, notes, refused overwrites, and response times."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from dashboard import ui
from monitor.cli import cli
from monitor.escalations.workflow import transition
from monitor.store import Escalation, EscalationEvent, Mention, make_engine, utcnow
from tests import fixtures_dashboard as fx
from tests.fixtures_dashboard import Seed, open_app

dash_seed, dash_rw_seed = fx.dash_seed, fx.dash_rw_seed  # the fixtures, for pytest to find


def db_rows(seed: Seed) -> dict[int, tuple[Escalation, Mention]]:
    with Session(make_engine(seed.url)) as s:
        rows = s.exec(select(Escalation, Mention).join(Mention, Mention.id == Escalation.mention_id)).all()
        return {int(e.id or 0): (e, m) for e, m in rows}


def trail(seed: Seed, escalation_id: int) -> list[tuple[str, str, str | None]]:
    with Session(make_engine(seed.url)) as s:
        rows = s.exec(select(EscalationEvent).where(EscalationEvent.escalation_id == escalation_id)
                      .order_by(EscalationEvent.id)).all()
        return [(e.actor, e.action, e.detail) for e in rows]


def card_texts(at: Any) -> list[str]:
    """The customer's words on each card, in queue order (the detail panel repeats the open one last)."""
    return [t.value for t in at.text][:-1]


def chips(at: Any) -> list[str]:
    return [m.value for m in at.markdown if "-badge[" in m.value][:-1]


def inbox(seed: Seed, monkeypatch: pytest.MonkeyPatch, name: str = "") -> Any:
    at = open_app(seed.config, monkeypatch, "escalations")
    if name:
        at.text_input(key="user_name").set_value(name).run()
    return at


def test_the_queue_sorts_by_priority_then_age_with_the_words_first(dash_seed: Seed,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    at = inbox(dash_seed, monkeypatch)
    rows = db_rows(dash_seed)
    waiting = sorted((r for r in rows.values() if r[0].status in ("open", "acknowledged")),
                     key=lambda r: (-r[0].priority, r[1].created_at))
    assert card_texts(at) == [m.text for _, m in waiting]
    assert "Queue (8)" in [h.value for h in at.subheader]
    top, mention = waiting[0]
    assert chips(at)[0] == f":red-badge[urgent · {top.priority}]"  # the tier as a coloured chip
    facts = next(c.value for c in at.caption if "followers" in c.value)
    assert facts.startswith(f"Acme · {mention.platform} · {mention.author} · ") and "posted " in facts
    assert facts.endswith(f"· {top.status}")  # unassigned: no "to nan"
    detail = [c.value for c in at.caption if "followers" in c.value][-1]  # the open one, in the detail panel
    assert detail == facts  # the same facts as its card (reach included)
    assert "why: negative 80% · money: refund" in [c.value for c in at.caption]


def test_age_is_since_the_customer_posted_not_since_flagged(dash_rw_seed: Seed,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    eid = dash_rw_seed.escalation_ids["open"][0]
    with Session(make_engine(dash_rw_seed.url)) as s:
        esc = s.get(Escalation, eid)
        assert esc is not None
        esc.created_at = utcnow() - timedelta(minutes=1)  # flagged a minute ago (say, after a backfill)
        s.add(esc)
        s.commit()
        posted = s.get(Mention, esc.mention_id).created_at
    at = inbox(dash_rw_seed, monkeypatch)
    at.selectbox(key="e_selected").set_value(eid).run()
    facts = [c.value for c in at.caption if "followers" in c.value][-1]  # the detail panel shows this one
    expected = ui.fmt_duration((utcnow() - posted).total_seconds())
    assert f"posted {expected} ago".replace(".", "\\.") in facts and expected != "1m"


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("e_tiers", [4], lambda e, m: e.severity == 4 and e.status in ("open", "acknowledged")),
    ("e_status", ["dismissed"], lambda e, m: e.status == "dismissed"),
    ("e_status", ["resolved", "dismissed"], lambda e, m: e.status in ("resolved", "dismissed")),
])
def test_filters_by_tier_and_status(dash_seed: Seed, monkeypatch: pytest.MonkeyPatch, key: str, value: Any,
                                    expected: Any) -> None:
    at = inbox(dash_seed, monkeypatch)
    at.pills(key=key).set_value(value).run()
    want = {m.text for e, m in db_rows(dash_seed).values() if expected(e, m)}
    assert set(card_texts(at)) == want and want


def test_filters_by_brand_platform_and_assignee(dash_rw_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = db_rows(dash_rw_seed)
    waiting = [i for i, (e, _) in rows.items() if e.status in ("open", "acknowledged")]
    transition(make_engine(dash_rw_seed.url), waiting[0], "acknowledged", by="kim", assignee="kim")
    at = inbox(dash_rw_seed, monkeypatch)
    at.selectbox(key="e_assignee").set_value("kim").run()
    assert card_texts(at) == [rows[waiting[0]][1].text]
    at.selectbox(key="e_assignee").set_value("").run()  # unassigned
    assert rows[waiting[0]][1].text not in card_texts(at) and len(card_texts(at)) == len(waiting) - 1
    at.selectbox(key="e_assignee").set_value("Anyone")
    at.multiselect(key="platforms").set_value(["reddit"]).run()
    assert set(card_texts(at)) == {m.text for i, (e, m) in rows.items() if i in waiting and m.platform == "reddit"}
    at.multiselect(key="platforms").set_value([])
    at.multiselect(key="e_brands").set_value([dash_rw_seed.brand_ids["Globex"]]).run()
    assert card_texts(at) == [] and "Nothing in the queue for these filters." in [i.value for i in at.info]


def test_acting_is_named_audited_and_noted(dash_rw_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    at = inbox(dash_rw_seed, monkeypatch, name="sam")
    eid = dash_rw_seed.escalation_ids["open"][1]
    at.button(key=f"e_open_{eid}").click().run()
    assert at.selectbox(key="e_selected").value == eid
    at.button(key="e_acknowledged").click().run()
    assert not at.exception and not at.error
    esc = db_rows(dash_rw_seed)[eid][0]
    assert (esc.status, esc.assignee, esc.updated_by) == ("acknowledged", "sam", "sam")
    at.text_area(key=f"e_note_{eid}").set_value("called back, refund issued").run()
    at.button(key="e_add_note").click().run()
    at.text_input(key=f"e_assignee_{eid}").set_value("kim").run()
    at.button(key="e_assign").click().run()
    assert trail(dash_rw_seed, eid) == [("sam", "acknowledged", None), ("sam", "note", "called back, refund issued"),
                                        ("sam", "assigned", "kim")]
    shown = next(d.value for d in at.dataframe if "who" in d.value.columns)
    assert list(shown["who"]) == ["sam"] * 3 and shown["what"].iloc[0] == "acknowledged (open → acknowledged)"
    assert "Escalation #" in at.success[0].value


def test_nobody_acts_without_a_name(dash_rw_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    at = inbox(dash_rw_seed, monkeypatch)
    assert any("Enter your name" in w.value for w in at.warning)
    selected = at.selectbox(key="e_selected").value
    before = db_rows(dash_rw_seed)[selected][0].model_dump()
    at.button(key="e_dismissed").click().run()
    assert any("say who is acting: enter your name" in e.value for e in at.error)
    assert db_rows(dash_rw_seed)[selected][0].model_dump() == before and trail(dash_rw_seed, selected) == []


def test_a_change_someone_else_just_made_is_not_overwritten(dash_rw_seed: Seed,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    at = inbox(dash_rw_seed, monkeypatch, name="sam")
    eid = at.selectbox(key="e_selected").value
    transition(make_engine(dash_rw_seed.url), eid, "resolved", by="kim")  # while sam reads the card
    at.button(key="e_dismissed").click().run()
    [error] = at.error
    assert f"escalation {eid} was changed by kim" in error.value and "nothing was saved" in error.value
    assert db_rows(dash_rw_seed)[eid][0].status == "resolved"
    at.pills(key="e_status").set_value(["resolved"]).run()  # sam looks again, then reopens it
    at.selectbox(key="e_selected").set_value(eid).run()
    at.button(key="e_open").click().run()
    assert db_rows(dash_rw_seed)[eid][0].status == "open"
    assert [a for _, a, _ in trail(dash_rw_seed, eid)] == ["resolved", "reopened"]


def test_bulk_acknowledge_assign_and_dismiss(dash_rw_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    at = inbox(dash_rw_seed, monkeypatch, name="lead")
    a, b, c = dash_rw_seed.escalation_ids["open"][:3]
    for eid in (a, b, c):
        at.checkbox(key=f"e_pick_{eid}").check()
    at.run()
    transition(make_engine(dash_rw_seed.url), c, "dismissed", by="kim")  # meanwhile
    at.button(key="e_bulk_acknowledged").click().run()
    rows = db_rows(dash_rw_seed)
    assert [rows[i][0].status for i in (a, b, c)] == ["acknowledged", "acknowledged", "dismissed"]
    [warning] = [w.value for w in at.warning if "refused" in w.value]
    assert "2 escalation\\(s\\) done" in warning and f"\\#{c} refused: escalation {c} was changed by kim" in warning
    for eid in (a, b):
        at.checkbox(key=f"e_pick_{eid}").check()
    at.text_input(key="e_bulk_assignee").set_value("dana")
    at.run()
    at.button(key="e_bulk_assign").click().run()
    assert {db_rows(dash_rw_seed)[i][0].assignee for i in (a, b)} == {"dana"}
    at.checkbox(key=f"e_pick_{a}").check()
    at.run()
    at.button(key="e_bulk_dismissed").click().run()
    assert db_rows(dash_rw_seed)[a][0].status == "dismissed"
    assert [x[:2] for x in trail(dash_rw_seed, a)] == [("lead", "acknowledged"), ("lead", "assigned"),
                                                       ("lead", "dismissed")]


def test_response_times_count_dismissed_once(dash_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    at = inbox(dash_seed, monkeypatch)
    metrics = {m.label: m.value for m in at.metric}
    # seeded: acknowledged after 10*(k+1) minutes for k = 5..11, so the median is 90 minutes
    assert metrics["Acknowledge, median"] == "1.5h" and metrics["Created"] == "12"
    assert metrics["Dismissed"] == "1"
    # resolved after k hours for k = 8, 9, 10; the dismissed one (k = 11) is not a resolution
    assert metrics["Resolve, median"] == "9.0h"


def test_long_posts_are_shown_in_full_with_their_title(dash_rw_seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    eid = dash_rw_seed.escalation_ids["open"][0]
    body = "My order arrived broken. " * 30 + "THE END"
    with Session(make_engine(dash_rw_seed.url)) as s:
        esc = s.get(Escalation, eid)
        mention = s.get(Mention, esc.mention_id if esc else 0)
        assert mention is not None
        mention.title, mention.text = "Acme ruined my week", body
        s.add(mention)
        s.commit()
    at = inbox(dash_rw_seed, monkeypatch)
    assert f"Acme ruined my week\n{body}" in card_texts(at)


def test_the_cli_and_the_dashboard_report_the_same_response_times(dash_seed: Seed,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(cli, ["-c", str(dash_seed.config), "status", "--json"])
    assert result.exit_code == 0, result.output
    cli_figures = json.loads(result.output)["escalations_7d"]
    at = inbox(dash_seed, monkeypatch)  # the dashboard's default window is the last 7 days too
    shown = {m.label: m.value for m in at.metric}
    assert shown["Created"] == str(cli_figures["flagged"]) == "12"
    assert shown["Dismissed"] == str(cli_figures["by_status"]["dismissed"])
    for label, key in (("Acknowledge, median", "time_to_acknowledge_median_s"),
                       ("Acknowledge, p90", "time_to_acknowledge_p90_s"),
                       ("Resolve, median", "time_to_resolve_median_s"), ("Resolve, p90", "time_to_resolve_p90_s")):
        assert shown[label] == ui.fmt_duration(cli_figures[key])
    text = " ".join(CliRunner().invoke(cli, ["-c", str(dash_seed.config), "status"]).output.split())
    assert "escalations flagged in 7 days: 12 (1 dismissed) acknowledge median/p90: 90 min/114 min" in text
