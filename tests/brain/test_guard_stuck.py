"""The loop detector: each OpenHands pattern with one positive and two negative cases."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from brain import Brain
from brain.errors import ConfigError
from brain.guard.stuck import (
    Action,
    AgentMessage,
    Condensation,
    Observation,
    StuckDetector,
    StuckEvent,
    StuckHit,
    StuckThresholds,
    UserMessage,
)
from brain.loop import (
    NOTICE_PREFIX,
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
    Role,
    ToolCall,
    ToolDef,
)
from brain.skills import SkillSet
from brain.transcript import Transcript
from gateway.events import ExitStatus, TurnFailed, exit_status_of
from tests.brain.conftest import settings_for, turn

A = Action.of("search", {"q": "cats"})
B = Action.of("fetch", {"url": "https://example.org"})
A_OTHER_ARGS = Action.of("search", {"q": "dogs"})
SAME = Observation("3 results")
OTHER = Observation("4 results")
ERR = Observation("timeout", error=True)
ERR2 = Observation("refused", error=True)
ME = AgentMessage("I will now check.")
EMPTY = AgentMessage("")


def rounds(*pairs: tuple[Action, Observation]) -> list[StuckEvent]:
    return [event for pair in pairs for event in pair]


@dataclass(frozen=True)
class Case:
    name: str
    events: Sequence[StuckEvent]
    pattern: str | None  # the pattern expected to fire on the last event, or None


CASES = [
    # 1. same action, same observation, 4 times
    Case("action_observation fires at 4", rounds(*[(A, SAME)] * 4), "action_observation"),
    Case("action_observation: 3 is not enough", rounds(*[(A, SAME)] * 3), None),
    Case(
        "action_observation: a different result breaks it",
        rounds((A, SAME), (A, OTHER), (A, SAME), (A, SAME)),
        None,
    ),
    # 2. same action ending in an error, 3 times
    Case("action_error fires at 3", rounds((A, ERR), (A, ERR2), (A, ERR)), "action_error"),
    Case("action_error: one success breaks it", rounds((A, ERR), (A, SAME), (A, ERR)), None),
    Case(
        "action_error: other arguments are another action",
        rounds((A, ERR), (A_OTHER_ARGS, ERR), (A, ERR)),
        None,
    ),
    # 3. the same agent message, 3 times, nothing between
    Case("monologue fires at 3", [ME, ME, ME], "monologue"),
    Case("monologue: an observation between", [ME, ME, A, SAME, ME], None),
    Case("monologue: different messages", [ME, AgentMessage("Now what?"), ME], None),
    # 4. A, B, A, B, A, B with their observations
    Case(
        "alternating fires at 6",
        rounds((A, SAME), (B, OTHER), (A, SAME), (B, OTHER), (A, SAME), (B, OTHER)),
        "alternating",
    ),
    Case(
        "alternating: 5 is not enough",
        rounds((A, SAME), (B, OTHER), (A, SAME), (B, OTHER), (A, SAME)),
        None,
    ),
    Case(
        "alternating: same actions, a result changed",
        rounds((A, SAME), (B, OTHER), (A, SAME), (B, SAME), (A, SAME), (B, OTHER)),
        None,
    ),
    # 5. empty replies, 3 in a row
    Case("empty fires at 3", [EMPTY, EMPTY, AgentMessage("  ")], "empty"),
    Case("empty: a real reply between", [EMPTY, ME, EMPTY], None),
    Case("empty: an action between", [EMPTY, EMPTY, A, SAME, EMPTY], None),
    # 6. context condensed 10 times with nothing between
    Case("condensation fires at 10", [Condensation()] * 10, "condensation"),
    Case("condensation: 9 is not enough", [Condensation()] * 9, None),
    Case(
        "condensation: work between", [*[Condensation()] * 5, A, SAME, *[Condensation()] * 5], None
    ),
    # the window starts at the last user message
    Case(
        "a user message resets the window",
        [*rounds(*[(A, SAME)] * 3), UserMessage(), A, SAME],
        None,
    ),
    Case("only the newest event can complete a pattern", [*rounds(*[(A, SAME)] * 4)[:-1]], None),
]


def last_hit(events: Sequence[StuckEvent]) -> StuckHit | None:
    detector = StuckDetector()
    hit = None
    for event in events:
        hit = detector.record(event)
    return hit


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_pattern(case: Case) -> None:
    hit = last_hit(case.events)
    assert (hit.pattern if hit else None) == case.pattern


def test_each_pattern_has_one_positive_and_two_negatives() -> None:
    positives = [c.pattern for c in CASES if c.pattern]
    assert len(positives) == 6 == len(set(positives))
    for pattern in positives:
        negatives = [c for c in CASES if c.name.startswith(pattern + ":")]
        assert len(negatives) == 2, pattern
    assert len(CASES) >= 18


def test_first_hit_nudges_and_the_second_stops() -> None:
    detector = StuckDetector()
    hits = [detector.record(e) for e in rounds(*[(A, SAME)] * 5)]
    first, second = [h for h in hits if h is not None]
    assert not first.stop and "called search with the same arguments 4 times" in first.nudge
    assert second.stop
    assert second.diagnosis == (
        "called search with the same arguments 4 times and got the same result each time"
    )


def test_a_user_message_forgets_the_first_hit() -> None:
    detector = StuckDetector()
    events = [*rounds(*[(A, SAME)] * 4), UserMessage(), *rounds(*[(A, SAME)] * 4)]
    hits = [h for h in (detector.record(e) for e in events) if h is not None]
    assert [h.stop for h in hits] == [False, False]


def test_thresholds_are_configuration() -> None:
    detector = StuckDetector(StuckThresholds(action_observation=2))
    hits = [detector.record(e) for e in rounds((A, SAME), (A, SAME))]
    assert hits[-1] is not None and hits[-1].pattern == "action_observation"
    with pytest.raises(ConfigError, match=r"guard\.stuck\.empty: must be at least 2"):
        StuckThresholds(empty=1)


def test_equal_calls_with_other_ids_are_one_action() -> None:
    assert Action.of("t", {"b": 1, "a": [1, 2]}) == Action.of("t", {"a": [1, 2], "b": 1})


# -- through the turn machine -------------------------------------------------

SEARCH = ToolDef("search", "Search", {"type": "object"})


def machine() -> TurnMachine:
    plan = TurnPlan(system_prompt="s", history=(), user_text="find cats", tools=(SEARCH,))
    return TurnMachine(plan)


def test_the_machine_nudges_then_stops_a_repeating_model() -> None:
    turn = machine()
    turn.start()
    seen = []
    for index in range(5):
        step = turn.send(ModelResult("", (ToolCall(f"c{index}", "search", {"q": "cats"}),)))
        assert isinstance(step, RunTool)
        step = turn.send(ToolOutcome(f"c{index}", ok=True, content="3 results"))
        seen.append(step)
    nudged = seen[3]
    assert isinstance(nudged, CallModel)
    assert nudged.messages[-1].role is Role.TOOL
    assert nudged.messages[-1].content.startswith(
        "3 results\n\n" + NOTICE_PREFIX + "You have called"
    )
    assert seen[4] == Fail(
        ExitStatus.STUCK,
        "called search with the same arguments 4 times and got the same result each time",
    )
    assert turn.model_calls == 5


def test_the_machine_stops_after_four_empty_replies() -> None:
    turn = machine()
    turn.start()
    steps = [turn.send(ModelResult("")) for _ in range(4)]
    assert all(isinstance(s, CallModel) for s in steps[:3])
    assert "Your last 3 replies were empty" in steps[2].messages[-1].content  # type: ignore[union-attr]
    assert steps[3] == Fail(ExitStatus.STUCK, "sent 3 empty replies in a row")


def test_a_model_that_changes_course_after_the_nudge_finishes() -> None:
    turn = machine()
    turn.start()
    for index in range(4):
        turn.send(ModelResult("", (ToolCall(f"c{index}", "search", {"q": "cats"}),)))
        turn.send(ToolOutcome(f"c{index}", ok=True, content="3 results"))
    done = turn.send(ModelResult("There are 3 results."))
    assert isinstance(done, Finish)
    assert done.exit_status is ExitStatus.COMPLETED


# -- through the brain: the diagnosis goes to the session log ----------------


class RepeatingModel:
    """Computes 2*3 again and again."""

    name = "repeating"

    def __init__(self) -> None:
        self.calls = 0

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(chooses_tools=True, streams=True, context_window=32_000)

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ModelChunk, None]:
        self.calls += 1
        call = ToolCall(f"call_{self.calls}", "calc__evaluate", {"expression": "2*3"})
        yield ModelResult("", (call,))

    async def aclose(self) -> None:
        return None


async def test_a_stuck_run_ends_stuck_and_its_diagnosis_is_logged(
    tmp_path: Path, skill_dir: Path
) -> None:
    settings = settings_for(tmp_path, skill_dir)
    skills = SkillSet.load(settings.skill_dirs)
    transcript = Transcript.open(settings.data_dir / "state.db")
    brain = Brain(settings, provider=RepeatingModel(), skills=skills, transcript=transcript)
    try:
        events = [e async for e in brain.run_turn(turn("what is 2*3?"))]
        [entry] = brain.memory.session_log("conv-1").read()
    finally:
        await brain.aclose()
    last = events[-1]
    assert isinstance(last, TurnFailed)
    assert (last.code, exit_status_of(last)) == ("stuck", ExitStatus.STUCK)
    assert last.message.startswith("called calc__evaluate with the same arguments 4 times")
    assert entry.result.startswith("stuck: called calc__evaluate")
    assert "loop detector stopped this run" in entry.critique
    assert len(entry.actions) == 5
