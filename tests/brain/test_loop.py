"""The turn step machine, stepped by hand: no asyncio, no network."""

from __future__ import annotations

import json

import pytest

from brain.errors import LoopProtocolError
from brain.loop import (
    NOTICE_PREFIX,
    TRANSITIONS,
    ApprovalOutcome,
    AskApproval,
    CallModel,
    Fail,
    Finish,
    RunTool,
    ToolOutcome,
    TurnMachine,
    TurnPhase,
    TurnPlan,
    cap_text,
)
from brain.models.base import ForceTool, Message, ModelResult, Role, ToolCall, ToolDef
from gateway.events import ExitStatus

CALC = ToolDef("calculator__evaluate", "Evaluate arithmetic", {"type": "object"})
TIME = ToolDef("time__now", "The current time", {"type": "object"})


def plan(**overrides: object) -> TurnPlan:
    fields: dict[str, object] = {
        "system_prompt": "sys",
        "history": (),
        "user_text": "what is 2*3?",
        "tools": (CALC, TIME),
    }
    fields.update(overrides)
    return TurnPlan(**fields)  # type: ignore[arg-type]


def call(name: str = "calculator__evaluate", call_id: str = "c1", **arguments: object) -> ToolCall:
    return ToolCall(call_id, name, arguments or {"expression": "2*3"})


def ok(call_id: str = "c1", text: str = "6") -> ToolOutcome:
    return ToolOutcome(call_id, ok=True, content=json.dumps({"text": text}), text=text)


def test_plain_reply_finishes_after_one_model_call() -> None:
    machine = TurnMachine(
        plan(history=(Message(Role.USER, "hi"), Message(Role.ASSISTANT, "hello")))
    )
    step = machine.start()
    assert isinstance(step, CallModel)
    assert [m.role for m in step.messages] == [Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.USER]
    assert step.tools == (CALC, TIME)
    assert step.tool_choice == "auto"
    done = machine.send(ModelResult("It is 6."))
    assert done == Finish(
        "It is 6.", (Message(Role.USER, "what is 2*3?"), Message(Role.ASSISTANT, "It is 6."))
    )
    assert machine.phase is TurnPhase.DONE


def test_tool_chain_feeds_the_result_back_to_the_model() -> None:
    machine = TurnMachine(plan())
    machine.start()
    step = machine.send(ModelResult("Let me compute.", (call(),), "tool_calls"))
    assert step == RunTool(call())
    step = machine.send(ok())
    assert isinstance(step, CallModel)
    assert step.messages[-2] == Message(Role.ASSISTANT, "Let me compute.", (call(),))
    assert step.messages[-1] == Message(Role.TOOL, '{"text": "6"}', tool_call_id="c1")
    done = machine.send(ModelResult("It is 6."))
    assert isinstance(done, Finish)
    assert done.text == "Let me compute.\n\nIt is 6."
    assert [m.role for m in done.new_messages] == [
        Role.USER,
        Role.ASSISTANT,
        Role.TOOL,
        Role.ASSISTANT,
    ]
    assert machine.model_calls == 2


def test_several_calls_in_one_result_run_in_order() -> None:
    machine = TurnMachine(plan())
    machine.start()
    first, second = call(call_id="a"), call("time__now", "b", zone="UTC")
    assert machine.send(ModelResult("", (first, second))) == RunTool(first)
    assert machine.send(ok("a")) == RunTool(second)
    assert isinstance(machine.send(ok("b", "noon")), CallModel)


def test_step_limit_stops_before_running_more_tools() -> None:
    machine = TurnMachine(plan(max_steps=2))
    machine.start()
    machine.send(ModelResult("", (call(call_id="a"),)))
    machine.send(ok("a"))
    step = machine.send(ModelResult("", (call(call_id="b"),)))
    assert step == Fail(ExitStatus.STEP_LIMIT, "stopped after 2 model calls")
    assert machine.phase is TurnPhase.FAILED


def test_unknown_tool_becomes_an_observation() -> None:
    machine = TurnMachine(plan())
    machine.start()
    step = machine.send(ModelResult("", (call("rm__rf", "x"),)))
    assert isinstance(step, CallModel)
    assert step.messages[-1].role is Role.TOOL
    assert json.loads(step.messages[-1].content) == {"error": "unknown tool 'rm__rf'"}


def test_failed_tool_is_shown_to_the_model() -> None:
    machine = TurnMachine(plan())
    machine.start()
    machine.send(ModelResult("", (call(),)))
    step = machine.send(ToolOutcome.failure("c1", "division by zero"))
    assert isinstance(step, CallModel)
    assert json.loads(step.messages[-1].content) == {"error": "division by zero"}


def test_approval_then_run() -> None:
    machine = TurnMachine(plan(needs_approval=frozenset({"calculator__evaluate"})))
    machine.start()
    asked = machine.send(ModelResult("", (call(),)))
    assert asked == AskApproval(call(), "listed as needing approval")
    assert machine.phase is TurnPhase.APPROVAL
    assert machine.send(ApprovalOutcome(approved=True)) == RunTool(call())


def test_denial_skips_the_tool_and_tells_the_model() -> None:
    machine = TurnMachine(plan(needs_approval=frozenset({"calculator__evaluate"})))
    machine.start()
    machine.send(ModelResult("", (call(),)))
    step = machine.send(ApprovalOutcome(approved=False))
    assert isinstance(step, CallModel)
    assert json.loads(step.messages[-1].content) == {"error": "the user denied this action"}


def test_direct_command_runs_one_tool_without_the_model() -> None:
    command = call(call_id="cmd_0")
    machine = TurnMachine(plan(command=command, user_text="/calculator 2*3"))
    assert machine.start() == RunTool(command)
    done = machine.send(ok("cmd_0", "6"))
    assert done == Finish(
        "6", (Message(Role.USER, "/calculator 2*3"), Message(Role.ASSISTANT, "6"))
    )
    assert machine.model_calls == 0


def test_direct_command_failure_is_a_tool_error() -> None:
    machine = TurnMachine(plan(command=call(call_id="cmd_0")))
    machine.start()
    step = machine.send(ToolOutcome.failure("cmd_0", "bad expression"))
    assert step == Fail(ExitStatus.TOOL_ERROR, "calculator__evaluate: bad expression")


def test_denied_command_replies_without_running() -> None:
    machine = TurnMachine(
        plan(command=call(call_id="cmd_0"), needs_approval=frozenset({"calculator__evaluate"}))
    )
    assert isinstance(machine.start(), AskApproval)
    done = machine.send(ApprovalOutcome(approved=False))
    assert isinstance(done, Finish)
    assert done.text == "Not done: the user denied this action"
    assert done.exit_status is ExitStatus.DENIED


def test_forced_tool_for_a_model_that_cannot_choose() -> None:
    machine = TurnMachine(plan(tools=(CALC,), forced_tool=CALC.name, answer_from_tool=True))
    step = machine.start()
    assert step == CallModel(step.messages, (CALC,), ForceTool(CALC.name))  # type: ignore[union-attr]
    assert machine.send(ModelResult("", (call(),))) == RunTool(call())
    done = machine.send(ok("c1", "6"))
    assert isinstance(done, Finish)
    assert done.text == "6"
    assert done.new_messages[-1] == Message(Role.ASSISTANT, "6")


def test_forced_tool_without_answer_from_tool_calls_model_without_tools() -> None:
    machine = TurnMachine(plan(tools=(CALC,), forced_tool=CALC.name))
    machine.start()
    machine.send(ModelResult("", (call(),)))
    step = machine.send(ok())
    assert isinstance(step, CallModel)
    assert (step.tools, step.tool_choice) == ((), "none")


def test_no_tools_means_tool_choice_none() -> None:
    step = TurnMachine(plan(tools=())).start()
    assert isinstance(step, CallModel)
    assert (step.tools, step.tool_choice) == ((), "none")


def test_an_empty_reply_is_asked_again_and_not_kept() -> None:
    machine = TurnMachine(plan())
    machine.start()
    again = machine.send(ModelResult(""))
    assert isinstance(again, CallModel)
    assert again.messages[-1].role is Role.USER
    assert again.messages[-1].content.startswith(NOTICE_PREFIX + "Your reply was empty")
    assert all(m.content for m in again.messages if m.role is Role.ASSISTANT)
    done = machine.send(ModelResult("Here it is."))
    assert isinstance(done, Finish)
    assert done.text == "Here it is."
    assert done.new_messages[-1] == Message(Role.ASSISTANT, "Here it is.")


def test_a_command_whose_tool_has_no_text_gets_a_placeholder() -> None:
    machine = TurnMachine(plan(command=call(call_id="cmd_0")))
    machine.start()
    done = machine.send(ToolOutcome("cmd_0", ok=True, content="{}", text=""))
    assert isinstance(done, Finish)
    assert done.text == "(no reply)"
    assert done.new_messages[-1] == Message(Role.ASSISTANT, "(no reply)")


def test_long_tool_output_is_capped_for_the_model() -> None:
    machine = TurnMachine(plan())
    machine.start()
    machine.send(ModelResult("", (call(),)))
    step = machine.send(ToolOutcome("c1", ok=True, content="x" * 10_000, text="x"))
    assert isinstance(step, CallModel)
    assert len(step.messages[-1].content) < 6_100
    assert "chars omitted" in step.messages[-1].content


def test_cap_text_keeps_head_and_tail() -> None:
    assert cap_text("abc", 10) == "abc"
    capped = cap_text("a" * 50 + "b" * 50, 20)
    assert capped.startswith("a" * 10)
    assert capped.endswith("b" * 10)
    assert "[… 80 chars omitted …]" in capped


@pytest.mark.parametrize(
    "result", [ApprovalOutcome(approved=True), ToolOutcome("c1", ok=True, content="{}")]
)
def test_a_result_that_does_not_answer_the_step_is_a_protocol_error(
    result: ApprovalOutcome | ToolOutcome,
) -> None:
    machine = TurnMachine(plan())
    machine.start()
    with pytest.raises(LoopProtocolError):
        machine.send(result)


def test_outcome_for_the_wrong_call_is_a_protocol_error() -> None:
    machine = TurnMachine(plan())
    machine.start()
    machine.send(ModelResult("", (call(),)))
    with pytest.raises(LoopProtocolError, match="expected 'c1'"):
        machine.send(ok("other"))


def test_nothing_is_accepted_before_start_or_after_the_end() -> None:
    machine = TurnMachine(plan())
    with pytest.raises(LoopProtocolError):
        machine.send(ModelResult("x"))
    machine.start()
    with pytest.raises(LoopProtocolError):
        machine.start()
    machine.send(ModelResult("x"))
    with pytest.raises(LoopProtocolError):
        machine.send(ModelResult("y"))


def test_transition_table_has_terminal_phases() -> None:
    assert TRANSITIONS[TurnPhase.DONE] == frozenset()
    assert TRANSITIONS[TurnPhase.FAILED] == frozenset()
    assert set(TRANSITIONS) == set(TurnPhase)
