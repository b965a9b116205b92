"""Whole turns with ``openai:MODEL`` against the loopback fake: SDK, tools, history, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from brain import Brain
from gateway.events import ToolActivity, ToolPhase, TurnFailed
from tests.brain.conftest import final_text, run, settings_for
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


async def open_brain(tmp_path: Path, fake: FakeOpenAI, skill_dir: Path | None = None) -> Brain:
    settings = settings_for(
        tmp_path,
        skill_dir,
        model="openai:fake-model",
        openai_base_url=fake.base_url,
        openai_api_key="sk-test",
        openai_max_retries=0,
        system_prompt="Be brief.",
    )
    return await Brain.open(settings)


async def test_tool_turn_sends_tools_and_the_tool_result(
    tmp_path: Path, skill_dir: Path, fake: FakeOpenAI
) -> None:
    fake.tool_call("calc__evaluate", '{"expres', 'sion": "2*(3', '+4)"}', call_id="call_1")
    fake.reply("It is ", "14.")
    brain = await open_brain(tmp_path, fake, skill_dir)
    try:
        events = await run(brain, "what is 2*(3+4)?")
    finally:
        await brain.aclose()
    assert final_text(events) == "It is 14."
    phases = [e.phase for e in events if isinstance(e, ToolActivity)]
    assert phases == [ToolPhase.START, ToolPhase.END]

    first, second = fake.requests
    tools = {t["function"]["name"]: t["function"] for t in first["tools"]}
    assert {"read_file", "run_python", "activate_skill"} <= set(tools)  # built-ins, always
    assert "calc__evaluate" in tools  # the skill tool that matches the question
    calc = tools["calc__evaluate"]
    assert calc["parameters"]["required"] == ["expression"]
    assert first["tool_choice"] == "auto"
    assert second["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "what is 2*(3+4)?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "calc__evaluate", "arguments": '{"expression":"2*(3+4)"}'},
                }
            ],
        },
        {"role": "tool", "content": '{"value":14,"text":"14"}', "tool_call_id": "call_1"},
    ]


async def test_history_is_sent_after_a_restart(tmp_path: Path, fake: FakeOpenAI) -> None:
    fake.reply("Hi Ann.")
    fake.reply("Your name is Ann.")
    brain = await open_brain(tmp_path, fake)
    await run(brain, "My name is Ann.")
    await brain.aclose()
    brain = await open_brain(tmp_path, fake)
    try:
        assert final_text(await run(brain, "What is my name?")) == "Your name is Ann."
    finally:
        await brain.aclose()
    assert [m["content"] for m in fake.requests[1]["messages"]] == [
        "Be brief.",
        "My name is Ann.",
        "Hi Ann.",
        "What is my name?",
    ]
    offered = {t["function"]["name"] for t in fake.requests[1]["tools"]}
    assert "calc__evaluate" not in offered  # no skills are installed in this brain


async def test_rate_limit_fails_the_turn_as_retryable(tmp_path: Path, fake: FakeOpenAI) -> None:
    fake.error(429, "Rate limit reached", headers={"retry-after": "20"})
    brain = await open_brain(tmp_path, fake)
    try:
        events = await run(brain, "hi")
        history = brain._transcript.recent("conv-1", 10)
    finally:
        await brain.aclose()
    failed = events[-1]
    assert isinstance(failed, TurnFailed)
    assert (failed.code, failed.retryable) == ("model_error", True)
    assert "retry after 20s" in failed.message
    assert history == ()


async def test_auth_failure_is_model_unavailable(tmp_path: Path, fake: FakeOpenAI) -> None:
    fake.error(401, "Incorrect API key provided")
    brain = await open_brain(tmp_path, fake)
    try:
        events = await run(brain, "hi")
    finally:
        await brain.aclose()
    assert isinstance(events[-1], TurnFailed)
    assert (events[-1].code, events[-1].retryable) == ("model_unavailable", False)
