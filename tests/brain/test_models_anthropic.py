"""The Anthropic-compatible provider, through the real ``anthropic`` SDK against a loopback fake."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from brain.errors import ModelResponseError, ModelUnavailableError, RateLimitedError
from brain.models import (
    ForceTool,
    Message,
    ModelRequest,
    ModelResult,
    Role,
    Sampling,
    TextChunk,
    ToolCall,
)
from brain.models.anthropic_compat import AnthropicProvider
from brain.models.presets import Overrides, resolve
from brain.models.retry import RetryingProvider, RetryPolicy
from tests.fakes.anthropic_server import FakeAnthropic, signature_of
from tests.fakes.chain import CHAIN_TOOLS, FINAL_TEXT, REASONING, collect, run_chain, script_chain

CALC = CHAIN_TOOLS[0]


@pytest.fixture
async def fake() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic(api_key="ak-test") as server:
        yield server


@pytest.fixture
async def provider(fake: FakeAnthropic) -> AsyncIterator[AnthropicProvider]:
    env = {"ANTHROPIC_API_KEY": "ak-test", "ANTHROPIC_BASE_URL": fake.base_url}
    provider = AnthropicProvider(resolve("anthropic:fake-claude", env))
    yield provider
    await provider.aclose()


def ask(text: str, *extra: Message) -> ModelRequest:
    return ModelRequest((Message(Role.SYSTEM, "sys"), Message(Role.USER, text), *extra))


async def test_streamed_reply(fake: FakeAnthropic, provider: AnthropicProvider) -> None:
    fake.reply("Hel", "lo", " there")
    chunks = await collect(provider, ask("hi"))
    assert chunks[:-1] == [TextChunk("Hel"), TextChunk("lo"), TextChunk(" there")]
    result = chunks[-1]
    assert isinstance(result, ModelResult)
    assert (result.text, result.finish_reason) == ("Hello there", "stop")
    assert result.usage is not None and (
        result.usage.prompt_tokens,
        result.usage.completion_tokens,
    ) == (11, 7)
    assert result.native is not None and result.native.producer == "anthropic:fake-claude"
    assert json.loads(result.native.body) == [{"type": "text", "text": "Hello there"}]
    sent = fake.requests[0]
    assert sent == {
        "model": "fake-claude",
        "max_tokens": 4096,
        "system": "sys",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
    }
    headers = fake.headers[0]
    assert "ak-test" in (headers.get("x-api-key"), headers.get("authorization", "")[7:])


async def test_a_three_step_tool_chain_replays_thinking(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    script_chain(fake)
    messages, streams = await run_chain(provider)
    results = [s[-1] for s in streams]
    assert [r.tool_calls for r in results] == [  # type: ignore[union-attr]
        (ToolCall("call_calc_1", "calc__evaluate", {"expression": "2*(3+4)"}),),
        (ToolCall("call_clock_2", "clock__now", {"city": "Paris"}),),
        (),
    ]
    assert messages[-1].content == FINAL_TEXT
    # The fake refuses (400) a tool_use message whose thinking did not come back intact,
    # so reaching the third step proves the replay; check the bytes too.
    third = fake.requests[2]["messages"]
    thinking = third[1]["content"][0]
    assert thinking == {
        "type": "thinking",
        "thinking": "".join(REASONING[0]),
        "signature": signature_of("".join(REASONING[0])),
    }
    assert third[2] == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "call_calc_1", "content": '{"value":14}'}
        ],
    }
    assert fake.requests[2]["tool_choice"] == {"type": "auto"}
    assert fake.requests[2]["tools"][0] == {
        "name": "calc__evaluate",
        "description": CALC.description,
        "input_schema": dict(CALC.parameters),
    }


async def test_thinking_never_reaches_the_text(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    fake.reply("Four.", reasoning=("2+2 is", " 4"))
    chunks = await collect(provider, ask("2+2?"))
    assert "".join(c.text for c in chunks if isinstance(c, TextChunk)) == "Four."


async def test_a_message_from_another_provider_is_sent_canonically(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    from brain.models import NativePayload

    fake.reply("ok")
    call = ToolCall("c1", "calc__evaluate", {"expression": "1"})
    foreign = NativePayload("minimax:MiniMax-M2.7", '{"role": "assistant", "content": "<think>x"}')
    history = (
        Message(Role.ASSISTANT, "Let me see.", (call,), native=foreign),
        Message(Role.TOOL, "1", tool_call_id="c1"),
        Message(Role.TOOL, "again", tool_call_id="c1"),
    )
    await collect(provider, ModelRequest((Message(Role.USER, "1?"), *history), CHAIN_TOOLS))
    assistant, results = fake.requests[0]["messages"][1:]
    assert assistant["content"] == [
        {"type": "text", "text": "Let me see."},
        {"type": "tool_use", "id": "c1", "name": "calc__evaluate", "input": {"expression": "1"}},
    ]
    assert [b["content"] for b in results["content"]] == ["1", "again"]  # one user message


async def test_forced_tool_and_sampling(fake: FakeAnthropic, provider: AnthropicProvider) -> None:
    fake.tool_call("calc__evaluate", '{"expression": "1"}', call_id="toolu_1")
    sampling = Sampling(temperature=1.7, top_k=40, presence_penalty=1.0)
    request = ModelRequest(
        (Message(Role.USER, "one"),), (CALC,), ForceTool(CALC.name), 64, sampling=sampling
    )
    await collect(provider, request)
    sent = fake.requests[0]
    assert sent["tool_choice"] == {"type": "tool", "name": "calc__evaluate"}
    assert (sent["max_tokens"], sent["temperature"], sent["top_k"]) == (64, 1.0, 40)
    assert "presence_penalty" not in sent


async def test_recovers_from_a_429(fake: FakeAnthropic, provider: AnthropicProvider) -> None:
    fake.error(
        429, "Number of request tokens has exceeded your rate limit", headers={"retry-after": "2"}
    )
    fake.reply("ok")
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    retrying = RetryingProvider(provider, RetryPolicy(), sleep=sleep)
    assert (await collect(retrying, ask("hi")))[-1].text == "ok"  # type: ignore[union-attr]
    assert slept == [2.0]


async def test_an_overload_mid_stream_is_retried(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    fake.error(529, "Overloaded", mid_stream=True)
    fake.reply("ok")
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    retrying = RetryingProvider(
        provider, RetryPolicy(base_delay_s=1.0), sleep=sleep, rand=lambda: 0.5
    )
    assert (await collect(retrying, ask("hi")))[-1].text == "ok"  # type: ignore[union-attr]
    assert slept == [0.75]  # equal jitter: half of 1 s fixed, plus half of it times 0.5


@pytest.mark.parametrize(
    ("status", "error", "retryable"),
    [
        (401, ModelUnavailableError, False),
        (403, ModelUnavailableError, False),
        (400, ModelResponseError, False),
        (500, ModelResponseError, True),
        (529, ModelResponseError, True),
    ],
)
async def test_http_errors_are_translated(
    fake: FakeAnthropic,
    provider: AnthropicProvider,
    status: int,
    error: type[Exception],
    retryable: bool,
) -> None:
    fake.error(status, f"failure {status}")
    with pytest.raises(error, match=f"HTTP {status}: failure {status}") as info:
        await collect(provider, ask("hi"))
    assert info.value.retryable is retryable  # type: ignore[attr-defined]
    assert info.value.provider == "anthropic:fake-claude"  # type: ignore[attr-defined]


async def test_rate_limit_carries_retry_after(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    fake.error(429, "slow down", headers={"retry-after": "30"})
    with pytest.raises(RateLimitedError) as info:
        await collect(provider, ask("hi"))
    assert info.value.retry_after == 30.0


async def test_a_wrong_key_is_unavailable(fake: FakeAnthropic) -> None:
    config = resolve(
        "anthropic:fake-claude", {"ANTHROPIC_API_KEY": "wrong"}, Overrides(base_url=fake.base_url)
    )
    provider = AnthropicProvider(config)
    try:
        with pytest.raises(ModelUnavailableError, match="HTTP 401"):
            await collect(provider, ask("hi"))
    finally:
        await provider.aclose()


async def test_malformed_tool_input_is_a_model_error(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    fake.tool_call("calc__evaluate", '{"expression": ', call_id="toolu_1")
    with pytest.raises(ModelResponseError, match="not valid JSON"):
        await collect(provider, ModelRequest((Message(Role.USER, "x"),), (CALC,)))


async def test_probe_lists_models(provider: AnthropicProvider) -> None:
    assert await provider.probe(2.0) == "1 models listed"
