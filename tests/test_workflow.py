"""Escalation states and sentiment corrections: the moves people make, who made them, and the ones refused."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from monitor.errors import WorkflowError
from monitor.escalations import workflow
from monitor.escalations.workflow import ConflictError, add_note, assign, bulk, transition
from monitor.scoring import correct_sentiment
from monitor.store import Brand, Correction, Escalation, EscalationEvent, Mention, Sentiment, session_scope

T = datetime(2026, 11, 20, 9, 0)


def _escalation(s: Session, brand: Brand, n: int) -> int:
    mention = Mention(platform="x", native_id=str(n), source="x", text=f"Acme refund now #{n}", created_at=T)
    s.add(mention)
    s.flush()
    s.add(Sentiment(mention_id=mention.id, label="negative", p_negative=0.9, p_neutral=0.08, p_positive=0.02,
                    model_version="m1"))
    esc = Escalation(mention_id=mention.id, brand_id=brand.id, conversation_key=f"x:{n}", priority=60,
                     reasons=["money: refund"], created_at=T)
    s.add(esc)
    s.flush()
    return int(esc.id or 0)


@pytest.fixture
def ids(app: Any) -> tuple[int, int]:
    with session_scope(app.engine) as s:
        brand = Brand(name="Acme")
        s.add(brand)
        s.flush()
        esc_id = _escalation(s, brand, 1)
        return esc_id, int(s.get(Escalation, esc_id).mention_id)


def row(app: Any, esc_id: int) -> Escalation:
    with Session(app.engine) as s:
        esc = s.get(Escalation, esc_id)
        assert esc is not None
        return esc


def events(app: Any, esc_id: int) -> list[tuple[str, str, str | None]]:
    with Session(app.engine) as s:
        rows = s.exec(select(EscalationEvent).where(EscalationEvent.escalation_id == esc_id)
                      .order_by(EscalationEvent.id)).all()
        return [(e.actor, e.action, e.detail) for e in rows]


def test_open_acknowledged_resolved_with_timestamps_assignee_and_audit(app: Any, ids: tuple[int, int]) -> None:
    esc_id, _ = ids
    ack = transition(app.engine, esc_id, "acknowledged", by="sam", now=T + timedelta(minutes=12))
    assert (ack.status, ack.assignee, ack.acknowledged_at) == ("acknowledged", "sam", T + timedelta(minutes=12))
    done = transition(app.engine, esc_id, "resolved", by="kim", assignee="kim", now=T + timedelta(hours=2))
    assert (done.status, done.assignee, done.resolved_at) == ("resolved", "kim", T + timedelta(hours=2))
    assert row(app, esc_id).resolved_at - row(app, esc_id).created_at == timedelta(hours=2)
    reopened = transition(app.engine, esc_id, "open", by="sam")
    assert reopened.status == "open" and reopened.resolved_at is None
    assert events(app, esc_id) == [("sam", "acknowledged", None), ("kim", "resolved", "assigned to kim"),
                                   ("sam", "reopened", None)]
    assert row(app, esc_id).version == 4 and row(app, esc_id).updated_by == "sam"


def test_dismiss_straight_from_open_stamps_acknowledged_too(app: Any, ids: tuple[int, int]) -> None:
    esc = transition(app.engine, ids[0], "dismissed", by="sam", now=T + timedelta(minutes=5))
    assert esc.acknowledged_at == esc.resolved_at == T + timedelta(minutes=5)


@pytest.mark.parametrize("name", ["", "   ", None])
def test_nobody_acts_anonymously(app: Any, ids: tuple[int, int], name: Any) -> None:
    before = row(app, ids[0]).model_dump()
    for action in (lambda: transition(app.engine, ids[0], "acknowledged", by=name),
                   lambda: assign(app.engine, ids[0], "kim", by=name),
                   lambda: add_note(app.engine, ids[0], "called back", by=name),
                   lambda: bulk(app.engine, {ids[0]: None}, "dismissed", by=name)):
        with pytest.raises(WorkflowError, match="say who is acting: enter your name"):
            action()
    assert row(app, ids[0]).model_dump() == before and events(app, ids[0]) == []


def test_an_action_on_what_someone_else_just_changed_is_refused_with_who_and_when(
    app: Any, ids: tuple[int, int]
) -> None:
    esc_id, _ = ids
    seen = row(app, esc_id).version  # both people opened the inbox and saw version 1
    transition(app.engine, esc_id, "acknowledged", by="kim", version=seen, now=T + timedelta(minutes=3))
    with pytest.raises(ConflictError, match=r"escalation \d+ was changed by kim at 2026-11-20 09:03 UTC "
                                            r"\(it is now acknowledged\) after you opened it; nothing was saved"):
        transition(app.engine, esc_id, "dismissed", by="sam", version=seen)
    with pytest.raises(ConflictError):
        add_note(app.engine, esc_id, "dismissing: spam", by="sam", version=seen)
    esc = row(app, esc_id)
    assert (esc.status, esc.assignee, esc.note) == ("acknowledged", "kim", None)
    assert [e[:2] for e in events(app, esc_id)] == [("kim", "acknowledged")]
    assert transition(app.engine, esc_id, "dismissed", by="sam", version=esc.version).status == "dismissed"


def test_the_write_itself_is_conditional_on_the_version_read(app: Any, ids: tuple[int, int]) -> None:
    esc_id, _ = ids
    with Session(app.engine, expire_on_commit=False) as stale:
        loaded = stale.get(Escalation, esc_id)  # read before kim's change commits
        assign(app.engine, esc_id, "kim", by="kim")
        event = EscalationEvent(escalation_id=esc_id, actor="sam", action="dismissed")
        with pytest.raises(ConflictError, match="changed by kim"):
            workflow._write(stale, loaded, {"status": "dismissed"}, event)
        stale.rollback()
    assert row(app, esc_id).status == "open"


def test_people_clicking_at_the_same_instant_one_wins_the_rest_are_told(app: Any, ids: tuple[int, int]) -> None:
    esc_id, _ = ids
    outcomes: list[str] = []
    start = threading.Barrier(6)

    def click(i: int) -> None:
        start.wait()
        try:
            transition(app.engine, esc_id, "dismissed" if i % 2 else "acknowledged", by=f"agent{i}", version=1)
            outcomes.append("done")
        except ConflictError:
            outcomes.append("refused")

    threads = [threading.Thread(target=click, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["done"] + ["refused"] * 5
    assert len(events(app, esc_id)) == 1 and row(app, esc_id).version == 2


def test_notes_are_kept_in_the_trail_and_the_latest_on_the_row(app: Any, ids: tuple[int, int]) -> None:
    add_note(app.engine, ids[0], "  called the customer, refund on its way ", by="sam")
    add_note(app.engine, ids[0], "customer confirmed", by="kim")
    assert row(app, ids[0]).note == "customer confirmed"
    assert events(app, ids[0]) == [("sam", "note", "called the customer, refund on its way"),
                                   ("kim", "note", "customer confirmed")]
    with pytest.raises(WorkflowError, match="the note is empty"):
        add_note(app.engine, ids[0], "   ", by="sam")


def test_bulk_acts_on_each_and_one_refusal_blocks_nothing(app: Any, ids: tuple[int, int]) -> None:
    with session_scope(app.engine) as s:
        brand = s.exec(select(Brand)).one()
        more = [_escalation(s, brand, n) for n in (2, 3, 4)]
    transition(app.engine, more[0], "resolved", by="kim")  # resolved: cannot be acknowledged
    seen = {ids[0]: 1, more[0]: None, more[1]: 1, more[2]: 1}
    transition(app.engine, more[2], "acknowledged", by="kim")  # changed after sam loaded it
    result = bulk(app.engine, seen, "acknowledged", by="sam")
    assert result.done == [ids[0], more[1]]
    # the version each now has: the one the acting person knows, so their next action is not stale
    assert result.versions == {i: row(app, i).version for i in result.done}
    note = add_note(app.engine, ids[0], "called back", by="sam", version=result.versions[ids[0]])
    assert note.version == result.versions[ids[0]] + 1 and set(result.versions) == set(result.done)
    assert "is resolved; it cannot become acknowledged" in result.refused[more[0]]
    assert "was changed by kim" in result.refused[more[2]]
    assigned = bulk(app.engine, {ids[0]: None, more[1]: None}, "assign", by="lead", assignee="dana")
    assert assigned.done == [ids[0], more[1]] and row(app, more[1]).assignee == "dana"
    assert events(app, more[1])[-1] == ("lead", "assigned", "dana")


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (["resolved", "acknowledged"], "is resolved; it cannot become acknowledged"),
        (["dismissed", "resolved"], "is dismissed; it cannot become resolved"),
        (["closed"], "unknown status 'closed'; use one of open, acknowledged, resolved, dismissed"),
    ],
)
def test_refused_moves_say_why_and_change_nothing(app: Any, ids: tuple[int, int], steps: list[str],
                                                   message: str) -> None:
    for step in steps[:-1]:
        transition(app.engine, ids[0], step, by="sam")
    before = row(app, ids[0]).model_dump()
    trail = events(app, ids[0])
    with pytest.raises(WorkflowError, match=message):
        transition(app.engine, ids[0], steps[-1], by="sam")
    assert row(app, ids[0]).model_dump() == before and events(app, ids[0]) == trail


def test_unknown_escalation_is_a_clear_error(app: Any) -> None:
    with pytest.raises(WorkflowError, match="escalation 999 does not exist"):
        transition(app.engine, 999, "acknowledged", by="sam")
    with pytest.raises(WorkflowError, match="escalation 999 does not exist"):
        assign(app.engine, 999, "sam", by="sam")


def test_correction_sits_beside_the_model_score(app: Any, ids: tuple[int, int]) -> None:
    _, mention_id = ids
    correct_sentiment(app.engine, mention_id, "neutral", by="kim")
    correct_sentiment(app.engine, mention_id, "positive", by="sam")  # a second correction replaces the first
    with Session(app.engine) as s:
        assert s.get(Correction, mention_id).label == "positive"
        assert s.get(Correction, mention_id).corrected_by == "sam"
        assert s.get(Sentiment, mention_id).label == "negative"  # the model's own score is untouched
    with pytest.raises(WorkflowError, match="unknown label 'great'; use negative, neutral or positive"):
        correct_sentiment(app.engine, mention_id, "great")
    with pytest.raises(WorkflowError, match="mention 12345 does not exist"):
        correct_sentiment(app.engine, 12345, "neutral")
    with Session(app.engine) as s:
        assert s.get(Correction, mention_id).label == "positive"
