"""Reply events survive the trip through stored protocol events."""

from __future__ import annotations

import pytest

from gateway.events import (
    ApprovalRequested,
    FileReply,
    FinalReply,
    ReplyEvent,
    RunStatus,
    TextDelta,
    ToolActivity,
    ToolPhase,
    TurnFailed,
    Typing,
)
from gateway.protocol import validate_event
from gateway.replies import event_to_reply, reply_to_event


@pytest.mark.parametrize(
    "reply",
    [
        TextDelta("run_1", "hel"),
        ToolActivity("run_1", "calculator__evaluate", ToolPhase.START, "calculator · evaluate"),
        ToolActivity("run_1", "calculator__evaluate", ToolPhase.END),
        Typing("run_1"),
        ApprovalRequested("run_1", "apr_1", "notes__delete_note", "notes · delete_note (id: 3)"),
        FileReply("run_1", "q3Vb8xL0sTn2WcYd9KfA1uPe", "report.csv", "text/csv", 2048, "Here"),
        FileReply("run_1", "q3Vb8xL0sTn2WcYd9KfA1uPe", "a.bin", "application/octet-stream", 1),
        FinalReply("run_1", "done", RunStatus.STOPPED),
        TurnFailed("run_1", "timeout", "too slow", retryable=True),
    ],
)
def test_every_reply_becomes_a_valid_event_and_back(reply: ReplyEvent) -> None:
    name, payload = reply_to_event("web:owner:main", reply)
    assert validate_event(name, payload) is None
    assert event_to_reply(name, payload) == reply


def test_user_messages_are_not_replies() -> None:
    payload = {"session": "s", "run_id": "r", "text": "hi", "sender": {"id": "u"}}
    assert event_to_reply("chat.message", payload) is None
