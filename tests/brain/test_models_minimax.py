"""MiniMax over both of its endpoints, through the real SDKs against MiniMax-mode fakes.

The fakes refuse (400) what MiniMax refuses, so a passing call shows the
request was fitted: temperature in (0, 1], tool_choice only none/auto, one
system message, first.  The replay test checks the rule MiniMax's docs stress
for interleaved thinking: every later request carries every earlier assistant
message of the chain, reasoning included, byte for byte, also across turns
through the SQLite transcript.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from brain.models import (
    ForceTool,
    Message,
    ModelProvider,
    ModelRequest,
    ModelResult,
    Role,
    Sampling,
    TextChunk,
)
from brain.models.anthropic_compat import AnthropicProvider
from brain.models.openai_compat import OpenAIProvider
from brain.models.presets import Overrides, ProviderConfig, resolve
from brain.transcript import Transcript
from tests.fakes.anthropic_server import FakeAnthropic, signature_of
from tests.fakes.chain import CHAIN_TOOLS, REASONING, collect, run_chain, script_chain
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.script import AnswerQueue

ENV = {"MINIMAX_API_KEY": "mm-test"}
Fake = FakeOpenAI | FakeAnthropic


def minimax_config(spec: str, base_url: str, *, split: bool = True) -> ProviderConfig:
    config = resolve(spec, ENV, Overrides(base_url=base_url))
    if not split:  # the endpoint's default: <think> inside content
        config = dataclasses.replace(
            config, preset=dataclasses.replace(config.preset, extra_body={})
        )
    return config


@dataclasses.dataclass(frozen=True)
class Endpoint:
    name: str
    fake: Callable[[], AbstractAsyncContextManager[Any]]
    open: Callable[[str], ModelProvider]


ENDPOINTS = [
    Endpoint(
        "openai-reasoning-split",
        lambda: FakeOpenAI("MiniMax-M2.7", minimax=True),
        lambda url: OpenAIProvider(minimax_config("minimax", url)),
    ),
    Endpoint(
        "openai-think-in-content",
        lambda: FakeOpenAI("MiniMax-M2.7", minimax=True),
        lambda url: OpenAIProvider(minimax_config("minimax", url, split=False)),
    ),
    Endpoint(
        "anthropic",
        lambda: FakeAnthropic("MiniMax-M2.7", minimax=True),
        lambda url: AnthropicProvider(minimax_config("minimax-anthropic", url)),
    ),
]


@pytest.fixture(params=ENDPOINTS, ids=lambda e: e.name)
async def endpoint(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Fake, ModelProvider]]:
    spec: Endpoint = request.param
    async with spec.fake() as fake:
        provider = spec.open(fake.base_url)
        try:
            yield fake, provider
        finally:
            await provider.aclose()


def ask(*messages: Message, sampling: Sampling | None = None, **kwargs: Any) -> ModelRequest:
    return ModelRequest(messages, sampling=sampling or Sampling(), **kwargs)


async def test_preset_defaults_are_the_recommended_sampling(
    endpoint: tuple[Fake, ModelProvider],
) -> None:
    fake, provider = endpoint
    fake.reply("hi")
    await collect(provider, ask(Message(Role.USER, "hi")))
    sent = fake.requests[0]
    assert sent["model"] == "MiniMax-M2.7"
    assert (sent["temperature"], sent["top_p"]) == (1.0, 0.95)
    if isinstance(fake, FakeOpenAI):
        assert sent["top_k"] == 40
    else:
        assert "top_k" not in sent  # the Anthropic endpoint ignores it: never sent


async def test_out_of_range_values_are_fitted_and_logged_once(
    endpoint: tuple[Fake, ModelProvider], caplog: pytest.LogCaptureFixture
) -> None:
    fake, provider = endpoint
    fake.tool_call("calc__evaluate", '{"expression": "1"}', call_id="c1")
    fake.tool_call("calc__evaluate", '{"expression": "1"}', call_id="c2")
    request = ask(
        Message(Role.SYSTEM, "Be brief."),
        Message(Role.SYSTEM, "Use tools."),
        Message(Role.USER, "1?"),
        Message(Role.SYSTEM, "Mind the budget."),
        sampling=Sampling(temperature=0.0, top_p=1.5, top_k=50, frequency_penalty=0.5),
        tools=CHAIN_TOOLS,
        tool_choice=ForceTool("calc__evaluate"),
    )
    with caplog.at_level(logging.INFO, logger="brain.models.fit"):
        await collect(provider, request)  # the fake answers 400 to anything MiniMax refuses
        await collect(provider, request)
    sent = fake.requests[0]
    assert (sent["temperature"], sent["top_p"]) == (0.01, 1.0)
    assert "frequency_penalty" not in sent
    if isinstance(fake, FakeOpenAI):
        assert sent["tool_choice"] == "auto"
        assert sent["top_k"] == 50
        assert [m["role"] for m in sent["messages"]] == ["system", "user", "user"]
        assert sent["messages"][0]["content"] == "Be brief.\n\nUse tools."
        assert sent["messages"][2]["content"] == "[system note]\nMind the budget."
    else:
        assert sent["tool_choice"] == {"type": "auto"}
        assert "top_k" not in sent
        assert sent["system"] == "Be brief.\n\nUse tools."
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == len(set(said)) >= 4  # each adjustment once, not once per call
    assert any("temperature (0 -> 0.01" in line for line in said)


async def test_think_text_is_never_shown(endpoint: tuple[Fake, ModelProvider]) -> None:
    fake, provider = endpoint
    fake.reply("Hello", " there.", reasoning=("The user greets me.", " Greet back."))
    chunks = await collect(provider, ask(Message(Role.USER, "hi")))
    shown = "".join(c.text for c in chunks if isinstance(c, TextChunk))
    result = chunks[-1]
    assert isinstance(result, ModelResult)
    assert shown == result.text == "Hello there."
    assert result.native is not None and "The user greets me. Greet back." in result.native.body


def reasoning_sent(request: dict[str, Any]) -> list[str]:
    """Every earlier assistant message's reasoning found in ``request``, in order."""
    found: list[str] = []
    for message in request["messages"]:
        if message["role"] != "assistant":
            continue
        content = message.get("content")
        if isinstance(content, list):  # Anthropic blocks: thinking with its own signature
            found += [
                b["thinking"]
                for b in content
                if b["type"] == "thinking" and b["signature"] == signature_of(b["thinking"])
            ]
        elif message.get("reasoning_details"):
            found += [d["text"] for d in message["reasoning_details"]]
        elif isinstance(content, str) and content.startswith("<think>\n"):
            found.append(content[len("<think>\n") : content.index("\n</think>")])
    return found


async def test_replay_carries_every_earlier_reasoning(
    endpoint: tuple[Fake, ModelProvider], tmp_path: Path
) -> None:
    fake, provider = endpoint
    issued = ["".join(parts) for parts in REASONING]
    script_chain(fake)
    first_turn, _ = await run_chain(provider)
    store = Transcript.open(tmp_path / "state.db")
    try:
        store.append("c", first_turn[1:], now=1.0)  # the system prompt is not history
        history = store.recent("c", 50)
    finally:
        store.close()
    assert history == tuple(first_turn[1:])  # native payloads survive SQLite unchanged
    script_chain(fake)
    await run_chain(provider, history)

    expected = [[], issued[:1], issued[:2], issued, [*issued, *issued[:1]], [*issued, *issued[:2]]]
    carried = [reasoning_sent(r) for r in fake.requests]
    checked = sum(len(e) for e in expected)
    assert checked == 15
    assert carried == expected  # 15 of 15 earlier reasoning texts present, in order: 100%


async def test_assistant_messages_go_back_byte_for_byte(
    endpoint: tuple[Fake, ModelProvider],
) -> None:
    fake, provider = endpoint
    script_chain(fake)
    messages, _ = await run_chain(provider)
    natives = [m.native for m in messages if m.role is Role.ASSISTANT]
    sent = [m for m in fake.requests[2]["messages"] if m["role"] == "assistant"]
    assert all(n is not None for n in natives)
    for native, message in zip(natives, sent, strict=False):
        assert native is not None
        body = json.loads(native.body)
        assert (message["content"] if isinstance(body, list) else message) == body


async def test_a_foreign_native_payload_is_ignored() -> None:
    from brain.models import NativePayload, ToolCall

    async with FakeOpenAI("MiniMax-M2.7", minimax=True) as fake:
        provider = OpenAIProvider(minimax_config("minimax", fake.base_url))
        fake.reply("ok")
        call = ToolCall("t1", "calc__evaluate", {"expression": "1"})
        foreign = NativePayload("anthropic:claude", '[{"type": "thinking"}]')
        try:
            await collect(
                provider,
                ask(
                    Message(Role.USER, "1?"),
                    Message(Role.ASSISTANT, "", (call,), native=foreign),
                    Message(Role.TOOL, "1", tool_call_id="t1"),
                    tools=CHAIN_TOOLS,
                ),
            )
        finally:
            await provider.aclose()
    assert fake.requests[0]["messages"][1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "t1",
                "type": "function",
                "function": {"name": "calc__evaluate", "arguments": '{"expression":"1"}'},
            }
        ],
    }


def test_fakes_share_one_scripting_vocabulary() -> None:
    assert issubclass(FakeOpenAI, AnswerQueue) and issubclass(FakeAnthropic, AnswerQueue)
