"""Whole turns through ``Brain`` with MiniMax on both endpoints: the reasoning a tool chain
produced goes back on every later call, across turns and a restart, and never to the user."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from brain import Brain
from gateway.events import TextDelta
from tests.brain.conftest import final_text, run, settings_for
from tests.brain.test_models_minimax import reasoning_sent
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.openai_server import FakeOpenAI

THOUGHT_1 = "The user wants arithmetic: call the calculator."
THOUGHT_2 = "The tool said 14."
THOUGHT_3 = "A greeting: answer in kind."


async def open_brain(tmp_path: Path, spec: str, url: str, skill_dir: Path) -> Brain:
    settings = settings_for(
        tmp_path,
        skill_dir,
        model=spec,
        openai_base_url=url,
        openai_max_retries=0,
        model_env={"MINIMAX_API_KEY": "mm-test"},
    )
    return await Brain.open(settings)


@pytest.mark.parametrize(
    ("spec", "make_fake"),
    [
        ("minimax", lambda: FakeOpenAI("MiniMax-M2.7", minimax=True)),
        ("minimax-anthropic", lambda: FakeAnthropic("MiniMax-M2.7", minimax=True)),
    ],
    ids=["openai-endpoint", "anthropic-endpoint"],
)
async def test_reasoning_is_replayed_across_turns_and_never_shown(
    tmp_path: Path, skill_dir: Path, spec: str, make_fake: Callable[[], Any]
) -> None:
    async with make_fake() as fake:
        fake.tool_call(
            "calc__evaluate", '{"expression": "2*(3+4)"}', call_id="c1", reasoning=(THOUGHT_1,)
        )
        fake.reply("It is ", "14.", reasoning=(THOUGHT_2,))
        fake.reply("Hello!", reasoning=(THOUGHT_3,))
        brain = await open_brain(tmp_path, spec, fake.base_url, skill_dir)
        try:
            first = await run(brain, "what is 2*(3+4)?")
        finally:
            await brain.aclose()
        brain = await open_brain(tmp_path, spec, fake.base_url, skill_dir)  # a restart
        try:
            second = await run(brain, "hi")
        finally:
            await brain.aclose()
    assert final_text(first) == "It is 14."
    assert final_text(second) == "Hello!"
    shown = "".join(e.text for e in [*first, *second] if isinstance(e, TextDelta))
    assert not any(t in shown for t in (THOUGHT_1, THOUGHT_2, THOUGHT_3, "<think>"))
    assert [reasoning_sent(r) for r in fake.requests] == [
        [],
        [THOUGHT_1],
        [THOUGHT_1, THOUGHT_2],
    ]
