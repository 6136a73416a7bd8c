"""Escalation states and sentiment corrections: the moves people make, and the ones refused."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from monitor.errors import WorkflowError
from monitor.escalations.workflow import assign, transition
from monitor.scoring import correct_sentiment
from monitor.store import Brand, Correction, Escalation, Mention, Sentiment, session_scope

T = datetime(2026, 11, 20, 9, 0)


@pytest.fixture
def ids(app: Any) -> tuple[int, int]:
    with session_scope(app.engine) as s:
        brand = Brand(name="Acme")
        mention = Mention(platform="x", native_id="1", source="x", text="Acme refund now", created_at=T)
        s.add_all([brand, mention])
        s.flush()
        s.add(Sentiment(mention_id=mention.id, label="negative", p_negative=0.9, p_neutral=0.08, p_positive=0.02,
                        model_version="m1"))
        esc = Escalation(mention_id=mention.id, brand_id=brand.id, conversation_key="x:1", reasons=["risk term: refund"],
                         created_at=T)
        s.add(esc)
        s.flush()
        return esc.id, mention.id


def test_open_acknowledged_resolved_with_timestamps_and_assignee(app: Any, ids: tuple[int, int]) -> None:
    esc_id, _ = ids
    ack = transition(app.engine, esc_id, "acknowledged", by="sam", now=T + timedelta(minutes=12))
    assert (ack.status, ack.assignee, ack.acknowledged_at) == ("acknowledged", "sam", T + timedelta(minutes=12))
    done = transition(app.engine, esc_id, "resolved", assignee="kim", now=T + timedelta(hours=2))
    assert (done.status, done.assignee, done.resolved_at) == ("resolved", "kim", T + timedelta(hours=2))
    with Session(app.engine) as s:
        row = s.get(Escalation, esc_id)
        assert row.resolved_at - row.created_at == timedelta(hours=2)  # time to resolve is reportable
    reopened = transition(app.engine, esc_id, "open")
    assert reopened.status == "open" and reopened.resolved_at is None


def test_dismiss_straight_from_open_stamps_acknowledged_too(app: Any, ids: tuple[int, int]) -> None:
    row = transition(app.engine, ids[0], "dismissed", now=T + timedelta(minutes=5))
    assert row.acknowledged_at == row.resolved_at == T + timedelta(minutes=5)


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
        transition(app.engine, ids[0], step)
    with Session(app.engine) as s:
        before = s.get(Escalation, ids[0]).model_dump()
    with pytest.raises(WorkflowError, match=message):
        transition(app.engine, ids[0], steps[-1])
    with Session(app.engine) as s:
        assert s.get(Escalation, ids[0]).model_dump() == before


def test_unknown_escalation_is_a_clear_error(app: Any) -> None:
    with pytest.raises(WorkflowError, match="escalation 999 does not exist"):
        transition(app.engine, 999, "acknowledged")
    with pytest.raises(WorkflowError, match="escalation 999 does not exist"):
        assign(app.engine, 999, "sam")


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
