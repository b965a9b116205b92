"""Structured outputs: an invalid reply is re-asked at most 3 times, then it ends ``format``."""

from __future__ import annotations

import pytest

from brain.guard.validation import OutputCheck, check_output
from brain.loop import NOTICE_PREFIX, CallModel, Fail, Finish, TurnMachine, TurnPlan
from brain.models.base import ModelResult, Role
from gateway.events import ExitStatus

SCHEMA = {
    "type": "object",
    "required": ["city", "days"],
    "additionalProperties": False,
    "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
}
GOOD = '{"city": "Lyon", "days": 3}'


def machine(**overrides: object) -> TurnMachine:
    fields: dict[str, object] = {
        "system_prompt": "s",
        "history": (),
        "user_text": "plan my trip as JSON",
        "output_schema": SCHEMA,
    }
    fields.update(overrides)
    return TurnMachine(TurnPlan(**fields))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD, OutputCheck({"city": "Lyon", "days": 3})),
        (f"```json\n{GOOD}\n```", OutputCheck({"city": "Lyon", "days": 3})),
        ('{"city": "Lyon"}', OutputCheck({"city": "Lyon"}, "days: is required")),
        (
            '{"city": "Lyon", "days": 0, "x": 1}',
            OutputCheck(
                {"city": "Lyon", "days": 0, "x": 1},
                "x: unknown key (allowed: city, days); days: 0 is less than the minimum of 1",
            ),
        ),
    ],
)
def test_check_output(text: str, expected: OutputCheck) -> None:
    assert check_output(SCHEMA, text) == expected


def test_text_that_is_not_json_says_so() -> None:
    check = check_output(SCHEMA, "Sure! Here is your plan.")
    assert check.error is not None and check.error.startswith("the reply is not valid JSON")


def test_a_valid_reply_finishes_with_the_parsed_value() -> None:
    turn = machine()
    step = turn.start()
    assert isinstance(step, CallModel) and step.json
    done = turn.send(ModelResult(GOOD))
    assert isinstance(done, Finish)
    assert done.output == {"city": "Lyon", "days": 3}


def test_the_requery_counter_stops_at_exactly_three() -> None:
    turn = machine()
    turn.start()
    asks = []
    step = turn.send(ModelResult("Lyon for three days"))
    while isinstance(step, CallModel):
        asks.append(step.messages[-1])
        step = turn.send(ModelResult('{"city": "Lyon"}'))
    assert len(asks) == 3
    assert turn.model_calls == 4
    assert [m.role for m in asks] == [Role.USER] * 3
    assert asks[0].content.startswith(NOTICE_PREFIX + "Your reply does not have the required")
    assert "the reply is not valid JSON" in asks[0].content
    assert "(re-ask 3 of 3)" in asks[2].content and "days: is required" in asks[2].content
    assert step == Fail(
        ExitStatus.FORMAT,
        "the reply did not have the required format after 3 re-asks: days: is required",
    )


def test_a_reply_fixed_on_the_last_reask_is_accepted() -> None:
    turn = machine()
    turn.start()
    for _ in range(3):
        assert isinstance(turn.send(ModelResult("nope")), CallModel)
    done = turn.send(ModelResult(GOOD))
    assert isinstance(done, Finish)
    assert done.output == {"city": "Lyon", "days": 3}
    assert done.exit_status is ExitStatus.COMPLETED


def test_identical_invalid_replies_also_get_the_monologue_nudge() -> None:
    turn = machine()
    turn.start()
    turn.send(ModelResult("nope"))
    turn.send(ModelResult("nope"))
    third = turn.send(ModelResult("nope"))
    assert isinstance(third, CallModel)
    assert "You have sent the same message 3 times" in third.messages[-1].content
    assert turn.send(ModelResult("nope")).status is ExitStatus.FORMAT  # type: ignore[union-attr]


def test_no_reasks_when_the_limit_is_zero() -> None:
    turn = machine(max_requeries=0)
    turn.start()
    step = turn.send(ModelResult("nope"))
    assert isinstance(step, Fail) and step.status is ExitStatus.FORMAT


def test_plans_without_a_schema_take_any_text() -> None:
    turn = machine(output_schema=None)
    step = turn.start()
    assert isinstance(step, CallModel) and not step.json
    done = turn.send(ModelResult("nope"))
    assert isinstance(done, Finish) and done.output is None
