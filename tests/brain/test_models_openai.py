"""The OpenAI-compatible provider, through the real ``openai`` SDK against a loopback fake."""

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
    TextChunk,
    ToolCall,
    ToolDef,
)
from brain.models.base import ModelChunk
from brain.models.openai_compat import OpenAIProvider, retry_after_seconds
from tests.fakes.openai_server import FakeOpenAI

CALC = ToolDef(
    "calculator__evaluate",
    "Evaluate an arithmetic expression",
    {
        "type": "object",
        "properties": {"expression": {"type": "string"}},
        "required": ["expression"],
    },
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def provider(fake: FakeOpenAI) -> AsyncIterator[OpenAIProvider]:
    provider = OpenAIProvider(
        "fake-model", base_url=fake.base_url, api_key="sk-test", max_retries=0
    )
    yield provider
    await provider.aclose()


async def collect(provider: OpenAIProvider, request: ModelRequest) -> list[ModelChunk]:
    return [chunk async for chunk in provider.stream(request)]


def ask(text: str, *extra: Message, tools: tuple[ToolDef, ...] = ()) -> ModelRequest:
    messages = (Message(Role.SYSTEM, "sys"), Message(Role.USER, text), *extra)
    return ModelRequest(messages, tools, "auto" if tools else "none")


async def test_streamed_text(fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    fake.reply("Hel", "lo", " there")
    chunks = await collect(provider, ask("hi"))
    assert chunks == [
        TextChunk("Hel"),
        TextChunk("lo"),
        TextChunk(" there"),
        ModelResult("Hello there"),
    ]
    sent = fake.requests[0]
    assert sent["model"] == "fake-model"
    assert sent["stream"] is True
    assert sent["messages"] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "hi"},
    ]
    assert "tools" not in sent
    assert fake.headers[0]["authorization"] == "Bearer sk-test"


async def test_streamed_tool_call_is_assembled(fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    fake.tool_call("calculator__evaluate", '{"expr', 'ession": "2*', '(3+4)"}', call_id="call_9")
    chunks = await collect(provider, ask("2*(3+4)?", tools=(CALC,)))
    call = ToolCall("call_9", "calculator__evaluate", {"expression": "2*(3+4)"})
    assert chunks == [ModelResult("", (call,), "tool_calls")]
    sent = fake.requests[0]
    assert sent["tool_choice"] == "auto"
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": CALC.name,
                "description": CALC.description,
                "parameters": CALC.parameters,
            },
        }
    ]


async def test_tool_results_go_back_in_openai_shape(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.reply("It is 14.")
    call = ToolCall("call_9", "calculator__evaluate", {"expression": "2*(3+4)"})
    request = ask(
        "2*(3+4)?",
        Message(Role.ASSISTANT, "", (call,)),
        Message(Role.TOOL, '{"text": "14"}', tool_call_id="call_9"),
        tools=(CALC,),
    )
    assert (await collect(provider, request))[-1] == ModelResult("It is 14.")
    messages = fake.requests[0]["messages"]
    assert messages[2] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_9",
                "type": "function",
                "function": {
                    "name": "calculator__evaluate",
                    "arguments": '{"expression":"2*(3+4)"}',
                },
            }
        ],
    }
    assert messages[3] == {"role": "tool", "content": '{"text": "14"}', "tool_call_id": "call_9"}


async def test_forced_tool_choice_and_max_tokens(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.tool_call("calculator__evaluate", '{"expression": "1"}')
    request = ModelRequest(
        (Message(Role.USER, "one"),), (CALC,), ForceTool(CALC.name), max_tokens=64
    )
    await collect(provider, request)
    sent = fake.requests[0]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": CALC.name}}
    assert sent["max_tokens"] == 64


async def test_rate_limit_is_translated_with_retry_after(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.error(429, "Rate limit reached", headers={"retry-after": "7"})
    with pytest.raises(RateLimitedError) as info:
        await collect(provider, ask("hi"))
    assert info.value.retryable
    assert info.value.retry_after == 7.0
    assert "Rate limit reached" in str(info.value)
    assert "retry after 7s" in str(info.value)


async def test_the_sdk_retries_a_rate_limit_itself(fake: FakeOpenAI) -> None:
    fake.error(429, "slow down", headers={"retry-after-ms": "1"})
    fake.reply("ok")
    provider = OpenAIProvider("fake-model", base_url=fake.base_url, api_key="k", max_retries=1)
    try:
        assert (await collect(provider, ask("hi")))[-1] == ModelResult("ok")
    finally:
        await provider.aclose()
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    ("status", "error", "retryable"),
    [
        (401, ModelUnavailableError, False),
        (404, ModelUnavailableError, False),
        (400, ModelResponseError, False),
        (500, ModelResponseError, True),
    ],
)
async def test_http_errors_are_translated(
    fake: FakeOpenAI, provider: OpenAIProvider, status: int, error: type[Exception], retryable: bool
) -> None:
    fake.error(status, f"failure {status}")
    with pytest.raises(error, match=f"HTTP {status}: failure {status}") as info:
        await collect(provider, ask("hi"))
    assert info.value.retryable is retryable  # type: ignore[attr-defined]


async def test_unreachable_server_is_unavailable() -> None:
    async with FakeOpenAI() as server:
        base_url = server.base_url
    provider = OpenAIProvider("m", base_url=base_url, api_key="k", max_retries=0)
    try:
        with pytest.raises(ModelUnavailableError, match="cannot reach") as info:
            await collect(provider, ask("hi"))
    finally:
        await provider.aclose()
    assert info.value.retryable


async def test_malformed_tool_arguments_are_a_model_error(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.tool_call("calculator__evaluate", '{"expression": ')
    with pytest.raises(ModelResponseError, match="not valid JSON"):
        await collect(provider, ask("x", tools=(CALC,)))


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert (
        retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0)
        == 10.0
    )
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_arguments_round_trip_as_compact_json() -> None:
    from brain.models.wire import openai_messages

    call = ToolCall("c", "t", {"a": [1, "é"]})
    (message,) = openai_messages((Message(Role.ASSISTANT, "x", (call,)),))
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {"a": [1, "é"]}  # type: ignore[index,typeddict-item]
