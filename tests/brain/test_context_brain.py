"""The context builder and memory wired into ``Brain``: what the model is sent, per user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from brain import Brain
from brain.context import CompactionStateStore, pairing_problems
from brain.guard.permissions import PermissionPolicy
from brain.guard.settings import GuardSettings
from brain.memory import CompactionEntry
from brain.models import Capabilities, ModelRequest, ModelResult, Role, TextChunk, ToolCall
from brain.models.base import ModelChunk
from brain.settings import BrainSettings, ContextSettings
from brain.skills import SkillSet
from brain.transcript import Transcript
from gateway.events import (
    Conversation,
    ConversationKind,
    InboundMessage,
    ReplyEvent,
    Sender,
    TurnFailed,
    TurnRequest,
)
from tests.brain.conftest import final_text, run, settings_for


class RecordingModel:
    """Echoes the user, or calls ``calc__evaluate`` once when asked to calculate."""

    name = "recording"

    def __init__(self, window: int = 100_000, reply_padding: str = "") -> None:
        self.window = window
        self.padding = reply_padding
        self.requests: list[ModelRequest] = []

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(chooses_tools=True, streams=True, context_window=self.window)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelChunk]:
        self.requests.append(request)
        last = request.messages[-1]
        if last.role is Role.USER and last.content.startswith("calculate"):
            call = ToolCall(f"call_{len(self.requests)}", "calc__evaluate", {"expression": "6*7"})
            yield ModelResult("", (call,), "tool_calls")
            return
        text = f"You said: {last.content[:60]}" + self.padding
        yield TextChunk(text)
        yield ModelResult(text)

    async def aclose(self) -> None:
        return None


def open_brain(settings: BrainSettings, model: RecordingModel) -> Brain:
    skills = SkillSet.load(settings.skill_dirs)
    transcript = Transcript.open(settings.data_dir / "state.db")
    return Brain(settings, provider=model, skills=skills, transcript=transcript)


_runs = 0


def group_turn(text: str, user: str) -> TurnRequest:
    global _runs
    _runs += 1
    message = InboundMessage(
        id=f"g{_runs}", channel="telegram", account="bot",
        conversation=Conversation("-100", ConversationKind.GROUP, "Family"),
        sender=Sender(user.split(":", 1)[1]), text=text, sent_at=1_700_000_000.0,
    )  # fmt: skip
    return TurnRequest(
        f"group-run-{_runs}", "telegram:bot:-100", "telegram:bot:-100#0", user, (message,)
    )


async def events_of(brain: Brain, request: TurnRequest) -> list[ReplyEvent]:
    return [event async for event in brain.run_turn(request)]


async def test_each_completed_turn_appends_its_section_to_the_session_log(
    tmp_path: Path, skill_dir: Path
) -> None:
    model = RecordingModel()
    brain = open_brain(settings_for(tmp_path, skill_dir), model)
    try:
        await run(brain, "hello there")
        await run(brain, "calculate six times seven")
        await run(brain, "/calc 2+2")
        log = brain.memory.session_log("conv-1")
        turns = log.read()
    finally:
        await brain.aclose()
    assert [t.goal for t in turns] == ["hello there", "calculate six times seven", "/calc 2+2"]
    assert turns[0].critique == "No tools were needed; the model answered directly."
    assert [(a.tool, a.outcome) for a in turns[1].actions] == [("calc__evaluate", "ok")]
    assert turns[1].critique == "All 1 tool calls succeeded."
    assert turns[2].result == "completed: 4"
    assert log.lint() == []
    assert log.path.parent == tmp_path / "data" / "sessions"


async def test_pinned_blocks_and_knowledge_reach_only_their_own_user_in_a_group_chat(
    tmp_path: Path,
) -> None:
    model = RecordingModel()
    brain = open_brain(settings_for(tmp_path), model)
    alice, bob = "telegram:111", "telegram:222"
    secrets = ["Alice prefers to be called Al.", "Alice's locker code is 4417.", "Alice is vegan."]
    try:
        brain.memory.set_block(alice, "user", secrets[0])
        brain.memory.knowledge.add(alice, kind="fact", content=secrets[1], tags=["locker"])
        brain.memory.knowledge.add(alice, kind="preference", content=secrets[2])
        brain.memory.set_block(bob, "user", "Bob likes chess.")
        await events_of(brain, group_turn("what is my locker code? am I vegan?", alice))
        await events_of(brain, group_turn("what is my locker code? am I vegan?", bob))
        await events_of(brain, group_turn("and what is Alice's locker code?", bob))
    finally:
        await brain.aclose()
    to_alice, *to_bob = model.requests
    assert all(secret in to_alice.messages[0].content for secret in secrets)
    assert "Bob likes chess." not in to_alice.messages[0].content
    for request in to_bob:
        system = request.messages[0].content
        assert "Bob likes chess." in system
        assert not any(secret in system for secret in secrets)
        assert not any(secret in m.content for m in request.messages for secret in secrets)
    # The group's conversation itself is shared: Bob sees what was *said* in the chat.
    assert any(m.content.startswith("what is my locker code") for m in to_bob[0].messages[1:])


async def test_the_catalog_shows_relevant_skills_for_a_model_that_chooses(
    tmp_path: Path, skill_dir: Path
) -> None:
    model = RecordingModel()
    brain = open_brain(settings_for(tmp_path, skill_dir), model)
    try:
        await run(brain, "please upper-case this text")
        await run(brain, "hello")
    finally:
        await brain.aclose()
    relevant, small_talk = (r.messages[0].content for r in model.requests)
    assert "## Skills that may help\n\n- shout: Upper-cases text." in relevant
    assert "## Skills that may help" not in small_talk
    assert small_talk == settings_for(tmp_path).system_prompt  # fresh user, nothing else


async def test_a_long_conversation_is_compacted_through_the_brain(tmp_path: Path) -> None:
    model = RecordingModel(window=2_000, reply_padding=" Here is a long explanation." * 12)
    settings = settings_for(
        tmp_path, history_limit=1_000, context=ContextSettings(reserve_tokens=200)
    )
    brain = open_brain(settings, model)
    try:
        brain.memory.set_block("web:alice", "task", "Remember: the launch date is 12 May.")
        for n in range(40):
            assert final_text(await run(brain, f"message {n} " + "words " * 30)).startswith(
                "You said"
            )
        entries = brain.memory.session_log("conv-1").entries()
        state = CompactionStateStore(tmp_path / "data" / "sessions").load("conv-1")
    finally:
        await brain.aclose()
    compactions = [e for e in entries if isinstance(e, CompactionEntry)]
    assert len(compactions) >= 3 and state.count == len(compactions)
    assert all(e.tokens_after <= 0.9 * e.tokens_before for e in compactions)
    turns = [e for e in entries if not isinstance(e, CompactionEntry)]
    assert len(turns) == 40
    limit = 2_000 - 200
    for request in model.requests:
        assert sum(4 + (len(m.content) + 3) // 4 for m in request.messages) <= limit
        assert "the launch date is 12 May" in request.messages[0].content
        assert pairing_problems(request.messages) == []
    last = model.requests[-1].messages
    assert last[1].content.startswith("message 0 ")  # the original task stays
    assert "## Earlier in this conversation (summary)" in last[0].content


async def test_a_message_too_big_for_the_window_is_a_bad_request(tmp_path: Path) -> None:
    brain = open_brain(settings_for(tmp_path), RecordingModel(window=1_000))
    try:
        events = await run(brain, "x" * 8_000)
    finally:
        await brain.aclose()
    failed = events[-1]
    assert isinstance(failed, TurnFailed) and failed.code == "bad_request"
    assert "the model takes at most 750" in failed.message


def test_configuration_keys_reach_the_brain(tmp_path: Path) -> None:
    from gateway.app import brain_settings
    from gateway.config import load_config
    from gateway.errors import ConfigError as GatewayConfigError

    path = tmp_path / "skillyard.yaml"
    path.write_text(
        "context: {compact_at: 0.6, max_messages: 80, summariser: model}\n"
        "memory: {task_chars: 8000}\n"
    )
    env = {"SKILLYARD_HOME": str(tmp_path), "SKILLYARD_CONTEXT__KNOWLEDGE_TOP_K": "3"}
    settings = brain_settings(load_config(path, env))
    assert (settings.context.compact_at, settings.history_limit) == (0.6, 80)
    assert (settings.context.summariser, settings.context.knowledge_top_k) == ("model", 3)
    assert settings.context.block_limits == {"persona": 2_000, "user": 2_000, "task": 8_000}
    path.write_text("context: {compact_at: 2}\n")
    with pytest.raises(
        GatewayConfigError, match=r"context\.compact_at: 2 is greater than the maximum"
    ):
        load_config(path, env)


class RememberingModel(RecordingModel):
    """Writes the user's block with ``memory_set_block`` when told to remember something."""

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelChunk]:
        last = request.messages[-1]
        if last.role is Role.USER and last.content.startswith("remember "):
            self.requests.append(request)
            value = last.content.removeprefix("remember ")
            call = ToolCall(f"call_{len(self.requests)}", "memory_set_block",
                            {"label": "user", "value": value})  # fmt: skip
            yield ModelResult("", (call,), "tool_calls")
            return
        async for chunk in super().stream(request):
            yield chunk


async def test_a_block_written_by_the_tool_reaches_the_next_turn_of_its_user_only(
    tmp_path: Path,
) -> None:
    model = RememberingModel()
    accept = GuardSettings(permissions=PermissionPolicy.from_config("accept_edits"))
    brain = open_brain(settings_for(tmp_path, guard=accept), model)
    alice, bob = "telegram:111", "telegram:222"
    try:
        await events_of(brain, group_turn("hello", alice))  # blocks read (and cached) empty
        await events_of(brain, group_turn("remember Alice takes the 7:40 train.", alice))
        await events_of(brain, group_turn("when is my train?", alice))
        await events_of(brain, group_turn("when is Alice's train?", bob))
        await events_of(brain, group_turn("remember Alice takes the 8:10 train now.", alice))
        await events_of(brain, group_turn("and now?", alice))
    finally:
        await brain.aclose()
    systems = {r.messages[-1].content: r.messages[0].content for r in model.requests}
    assert "7:40" not in systems["hello"]
    assert "Alice takes the 7:40 train." in systems["when is my train?"]
    assert "train" not in systems["when is Alice's train?"]
    assert "Alice takes the 8:10 train now." in systems["and now?"]
    assert "7:40" not in systems["and now?"]
