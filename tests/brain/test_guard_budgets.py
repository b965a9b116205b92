"""Hard budgets: steps, tokens and working time, each ending the run with its own status."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path

import pytest

from brain.approvals import ApprovalGate, RunRef
from brain.driver import TurnDriver
from brain.errors import ConfigError
from brain.guard.approval_store import ApprovalStore
from brain.guard.budgets import Budgets, Spent, message_chars, tokens_used
from brain.loop import CallModel, Fail, Finish, RunTool, ToolOutcome, TurnMachine, TurnPlan
from brain.models.base import (
    Capabilities,
    Message,
    ModelChunk,
    ModelRequest,
    ModelResult,
    Role,
    ToolCall,
    ToolDef,
    Usage,
)
from gateway.events import (
    ApprovalDecision,
    ApprovalRequested,
    ExitStatus,
    ReplyEvent,
    ToolActivity,
    TurnFailed,
)

LOOK = ToolDef("look", "Look around", {"type": "object"})


def plan(**overrides: object) -> TurnPlan:
    fields: dict[str, object] = {
        "system_prompt": "s",
        "history": (),
        "user_text": "go",
        "tools": (LOOK,),
    }
    fields.update(overrides)
    return TurnPlan(**fields)  # type: ignore[arg-type]


def tool_round(machine: TurnMachine, index: int, *, usage: Usage | None = None) -> object:
    step = machine.send(
        ModelResult("", (ToolCall(f"c{index}", "look", {"i": index}),), usage=usage)
    )
    if not isinstance(step, RunTool):
        return step
    return machine.send(ToolOutcome(f"c{index}", ok=True, content=f"saw {index}"))


def test_tokens_reported_by_the_provider_end_the_run() -> None:
    machine = TurnMachine(plan(budgets=Budgets(max_tokens=1_000)))
    machine.start()
    assert isinstance(tool_round(machine, 0, usage=Usage(400, 50)), CallModel)
    step = tool_round(machine, 1, usage=Usage(500, 60))
    assert step == Fail(ExitStatus.TOKEN_BUDGET, "used 1010 tokens of a budget of 1000")
    assert machine.spent.tokens == 1010


def test_without_usage_tokens_are_estimated_at_four_chars_each() -> None:
    prompt = [Message(Role.SYSTEM, "x" * 40), Message(Role.USER, "y" * 39)]
    result = ModelResult("z" * 8, (ToolCall("c", "look", {}),))
    prompt_chars = sum(map(message_chars, prompt))
    assert tokens_used(prompt_chars, result) == -(-(40 + 39 + 8 + len("look") + len("{}")) // 4)
    machine = TurnMachine(plan(user_text="y" * 400, budgets=Budgets(max_tokens=100)))
    machine.start()
    assert tool_round(machine, 0).status is ExitStatus.TOKEN_BUDGET  # type: ignore[attr-defined]


def test_working_time_ends_the_run_before_new_work() -> None:
    machine = TurnMachine(plan(budgets=Budgets(max_seconds=10)))
    machine.start()
    step = machine.send(ModelResult("", (ToolCall("c0", "look", {}),)), seconds=6.0)
    assert isinstance(step, RunTool)
    step = machine.send(ToolOutcome("c0", ok=True, content="{}"), seconds=4.5)
    assert step == Fail(ExitStatus.TIME_BUDGET, "worked 10.5 s of a budget of 10 s")


def test_an_answer_is_kept_even_when_it_used_the_last_of_a_budget() -> None:
    machine = TurnMachine(plan(budgets=Budgets(max_tokens=10, max_seconds=1)))
    machine.start()
    done = machine.send(ModelResult("the answer", usage=Usage(500, 500)), seconds=30)
    assert isinstance(done, Finish)
    assert done.exit_status is ExitStatus.COMPLETED


def test_steps_are_model_calls() -> None:
    machine = TurnMachine(plan(max_steps=3))
    machine.start()
    assert isinstance(tool_round(machine, 0), CallModel)
    assert isinstance(tool_round(machine, 1), CallModel)
    assert tool_round(machine, 2) == Fail(ExitStatus.STEP_LIMIT, "stopped after 3 model calls")


def test_spent_never_goes_backwards() -> None:
    assert Spent().plus(tokens=3, seconds=-5.0) == Spent(3, 0.0)


@pytest.mark.parametrize(
    ("fields", "setting"), [({"max_tokens": 0}, "max_tokens"), ({"max_seconds": 0}, "max_seconds")]
)
def test_bad_budgets_name_the_setting(fields: dict[str, float], setting: str) -> None:
    with pytest.raises(ConfigError, match=f"guard.{setting}"):
        Budgets(**fields)  # type: ignore[arg-type]


# -- the driver supplies the clock --------------------------------------------


class Clock:
    """Time moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Looker:
    """A model that takes a second per call and always wants to look again."""

    name = "looker"

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.calls = 0

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(chooses_tools=True, streams=True, context_window=100_000)

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ModelChunk, None]:
        self.calls += 1
        self.clock.now += 1.0
        yield ModelResult("", (ToolCall(f"c{self.calls}", "look", {"n": self.calls}),))

    async def aclose(self) -> None:
        return None


async def drive(tmp_path: Path, **overrides: object) -> list[ReplyEvent]:
    """One run; each model call and each tool take 1 s, each approval 100 s."""
    clock = Clock()
    gate = ApprovalGate(ApprovalStore.open(tmp_path / "state.db"))

    async def execute(call: ToolCall) -> ToolOutcome:
        clock.now += 1.0
        return ToolOutcome(call.id, ok=True, content=f"saw {call.arguments}")

    driver = TurnDriver(
        run_id="run-1",
        conversation_id="conv",
        provider=Looker(clock),
        execute=execute,
        approvals=gate.for_run(RunRef("run-1", "s", "conv", "u")),
        on_finish=lambda finish: None,
        clock=clock,
    )
    events: list[ReplyEvent] = []
    try:
        async with aclosing(driver.run(TurnMachine(plan(max_steps=50, **overrides)))) as stream:
            async for event in stream:
                events.append(event)
                if isinstance(event, ApprovalRequested):
                    clock.now += 100.0
                    gate.resolve(event.request_id, ApprovalDecision.APPROVE, decided_by="t")
    finally:
        gate.close()
    return events


async def test_the_driver_times_each_step_with_its_clock(tmp_path: Path) -> None:
    events = await drive(tmp_path, budgets=Budgets(max_seconds=10))
    last = events[-1]
    assert isinstance(last, TurnFailed)
    assert (last.code, last.exit_status) == ("time_budget", None)
    assert last.message == "worked 10.0 s of a budget of 10 s"
    assert sum(1 for e in events if isinstance(e, ToolActivity) and e.phase == "end") == 5


async def test_waiting_for_a_person_does_not_count(tmp_path: Path) -> None:
    events = await drive(
        tmp_path, budgets=Budgets(max_seconds=10), needs_approval=frozenset({"look"})
    )
    assert sum(1 for e in events if isinstance(e, ApprovalRequested)) == 5
    last = events[-1]
    assert isinstance(last, TurnFailed)
    assert last.message == "worked 10.0 s of a budget of 10 s"
