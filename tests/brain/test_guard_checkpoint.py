"""A turn paused at an approval, saved as JSON and continued: the same turn, byte for byte."""

from __future__ import annotations

import json

import pytest

from brain.errors import LoopProtocolError
from brain.guard.budgets import Budgets
from brain.guard.checkpoint import Continuation, dumps, loads
from brain.guard.errors import CheckpointError
from brain.guard.permissions import PermissionPolicy
from brain.loop import (
    ApprovalOutcome,
    AskApproval,
    CallModel,
    Fail,
    Finish,
    RunTool,
    Step,
    ToolOutcome,
    TurnMachine,
    TurnPlan,
)
from brain.models.base import Message, ModelResult, NativePayload, Role, ToolCall, ToolDef, Usage
from gateway.events import ExitStatus

SAVE = ToolDef(
    "save", "Save a note", {"type": "object", "properties": {"text": {"type": "string"}}}
)
LOOK = ToolDef("look", "Look", {"type": "object"})
NATIVE = NativePayload("minimax", '{"role":"assistant","reasoning_details":[{"text":"hmm"}]}')
SCHEMA = {"type": "object"}


def plan(**overrides: object) -> TurnPlan:
    fields: dict[str, object] = {
        "system_prompt": "sys",
        "history": (Message(Role.USER, "earlier"), Message(Role.ASSISTANT, "ok")),
        "user_text": "save milk, then look",
        "tools": (SAVE, LOOK),
        "needs_approval": frozenset({"save"}),
        "max_tokens": 300,
    }
    fields.update(overrides)
    return TurnPlan(**fields)  # type: ignore[arg-type]


def paused() -> TurnMachine:
    """A turn that looked once, then asked to save (and to look again after)."""
    machine = TurnMachine(plan())
    machine.start()
    machine.send(ModelResult("", (ToolCall("c1", "look", {}),), usage=Usage(10, 2)), seconds=1.5)
    machine.send(ToolOutcome("c1", ok=True, content="a kitchen"), seconds=0.5)
    calls = (ToolCall("c2", "save", {"text": "milk"}), ToolCall("c3", "look", {"at": "fridge"}))
    step = machine.send(ModelResult("Saving.", calls, native=NATIVE, usage=Usage(20, 4)))
    assert step == AskApproval(calls[0], "listed as needing approval")
    return machine


def finish(machine: TurnMachine, step: Step) -> list[Step]:
    """Approve, run everything, and answer: every step on the way."""
    seen = [step]
    while not isinstance(step, Finish):
        if isinstance(step, AskApproval):
            step = machine.send(ApprovalOutcome(approved=True))
        elif isinstance(step, RunTool):
            step = machine.send(ToolOutcome(step.call.id, ok=True, content=f"ran {step.call.id}"))
        else:
            assert isinstance(step, CallModel)
            step = machine.send(ModelResult("Done."))
        seen.append(step)
    return seen


def test_a_restored_turn_continues_exactly_like_the_original() -> None:
    original = paused()
    saved = original.snapshot()
    text = dumps(saved)
    assert loads(text) == saved
    restored = TurnMachine.restore(plan(history=(), user_text="", tools=()), loads(text))
    first = restored.start()
    assert first == AskApproval(saved.pending, "saved before a restart")
    again, before = finish(restored, first)[1:], finish(original, AskApproval(saved.pending))[1:]
    assert again[:-1] == before[:-1]
    done_again, done_before = again[-1], before[-1]
    assert isinstance(done_again, Finish) and isinstance(done_before, Finish)
    assert done_again.new_messages == done_before.new_messages
    # The continuing run streams only its own text; the transcript gets the whole turn.
    assert (done_before.text, done_again.text) == ("Saving.\n\nDone.", "Done.")
    assert restored.spent == original.spent
    assert restored.model_calls == original.model_calls == 3


def test_the_provider_native_message_survives_byte_for_byte() -> None:
    text = dumps(paused().snapshot())
    restored = loads(text)
    natives = [m.native for m in restored.context if m.native is not None]
    assert natives == [NATIVE]
    assert json.loads(text)["continuation"]["context"][-1]["native"]["body"] == NATIVE.body


def test_the_guardrails_come_from_the_process_that_continues() -> None:
    saved = paused().snapshot()
    strict = plan(budgets=Budgets(max_tokens=30), permissions=PermissionPolicy())
    restored = TurnMachine.restore(strict, saved)
    restored.start()
    step = restored.send(ApprovalOutcome(approved=True))
    assert step == Fail(ExitStatus.TOKEN_BUDGET, "used 36 tokens of a budget of 30")


def test_the_plan_shape_is_saved() -> None:
    machine = TurnMachine(plan(output_schema=SCHEMA, max_steps=5))
    machine.start()
    machine.send(ModelResult("", (ToolCall("c9", "save", {}),)))
    shape = loads(dumps(machine.snapshot())).shape
    assert (shape.system_prompt, shape.user_text) == ("sys", "save milk, then look")
    assert (shape.tools, shape.max_steps, shape.max_tokens) == ((SAVE, LOOK), 5, 300)
    assert shape.output_schema == SCHEMA


def test_only_a_turn_waiting_for_approval_can_be_saved() -> None:
    machine = TurnMachine(plan())
    machine.start()
    with pytest.raises(LoopProtocolError, match="snapshot"):
        machine.snapshot()


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda d: "not json", "not JSON"),
        (lambda d: json.dumps({**d, "version": 99}), "unknown format version"),
        (
            lambda d: json.dumps({**d, "continuation": {**d["continuation"], "model_calls": "3"}}),
            r"continuation\.model_calls: expected int",
        ),
        (
            lambda d: json.dumps(
                {**d, "continuation": {**d["continuation"], "context": [{"$type": "Message"}]}}
            ),
            r"continuation\.context\[0\]\.role: missing",
        ),
        (
            lambda d: json.dumps({**d, "continuation": {**d["continuation"], "queue": []}}),
            "needs the call that awaits approval",
        ),
    ],
)
def test_a_damaged_save_fails_loudly_naming_the_field(mangle: object, message: str) -> None:
    document = json.loads(dumps(paused().snapshot()))
    with pytest.raises(CheckpointError, match=message):
        loads(mangle(document))  # type: ignore[operator]


def test_continuation_type_is_exported_where_the_machine_needs_it() -> None:
    assert isinstance(paused().snapshot(), Continuation)
