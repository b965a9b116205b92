"""Whole turns through ``Brain`` with the scripted provider and real skills in the sandbox."""

from __future__ import annotations

import hashlib
import json
from contextlib import aclosing
from pathlib import Path

import pytest

from brain import BadModelSpecError, Brain, LocalModelMissingError
from gateway.events import (
    FinalReply,
    RunStatus,
    SkillSummary,
    TextDelta,
    ToolActivity,
    ToolPhase,
    TurnFailed,
    Typing,
)
from tests.brain.conftest import final_text, run, settings_for, turn, write_skill


def script(tmp_path: Path, text: str) -> str:
    path = tmp_path / "script.yaml"
    path.write_text(text, encoding="utf-8")
    return f"scripted:{path}"


CHAIN = """
- tool_calls:
    - name: calc__evaluate
      arguments: {expression: "2*(3+4)"}
- reply: It is 14.
"""


async def test_echo_turn(echo_brain: Brain) -> None:
    events = await run(echo_brain, "hello there, brain")
    assert isinstance(events[0], Typing)
    assert final_text(events) == "hello there, brain"
    assert events[-1] == FinalReply(events[0].run_id, "hello there, brain", RunStatus.COMPLETED)


async def test_scripted_tool_chain_runs_a_real_skill(tmp_path: Path, skill_dir: Path) -> None:
    brain = await Brain.open(settings_for(tmp_path, skill_dir, model=script(tmp_path, CHAIN)))
    try:
        events = await run(brain, "what is 2*(3+4)?")
    finally:
        await brain.aclose()
    activity = [e for e in events if isinstance(e, ToolActivity)]
    assert [(a.tool, a.phase) for a in activity] == [
        ("calc__evaluate", ToolPhase.START),
        ("calc__evaluate", ToolPhase.END),
    ]
    assert activity[0].detail == "calc · evaluate (expression: 2*(3+4))"
    assert final_text(events) == "It is 14."


async def test_history_keeps_the_tool_chain(tmp_path: Path, skill_dir: Path) -> None:
    settings = settings_for(tmp_path, skill_dir, model=script(tmp_path, CHAIN + "- reply: again\n"))
    brain = await Brain.open(settings)
    try:
        await run(brain, "what is 2*(3+4)?")
        await run(brain, "and again?")
        history = brain._transcript.recent("conv-1", 50)
    finally:
        await brain.aclose()
    assert [m.role.value for m in history] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
        "assistant",
    ]
    assert history[2].content == '{"value":14,"text":"14"}'


async def test_step_limit(tmp_path: Path, skill_dir: Path) -> None:
    loop = "- tool_calls: [{name: calc__evaluate, arguments: {expression: '1+1'}}]\n" * 3
    brain = await Brain.open(
        settings_for(tmp_path, skill_dir, model=script(tmp_path, loop), max_steps=2)
    )
    try:
        events = await run(brain, "loop forever")
    finally:
        await brain.aclose()
    assert isinstance(events[-1], TurnFailed)
    assert events[-1].code == "step_limit"
    assert sum(isinstance(e, ToolActivity) and e.phase is ToolPhase.END for e in events) == 1


async def test_exhausted_script_is_a_model_error(tmp_path: Path) -> None:
    brain = await Brain.open(settings_for(tmp_path, model=script(tmp_path, "- reply: once\n")))
    try:
        assert final_text(await run(brain, "a")) == "once"
        events = await run(brain, "b")
    finally:
        await brain.aclose()
    assert isinstance(events[-1], TurnFailed)
    assert (events[-1].code, events[-1].retryable) == ("model_error", False)


async def test_failed_tool_is_shown_to_the_model(tmp_path: Path, skill_dir: Path) -> None:
    steps = (
        "- tool_calls: [{name: calc__evaluate, arguments: {expression: '1/0'}}]\n- reply: oops\n"
    )
    brain = await Brain.open(settings_for(tmp_path, skill_dir, model=script(tmp_path, steps)))
    try:
        events = await run(brain, "divide")
        history = brain._transcript.recent("conv-1", 50)
    finally:
        await brain.aclose()
    error = next(e for e in events if isinstance(e, ToolActivity) and e.phase is ToolPhase.ERROR)
    assert "division by zero" in (error.detail or "")
    assert "division by zero" in history[2].content
    assert final_text(events) == "oops"


# -- direct commands -----------------------------------------------------------


async def test_direct_command_runs_the_tool_without_the_model(echo_brain: Brain) -> None:
    events = await run(echo_brain, "/calc 2*(3+4)")
    assert final_text(events) == "14"
    assert [type(e) for e in events] == [Typing, ToolActivity, ToolActivity, TextDelta, FinalReply]


async def test_direct_command_failure_is_a_tool_error(echo_brain: Brain) -> None:
    events = await run(echo_brain, "/calc 1/0")
    assert isinstance(events[-1], TurnFailed)
    assert events[-1].code == "tool_error"
    assert "division by zero" in events[-1].message


async def test_direct_command_without_a_text_field_replies_compact_json(echo_brain: Brain) -> None:
    assert final_text(await run(echo_brain, "/shout héllo  world")) == '{"loud":"HÉLLO  WORLD"}'


async def test_unknown_command_lists_the_available_ones(echo_brain: Brain) -> None:
    text = final_text(await run(echo_brain, "/calculator 1+1"))
    assert text == "There is no /calculator command. Available commands: /calc, /shout."


async def test_skill_without_a_command(echo_brain: Brain) -> None:
    text = final_text(await run(echo_brain, "/guide"))
    assert "guide skill has no direct command" in text


async def test_a_path_is_not_a_command(echo_brain: Brain) -> None:
    assert final_text(await run(echo_brain, "/etc/hosts is a file")) == "/etc/hosts is a file"


# -- skills, data dirs, settings -----------------------------------------------


async def test_list_skills(echo_brain: Brain) -> None:
    assert echo_brain.list_skills() == (
        SkillSummary("calc", "Arithmetic calculator.", ("calc__evaluate",), "/calc"),
        SkillSummary("counter", "A per-user counter.", ("counter__bump",), None),
        SkillSummary("guide", "Instructions only, no tools.", (), None),
        SkillSummary("shout", "Upper-cases text.", ("shout__upper",), "/shout"),
    )
    assert echo_brain.sandbox_mode in {"bwrap", "rlimit-only", "unavailable"}


async def test_later_skill_dirs_override_and_bad_skills_are_skipped(
    tmp_path: Path, skill_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    later = tmp_path / "installed"
    write_skill(later, "calc", "A newer calculator.", None, {})
    (later / "broken").mkdir()
    (later / "broken" / "SKILL.md").write_text("no frontmatter here", encoding="utf-8")
    brain = await Brain.open(
        settings_for(tmp_path, skill_dir, skill_dirs=(skill_dir, later, tmp_path / "missing"))
    )
    try:
        skills = {s.name: s for s in brain.list_skills()}
    finally:
        await brain.aclose()
    assert skills["calc"].description == "A newer calculator."
    assert "broken" not in skills
    assert "skipping skill" in caplog.text


async def test_skill_data_dir_is_per_user(tmp_path: Path, skill_dir: Path) -> None:
    steps = "- tool_calls: [{name: counter__bump}]\n- reply: done\n"
    settings = settings_for(
        tmp_path,
        skill_dir,
        model=script(tmp_path, steps * 3),
        sandbox_hidden_paths=(tmp_path / "data",),  # as the gateway does: re-exposed per skill
    )
    brain = await Brain.open(settings)
    try:
        await run(brain, "bump", user="web:alice")
        await run(brain, "bump", user="web:alice")
        await run(brain, "bump", user="web:bob", conversation="conv-2")
    finally:
        await brain.aclose()
    root = tmp_path / "data" / "skill-data" / "counter"
    alice = hashlib.sha256(b"web:alice").hexdigest()[:16]
    bob = hashlib.sha256(b"web:bob").hexdigest()[:16]
    assert (root / alice / "count").read_text() == "2"
    assert (root / bob / "count").read_text() == "1"


async def test_bad_model_spec_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(BadModelSpecError) as info:
        await Brain.open(settings_for(tmp_path, model="gpt-4"))
    assert info.value.setting == "model"


async def test_missing_local_model_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(LocalModelMissingError) as info:
        await Brain.open(
            settings_for(tmp_path, model="local", local_model_path=tmp_path / "none.gguf")
        )
    assert info.value.setting == "local_model_path"


async def test_oversized_input_is_a_bad_request(tmp_path: Path) -> None:
    brain = await Brain.open(settings_for(tmp_path, max_input_chars=10))
    try:
        events = await run(brain, "x" * 11)
    finally:
        await brain.aclose()
    assert events == [
        TurnFailed(events[0].run_id, "bad_request", "message longer than 10 characters")
    ]


# -- transcript and stopping ---------------------------------------------------


async def test_transcript_survives_a_restart(tmp_path: Path) -> None:
    brain = await Brain.open(settings_for(tmp_path))
    await run(brain, "first")
    await brain.aclose()
    brain = await Brain.open(settings_for(tmp_path, history_limit=10))
    try:
        await run(brain, "second")
        history = brain._transcript.recent("conv-1", 10)
        other = brain._transcript.recent("conv-other", 10)
    finally:
        await brain.aclose()
    assert [m.content for m in history] == ["first", "first", "second", "second"]
    assert other == ()


async def test_closing_the_stream_stops_the_turn_and_saves_nothing(echo_brain: Brain) -> None:
    async with aclosing(
        echo_brain.run_turn(turn("one two three four five six seven eight"))
    ) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                break
    assert echo_brain._transcript.recent("conv-1", 10) == ()


# -- the first-party skills ------------------------------------------------------

FIRST_PARTY = Path(__file__).resolve().parents[2] / "skills"


async def test_calculator_command_with_the_first_party_skill(tmp_path: Path) -> None:
    brain = await Brain.open(settings_for(tmp_path, FIRST_PARTY))
    try:
        assert final_text(await run(brain, "/calculator 2*(3+4)")) == "14"
        commands = {s.command for s in brain.list_skills()}
    finally:
        await brain.aclose()
    assert {"/calculator", "/notes", "/time", "/unit-convert"} <= commands


async def test_two_step_chain_through_the_first_party_calculator(tmp_path: Path) -> None:
    steps = """
    - tool_calls: [{name: calculator__evaluate, arguments: {expression: "2*(3+4)"}}]
    - tool_calls: [{name: calculator__evaluate, arguments: {expression: "14*3"}}]
    - reply: "2*(3+4) is 14, and 14*3 is 42."
    """
    brain = await Brain.open(settings_for(tmp_path, FIRST_PARTY, model=script(tmp_path, steps)))
    try:
        events = await run(brain, "what is 2*(3+4), times 3?")
        history = brain._transcript.recent("conv-1", 20)
    finally:
        await brain.aclose()
    assert final_text(events) == "2*(3+4) is 14, and 14*3 is 42."
    tool_results = [m.content for m in history if m.role.value == "tool"]
    assert [json.loads(r)["text"] for r in tool_results] == ["14", "42"]
