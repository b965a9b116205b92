"""Every run ends with exactly one exit status from the fixed set: a property over random runs."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import event as note
from hypothesis import strategies as st

from brain.approvals import ApprovalGate, RunRef
from brain.driver import TurnDriver
from brain.errors import FailureCode, ModelResponseError
from brain.guard.approval_store import ApprovalStore
from brain.guard.budgets import Budgets
from brain.guard.exits import exit_for
from brain.guard.permissions import Mode, PermissionPolicy
from brain.loop import (
    ApprovalOutcome,
    AskApproval,
    CallModel,
    Fail,
    Finish,
    RunTool,
    ToolOutcome,
    TurnMachine,
    TurnPlan,
)
from brain.models.base import (
    Capabilities,
    ModelChunk,
    ModelRequest,
    ModelResult,
    TextChunk,
    ToolCall,
    ToolDef,
    Usage,
)
from gateway.events import (
    ApprovalDecision,
    ApprovalRequested,
    ExitStatus,
    FinalReply,
    ReplyEvent,
    TextDelta,
    TurnFailed,
    exit_status_of,
)
from gateway.protocol.schema import load_schema

TOOLS = (ToolDef("look", "Look", {"type": "object"}), ToolDef("save", "Save", {"type": "object"}))
SCHEMA = {"type": "object", "required": ["ok"]}
FINISH_STATUSES = {ExitStatus.COMPLETED, ExitStatus.DENIED}


@dataclass(frozen=True)
class Boom:
    """The provider fails on this call."""


calls = st.lists(
    st.tuples(st.sampled_from(["look", "save", "ghost"]), st.sampled_from([{}, {"x": 1}])),
    min_size=1,
    max_size=3,
)
replies = st.one_of(
    st.sampled_from(["fine", "", "  ", '{"ok": true}', '{"no": 1}']),
    calls,
)
# A model repeating one call: what the loop detector is for.
loops = st.builds(lambda c, n: [c] * n, calls, st.integers(4, 10))
plans = st.builds(
    dict,
    max_steps=st.integers(1, 6),
    needs_approval=st.frozensets(st.sampled_from(["look", "save"])),
    budgets=st.builds(Budgets, st.integers(20, 3_000), st.floats(0.5, 30)),
    output_schema=st.sampled_from([None, SCHEMA]),
    max_requeries=st.integers(0, 3),
    permissions=st.one_of(
        st.none(),
        st.builds(
            PermissionPolicy.from_config,
            st.sampled_from([m.value for m in Mode]),
            deny=st.sampled_from([(), ("save",)]),
        ),
    ),
    command=st.sampled_from([None, ToolCall("cmd_0", "look", {})]),
)


def model_result(reply: object, index: int) -> ModelResult:
    if isinstance(reply, str):
        return ModelResult(reply, usage=Usage(len(reply), 5) if index % 2 else None)
    assert isinstance(reply, list)
    chosen = tuple(ToolCall(f"c{index}_{i}", n, a) for i, (n, a) in enumerate(reply))
    return ModelResult("", chosen)


@settings(max_examples=400, deadline=None)
@given(
    plan=plans,
    script=st.one_of(st.lists(replies, max_size=12), loops),
    outcomes=st.lists(st.tuples(st.booleans(), st.sampled_from(["a", "b"])), max_size=12),
    decisions=st.lists(st.booleans(), max_size=8),
    seconds=st.lists(st.floats(0, 5), max_size=30),
)
def test_every_machine_run_ends_with_one_status(
    plan: dict[str, object],
    script: list[object],
    outcomes: list[tuple[bool, str]],
    decisions: list[bool],
    seconds: list[float],
) -> None:
    machine = TurnMachine(
        TurnPlan(
            system_prompt="s",
            history=(),
            user_text="u",
            tools=TOOLS,
            risk_of=lambda c: "read",
            **plan,  # type: ignore[arg-type]
        )
    )
    step = machine.start()
    for index in range(200):
        if isinstance(step, Finish | Fail):
            break
        took = seconds[index] if index < len(seconds) else 0.1
        if isinstance(step, CallModel):
            reply = script[index] if index < len(script) else "fine"
            step = machine.send(model_result(reply, index), seconds=took)
        elif isinstance(step, AskApproval):
            approved = decisions[index % len(decisions)] if decisions else True
            step = machine.send(ApprovalOutcome(approved))
        else:
            assert isinstance(step, RunTool)
            ok, content = outcomes[index % len(outcomes)] if outcomes else (True, "a")
            step = machine.send(ToolOutcome(step.call.id, ok, content), seconds=took)
    assert isinstance(step, Finish | Fail), "the run did not end within 200 steps"
    note(str(step.exit_status if isinstance(step, Finish) else step.status))
    if isinstance(step, Finish):
        assert step.exit_status in FINISH_STATUSES
    else:
        assert step.status in set(ExitStatus) - FINISH_STATUSES - {ExitStatus.STOPPED}


# -- through the driver, with failures the machine never sees ----------------


class RandomModel:
    """Replies from a script; ``Boom`` raises a model error."""

    name = "random"

    def __init__(self, script: list[object]) -> None:
        self.script = list(script)
        self.index = 0

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(chooses_tools=True, streams=True, context_window=10_000)

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ModelChunk, None]:
        self.index += 1
        reply = self.script.pop(0) if self.script else "fine"
        if isinstance(reply, Boom):
            raise ModelResponseError("the model broke", provider=self.name, retryable=True)
        result = model_result(reply, self.index)
        if result.text:
            yield TextChunk(result.text)
        yield result

    async def aclose(self) -> None:
        return None


async def drive(
    root: Path, plan: dict[str, object], script: list[object], broken_tool: bool, deny: bool
) -> list[ReplyEvent]:
    gate = ApprovalGate(ApprovalStore.open(root / "state.db"))

    async def execute(call: ToolCall) -> ToolOutcome:
        if broken_tool and call.name == "save":
            raise RuntimeError("a bug in a tool")
        return ToolOutcome(call.id, ok=True, content=json.dumps({"saw": call.name}))

    driver = TurnDriver(
        run_id="run-1",
        conversation_id="conv",
        provider=RandomModel(script),
        execute=execute,
        approvals=gate.for_run(RunRef("run-1", "s", "conv", "u")),
        on_finish=lambda finish: None,
    )
    machine = TurnMachine(
        TurnPlan(system_prompt="s", history=(), user_text="u", tools=TOOLS, **plan)
    )  # type: ignore[arg-type]
    events: list[ReplyEvent] = []
    decision = ApprovalDecision.DENY if deny else ApprovalDecision.APPROVE
    try:
        async with aclosing(driver.run(machine)) as stream:
            async for event in stream:
                events.append(event)
                if isinstance(event, ApprovalRequested):
                    assert gate.resolve(event.request_id, decision, decided_by="t")
        assert gate.store.open_requests() == []  # an ended run leaves nothing to continue
    finally:
        gate.close()
    return events


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    plan=plans,
    script=st.lists(st.one_of(replies, st.just(Boom())), max_size=8),
    broken_tool=st.booleans(),
    deny=st.booleans(),
)
def test_every_driven_run_ends_with_exactly_one_final_event(
    plan: dict[str, object], script: list[object], broken_tool: bool, deny: bool
) -> None:
    with tempfile.TemporaryDirectory() as root:
        events = asyncio.run(drive(Path(root), plan, script, broken_tool, deny))
    ends = [e for e in events if isinstance(e, FinalReply | TurnFailed)]
    assert len(ends) == 1 and events[-1] is ends[0]
    last = ends[0]
    note(str(exit_status_of(last)))
    assert exit_status_of(last) in set(ExitStatus)
    if isinstance(last, FinalReply):
        assert last.text == "".join(e.text for e in events if isinstance(e, TextDelta))
        assert exit_status_of(last) in FINISH_STATUSES


def test_every_failure_code_has_an_exit_status() -> None:
    assert {exit_for(code) for code in FailureCode} <= set(ExitStatus)
    assert exit_for(FailureCode.MODEL_UNAVAILABLE) is ExitStatus.MODEL_ERROR


def test_derived_statuses_for_producers_that_set_none() -> None:
    assert exit_status_of(FinalReply("r", "x")) is ExitStatus.COMPLETED
    assert exit_status_of(TurnFailed("r", "timeout", "slow")) is ExitStatus.TIME_BUDGET
    assert exit_status_of(TurnFailed("r", "unavailable", "down")) is ExitStatus.INTERRUPTED
    assert exit_status_of(TurnFailed("r", "stuck", "loop")) is ExitStatus.STUCK
    assert exit_status_of(TurnFailed("r", "no_such_code", "?")) is ExitStatus.INTERNAL
    denied = FinalReply("r", "x", exit_status=ExitStatus.DENIED)
    assert exit_status_of(denied) is ExitStatus.DENIED


def test_the_protocol_schemas_list_exactly_the_exit_statuses() -> None:
    for event in ("chat.final", "chat.error"):
        schema = load_schema(f"events/{event}.json")
        assert set(schema["properties"]["exit_status"]["enum"]) == {s.value for s in ExitStatus}
