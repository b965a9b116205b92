"""The session queue rules, with no I/O."""

from __future__ import annotations

import pytest

from gateway.errors import QueueFull
from gateway.events import Conversation, ConversationKind, InboundMessage, Sender
from gateway.sessions import (
    TURN_TRANSITIONS,
    ControlKind,
    IllegalTransition,
    OfferKind,
    QueueMode,
    SessionQueue,
    TurnState,
    advance,
    parse_control,
)


def message(text: str, ident: str | None = None) -> InboundMessage:
    return InboundMessage(
        id=ident or text,
        channel="web",
        account="owner",
        conversation=Conversation("main", ConversationKind.DM),
        sender=Sender("owner"),
        text=text,
        sent_at=0.0,
    )


def test_idle_session_starts_at_once() -> None:
    queue = SessionQueue(max_waiting=5)
    offer = queue.offer("r1", message("a"), QueueMode.FOLLOWUP)
    assert offer.kind is OfferKind.START
    assert queue.running is not None and queue.running.run_id == "r1"


def test_followup_runs_each_message_in_arrival_order() -> None:
    queue = SessionQueue(max_waiting=5)
    queue.offer("r1", message("a"), QueueMode.FOLLOWUP)
    assert queue.offer("r2", message("b"), QueueMode.FOLLOWUP).kind is OfferKind.QUEUED
    assert queue.offer("r3", message("c"), QueueMode.FOLLOWUP).kind is OfferKind.QUEUED
    order = []
    while (run := queue.start_next()) is not None:
        order.append((run.run_id, [m.text for m in run.messages]))
    assert order == [("r2", ["b"]), ("r3", ["c"])]
    assert queue.idle


def test_collect_merges_messages_that_arrive_during_a_turn() -> None:
    queue = SessionQueue(max_waiting=5)
    queue.offer("r1", message("a"), QueueMode.COLLECT)
    first = queue.offer("r2", message("b"), QueueMode.COLLECT)
    second = queue.offer("r3", message("c"), QueueMode.COLLECT)
    assert first.kind is OfferKind.QUEUED
    assert second.kind is OfferKind.COLLECTED and second.run_id == "r2"
    run = queue.start_next()
    assert run is not None and [m.text for m in run.messages] == ["b", "c"]
    assert queue.start_next() is None


def test_interrupt_stops_the_running_turn_and_drops_waiting_ones() -> None:
    queue = SessionQueue(max_waiting=5)
    queue.offer("r1", message("a"), QueueMode.FOLLOWUP)
    queue.offer("r2", message("b"), QueueMode.FOLLOWUP)
    offer = queue.offer("r3", message("c"), QueueMode.INTERRUPT)
    assert offer.kind is OfferKind.INTERRUPT
    assert offer.stop_run_id == "r1"
    assert offer.dropped == ("r2",)
    run = queue.start_next()
    assert run is not None and run.run_id == "r3"


def test_a_full_queue_refuses_more() -> None:
    queue = SessionQueue(max_waiting=2)
    queue.offer("r1", message("a"), QueueMode.FOLLOWUP)
    queue.offer("r2", message("b"), QueueMode.FOLLOWUP)
    queue.offer("r3", message("c"), QueueMode.FOLLOWUP)
    with pytest.raises(QueueFull):
        queue.offer("r4", message("d"), QueueMode.FOLLOWUP)
    # collecting into the waiting turn still works: it adds no turn
    assert queue.offer("r5", message("e"), QueueMode.COLLECT).kind is OfferKind.COLLECTED


def test_drop_waiting_forgets_queued_turns_but_not_the_running_one() -> None:
    queue = SessionQueue(max_waiting=5)
    queue.offer("r1", message("a"), QueueMode.FOLLOWUP)
    queue.offer("r2", message("b"), QueueMode.FOLLOWUP)
    assert queue.drop_waiting() == ("r2",)
    assert queue.running is not None and queue.running.run_id == "r1"


@pytest.mark.parametrize(
    ("text", "kind", "argument"),
    [
        ("/stop", ControlKind.STOP, ""),
        ("  /new  ", ControlKind.NEW, ""),
        ("/approve apr_1", ControlKind.APPROVE, "apr_1"),
        ("/deny", ControlKind.DENY, ""),
        ("/STOP@skillyard_bot", ControlKind.STOP, ""),
    ],
)
def test_control_commands_are_recognised(text: str, kind: ControlKind, argument: str) -> None:
    control = parse_control(text)
    assert control is not None
    assert (control.kind, control.argument) == (kind, argument)


@pytest.mark.parametrize("text", ["stop", "/calculator 1+1", "/", "please /stop", "/stopped"])
def test_other_text_is_not_a_control_command(text: str) -> None:
    assert parse_control(text) is None


def test_turn_lifecycle_allows_only_the_table() -> None:
    assert advance(TurnState.QUEUED, TurnState.RUNNING) is TurnState.RUNNING
    assert advance(TurnState.RUNNING, TurnState.AWAITING_APPROVAL) is TurnState.AWAITING_APPROVAL
    with pytest.raises(IllegalTransition):
        advance(TurnState.DONE, TurnState.RUNNING)
    with pytest.raises(IllegalTransition):
        advance(TurnState.QUEUED, TurnState.DONE)
    with pytest.raises(IllegalTransition):
        advance(TurnState.QUEUED, TurnState.AWAITING_APPROVAL)
    for ended in (TurnState.DONE, TurnState.FAILED, TurnState.STOPPED):
        assert TURN_TRANSITIONS[ended] == frozenset()
