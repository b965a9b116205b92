"""Models that cannot choose tools: the brain picks one by retrieval and forces it."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from pathlib import Path

import pytest

from brain import Brain
from brain.commands import CommandText, parse_command, unknown_command_reply
from brain.models import Capabilities, ForceTool, ModelRequest, ModelResult, TextChunk, ToolCall
from brain.models.base import ModelChunk
from brain.retrieval import pick_tool, scores, terms
from brain.settings import BrainSettings, DiscoverySettings
from brain.skills import SkillSet, exposed_name
from brain.transcript import Transcript
from tests.brain.conftest import final_text, run, settings_for


class ForcedOnlyProvider:
    """Like the local model: plain chat, or fills the arguments of one forced tool."""

    name = "forced-only"

    def __init__(self) -> None:
        self.requests: list[ModelRequest] = []

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(chooses_tools=False, streams=True, context_window=4096)

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ModelChunk, None]:
        self.requests.append(request)
        if isinstance(request.tool_choice, ForceTool):
            call = ToolCall("call_0", request.tool_choice.name, {"expression": "2*(3+4)"})
            yield ModelResult("", (call,), "tool_calls")
            return
        yield TextChunk("Hi!")
        yield ModelResult("Hi!")

    async def aclose(self) -> None:
        return None


class ChoosingProvider(ForcedOnlyProvider):
    """A model that chooses among the tools it is offered; here it only chats."""

    name = "choosing"

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(chooses_tools=True, streams=True, context_window=32_000)


def skill_tools(request: ModelRequest) -> list[str]:
    return [t.name for t in request.tools if "__" in t.name]  # built-ins have no skill prefix


async def open_brain(settings: BrainSettings, provider: ForcedOnlyProvider) -> Brain:
    skills = SkillSet.load(settings.skill_dirs)
    transcript = Transcript.open(settings.data_dir / "state.db")
    return Brain(settings, provider=provider, skills=skills, transcript=transcript)


async def test_small_talk_gets_no_tools(tmp_path: Path, skill_dir: Path) -> None:
    provider = ForcedOnlyProvider()
    brain = await open_brain(settings_for(tmp_path, skill_dir), provider)
    try:
        assert final_text(await run(brain, "hello")) == "Hi!"
    finally:
        await brain.aclose()
    assert (provider.requests[0].tools, provider.requests[0].tool_choice) == ((), "none")


async def test_a_matching_skill_is_forced_and_its_text_is_the_reply(
    tmp_path: Path, skill_dir: Path
) -> None:
    provider = ForcedOnlyProvider()
    brain = await open_brain(settings_for(tmp_path, skill_dir), provider)
    try:
        events = await run(brain, "please calculate 2*(3+4)")
    finally:
        await brain.aclose()
    (request,) = provider.requests
    assert [t.name for t in request.tools] == ["calc__evaluate"]
    assert request.tool_choice == ForceTool("calc__evaluate")
    assert final_text(events) == "14"


def test_retrieval_scores() -> None:
    docs = [
        "calc Arithmetic calculator evaluate expression",
        "time Tell the current time in a zone",
    ]
    assert scores("please calculate 2+2 with the calculator", docs)[0] > 0
    assert scores("hello", docs) == [0.0, 0.0]
    assert scores("", docs) == [0.0, 0.0]
    assert scores("anything", []) == []
    assert "note" in terms("Notes")
    assert "the" not in terms("the")


def test_pick_tool_prefers_the_matching_tool_then_the_command(skill_dir: Path) -> None:
    skills = SkillSet.load([skill_dir])
    calc, shout = skills.tools_of("calc")[0], skills.tools_of("shout")[0]
    commands = skills.command_tool_names()
    assert pick_tool("upper-case this", [calc, shout], commands) is shout
    assert pick_tool("nothing in common", [calc, shout], commands) is calc
    assert pick_tool("nothing in common", [calc, shout], frozenset({shout.name})) is shout


async def test_a_message_matching_no_skill_well_enough_is_plain_chat(
    tmp_path: Path, skill_dir: Path
) -> None:
    provider = ForcedOnlyProvider()
    settings = settings_for(tmp_path, skill_dir, discovery=DiscoverySettings(min_score=50.0))
    brain = await open_brain(settings, provider)
    try:
        assert final_text(await run(brain, "please calculate 2*(3+4)")) == "Hi!"
    finally:
        await brain.aclose()
    assert provider.requests[0].tools == ()


async def test_a_choosing_model_sees_only_the_best_skills_tools(
    tmp_path: Path, skill_dir: Path
) -> None:
    provider = ChoosingProvider()
    settings = settings_for(tmp_path, skill_dir, discovery=DiscoverySettings(tool_skills=1))
    brain = await open_brain(settings, provider)
    try:
        await run(brain, "please calculate 2*(3+4)")
        await run(brain, "upper-cases this text")
        await run(brain, "hello")
    finally:
        await brain.aclose()
    offered = [skill_tools(r) for r in provider.requests]
    assert offered == [["calc__evaluate"], ["shout__upper"], []]


async def test_all_skill_tools_are_offered_when_they_fit(tmp_path: Path, skill_dir: Path) -> None:
    provider = ChoosingProvider()
    brain = await open_brain(settings_for(tmp_path, skill_dir), provider)  # tool_skills=8 > 3
    try:
        await run(brain, "hello")
    finally:
        await brain.aclose()
    assert skill_tools(provider.requests[0]) == ["calc__evaluate", "counter__bump", "shout__upper"]


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("/calc 2*(3+4)", CommandText("calc", "2*(3+4)")),
        ("  /Calc   1 + 1  ", CommandText("calc", "1 + 1")),
        ("/calc@skillyard_bot 3", CommandText("calc", "3")),
        ("/notes line one\nline two", CommandText("notes", "line one\nline two")),
        ("/unit-convert", CommandText("unit-convert", "")),
        ("/etc/hosts", None),
        ("calc 1", None),
        ("/", None),
        ("/ calc", None),
    ],
)
def test_parse_command(text: str, parsed: CommandText | None) -> None:
    assert parse_command(text) == parsed


def test_unknown_command_reply() -> None:
    assert unknown_command_reply("x", []) == (
        "There is no /x command, and no skill offers a command yet."
    )
    assert unknown_command_reply("x", ["b", "a"]).endswith("Available commands: /a, /b.")


def test_exposed_names_fit_openai_rules() -> None:
    assert exposed_name("unit-convert", "convert") == "unit-convert__convert"
    assert exposed_name("we ird/name", "t") == "we-ird-name__t"
    long = exposed_name("s" * 64, "tool")
    assert len(long) == 64
    assert long != exposed_name("s" * 63 + "x", "tool")
