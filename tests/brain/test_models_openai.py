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
    Sampling,
    TextChunk,
    ToolCall,
    ToolDef,
)
from brain.models._errors import retry_after_seconds
from brain.models.openai_compat import OpenAIProvider
from brain.models.presets import Overrides, resolve
from brain.models.retry import RetryingProvider, RetryPolicy
from tests.fakes.chain import FINAL_TEXT, collect, run_chain, script_chain
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


def open_provider(spec: str, base_url: str, **overrides: object) -> OpenAIProvider:
    env = {"OPENAI_API_KEY": "sk-test", "MINIMAX_API_KEY": "mm-test"}
    return OpenAIProvider(resolve(spec, env, Overrides(base_url=base_url, **overrides)))  # type: ignore[arg-type]


@pytest.fixture
async def provider(fake: FakeOpenAI) -> AsyncIterator[OpenAIProvider]:
    provider = open_provider("openai:fake-model", fake.base_url)
    yield provider
    await provider.aclose()


def ask(text: str, *extra: Message, tools: tuple[ToolDef, ...] = ()) -> ModelRequest:
    messages = (Message(Role.SYSTEM, "sys"), Message(Role.USER, text), *extra)
    return ModelRequest(messages, tools, "auto" if tools else "none")


async def test_streamed_text(fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    fake.reply("Hel", "lo", " there")
    chunks = await collect(provider, ask("hi"))
    assert chunks[:-1] == [TextChunk("Hel"), TextChunk("lo"), TextChunk(" there")]
    result = chunks[-1]
    assert isinstance(result, ModelResult)
    assert (result.text, result.tool_calls, result.native) == ("Hello there", (), None)
    assert result.usage is not None and result.usage.completion_tokens == 7
    sent = fake.requests[0]
    assert sent["model"] == "fake-model"
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
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
    assert len(chunks) == 1
    assert isinstance(chunks[0], ModelResult)
    assert (chunks[0].tool_calls, chunks[0].finish_reason) == ((call,), "tool_calls")
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
    assert (await collect(provider, request))[-1].text == "It is 14."  # type: ignore[union-attr]
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


async def test_a_three_step_tool_chain(fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    script_chain(fake, reasoning=False)
    messages, streams = await run_chain(provider)
    assert [len(s[-1].tool_calls) for s in streams] == [1, 1, 0]  # type: ignore[union-attr]
    assert messages[-1] == Message(Role.ASSISTANT, FINAL_TEXT)
    assert [m["role"] for m in fake.requests[2]["messages"]] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
    ]


async def test_forced_tool_choice_max_tokens_and_sampling(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.tool_call("calculator__evaluate", '{"expression": "1"}')
    sampling = Sampling(temperature=0.2, top_p=0.5, top_k=5, frequency_penalty=3.0)
    request = ModelRequest(
        (Message(Role.USER, "one"),), (CALC,), ForceTool(CALC.name), 64, sampling=sampling
    )
    await collect(provider, request)
    sent = fake.requests[0]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": CALC.name}}
    assert sent["max_tokens"] == 64
    assert (sent["temperature"], sent["top_p"], sent["frequency_penalty"]) == (0.2, 0.5, 2.0)
    assert "top_k" not in sent  # OpenAI has no top_k: dropped
    assert "presence_penalty" not in sent


async def test_json_mode_is_sent_where_supported(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.reply("{}")
    await collect(provider, ModelRequest((Message(Role.USER, "json"),), response_format="json"))
    assert fake.requests[0]["response_format"] == {"type": "json_object"}


async def test_think_tags_never_reach_the_text_but_go_back_verbatim() -> None:
    async with FakeOpenAI("llama3.2") as fake:
        provider = open_provider("ollama:llama3.2", fake.base_url)
        fake.reply("The answer", " is 4.", reasoning=("2+2", " is 4"))
        fake.reply("ok")
        try:
            chunks = await collect(provider, ask("2+2?"))
            result = chunks[-1]
            assert isinstance(result, ModelResult)
            again = ask("2+2?", result.message(), Message(Role.USER, "thanks"))
            await collect(provider, again)
        finally:
            await provider.aclose()
    shown = "".join(c.text for c in chunks if isinstance(c, TextChunk))
    assert shown == result.text == "The answer is 4."
    assert "Authorization" not in fake.headers[0] and "authorization" in fake.headers[0]
    replayed = fake.requests[1]["messages"][2]
    assert replayed == {
        "role": "assistant",
        "content": "<think>\n2+2 is 4\n</think>\n\nThe answer is 4.",
    }


async def test_rate_limit_is_translated_with_retry_after(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.error(429, "Rate limit reached", headers={"retry-after": "7"})
    with pytest.raises(RateLimitedError) as info:
        await collect(provider, ask("hi"))
    assert info.value.retryable
    assert (info.value.retry_after, info.value.status) == (7.0, 429)
    assert info.value.provider == "openai:fake-model"
    assert "Rate limit reached" in str(info.value)
    assert "retry after 7s" in str(info.value)


async def test_recovers_from_a_429_honouring_retry_after(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.error(429, "slow down", headers={"retry-after": "3"})
    fake.reply("ok")
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    retrying = RetryingProvider(provider, RetryPolicy(max_retries=2), sleep=sleep)
    assert (await collect(retrying, ask("hi")))[-1].text == "ok"  # type: ignore[union-attr]
    assert slept == [3.0]
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    ("status", "error", "retryable"),
    [
        (401, ModelUnavailableError, False),
        (404, ModelUnavailableError, False),
        (400, ModelResponseError, False),
        (500, ModelResponseError, True),
        (503, ModelResponseError, True),
    ],
)
async def test_http_errors_are_translated(
    fake: FakeOpenAI, provider: OpenAIProvider, status: int, error: type[Exception], retryable: bool
) -> None:
    fake.error(status, f"failure {status}")
    with pytest.raises(error, match=f"HTTP {status}: failure {status}") as info:
        await collect(provider, ask("hi"))
    assert info.value.retryable is retryable  # type: ignore[attr-defined]
    assert info.value.status == status  # type: ignore[attr-defined]


async def test_unreachable_server_is_unavailable() -> None:
    async with FakeOpenAI() as server:
        base_url = server.base_url
    provider = open_provider("openai:m", base_url)
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


async def test_probe_lists_models(fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    assert await provider.probe(2.0) == "1 models listed"


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert (
        retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0)
        == 10.0
    )
    for hostile in ("soon", "nan", "inf", "-5e999", ""):
        assert retry_after_seconds({"retry-after": hostile}) in (None, 0.0)
    assert retry_after_seconds({"retry-after": "-3"}) == 0.0
    assert retry_after_seconds({}) is None


def test_arguments_round_trip_as_compact_json() -> None:
    from brain.models.wire import openai_messages

    call = ToolCall("c", "t", {"a": [1, "é"]})
    (message,) = openai_messages((Message(Role.ASSISTANT, "x", (call,)),))
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {"a": [1, "é"]}  # type: ignore[index,typeddict-item]
