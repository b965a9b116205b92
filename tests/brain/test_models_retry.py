"""Retries with backoff (injected sleep, no waiting) and the fallback chain."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from pathlib import Path

import pytest

from brain.errors import (
    FallbackExhaustedError,
    ModelError,
    ModelResponseError,
    ModelTimeoutError,
    ModelUnavailableError,
    RateLimitedError,
)
from brain.models import (
    Capabilities,
    Message,
    ModelChunk,
    ModelRequest,
    ModelResult,
    Role,
    TextChunk,
    open_provider,
)
from brain.models.fallback import FallbackProvider
from brain.models.retry import RetryingProvider, RetryPolicy
from brain.settings import BrainSettings
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.chain import collect
from tests.fakes.openai_server import FakeOpenAI

REQUEST = ModelRequest((Message(Role.USER, "hi"),))
Step = ModelError | list[ModelChunk]


class Flaky:
    """A provider that plays one step per call: raise an error, or stream chunks
    (an error inside the list is raised after the chunks before it)."""

    def __init__(self, name: str, *steps: Step) -> None:
        self.name = name
        self.steps = list(steps)
        self.calls = 0
        self.closed = False

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(chooses_tools=True, streams=True, context_window=1000)

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ModelChunk, None]:
        self.calls += 1
        step = self.steps.pop(0)
        if isinstance(step, ModelError):
            raise step
        for chunk in step:
            if isinstance(chunk, ModelError):
                raise chunk
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


def ok(text: str = "ok") -> list[ModelChunk]:
    return [TextChunk(text), ModelResult(text)]


class Sleeps:
    def __init__(self) -> None:
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.mark.parametrize(
    ("attempt", "rand", "delay"),
    [(0, 0.0, 0.25), (0, 0.999, 0.49975), (1, 0.5, 0.75), (2, 1.0, 2.0), (9, 0.0, 10.0)],
)
def test_backoff_is_exponential_with_equal_jitter(attempt: int, rand: float, delay: float) -> None:
    policy = RetryPolicy(max_retries=10, base_delay_s=0.5, max_delay_s=20.0)
    error = ModelResponseError("HTTP 503", provider="p", retryable=True)
    assert policy.delay(attempt, error, rand) == pytest.approx(delay)


def test_retry_after_is_honoured_and_limits_apply() -> None:
    policy = RetryPolicy(max_retries=2, max_retry_after_s=60)
    assert policy.delay(0, RateLimitedError("429", provider="p", retry_after=7), 0.9) == 7
    assert policy.delay(0, RateLimitedError("429", provider="p", retry_after=600), 0.0) is None
    assert policy.delay(2, ModelTimeoutError("slow", provider="p"), 0.0) is None
    assert policy.delay(0, ModelResponseError("HTTP 400", provider="p"), 0.0) is None


async def test_retries_then_answers_without_waiting() -> None:
    flaky = Flaky(
        "p",
        ModelTimeoutError("slow", provider="p"),
        RateLimitedError("429", provider="p", retry_after=3),
        ok(),
    )
    sleeps = Sleeps()
    retrying = RetryingProvider(
        flaky, RetryPolicy(max_retries=2, base_delay_s=1.0), sleep=sleeps, rand=lambda: 0.0
    )
    assert await collect(retrying, REQUEST) == ok()
    assert sleeps.slept == [0.5, 3]
    assert flaky.calls == 3


async def test_gives_up_after_max_retries() -> None:
    errors = [ModelResponseError(f"HTTP 50{i}", provider="p", retryable=True) for i in range(3)]
    retrying = RetryingProvider(Flaky("p", *errors), RetryPolicy(max_retries=2), sleep=Sleeps())
    with pytest.raises(ModelResponseError, match="HTTP 502"):
        await collect(retrying, REQUEST)


async def test_no_retry_once_text_was_streamed() -> None:
    broken: list[ModelChunk] = [TextChunk("Hel"), ModelTimeoutError("cut", provider="p")]  # type: ignore[list-item]
    flaky = Flaky("p", broken, ok())
    retrying = RetryingProvider(flaky, RetryPolicy(), sleep=Sleeps())
    with pytest.raises(ModelTimeoutError):
        await collect(retrying, REQUEST)
    assert flaky.calls == 1  # a retry would have shown "Hel" twice


async def test_fallback_answers_when_the_primary_is_unavailable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    primary = Flaky(
        "minimax:MiniMax-M2.7", ModelUnavailableError("HTTP 401", provider="minimax:MiniMax-M2.7")
    )
    second = Flaky("ollama:qwen3", ok("from ollama"))
    chain = FallbackProvider([primary, second])
    assert chain.name == "minimax:MiniMax-M2.7"
    with caplog.at_level(logging.INFO, logger="brain.models.fallback"):
        assert await collect(chain, REQUEST) == ok("from ollama")
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "answered by fallback ollama:qwen3 (after minimax:MiniMax-M2.7 failed)" in said


async def test_a_refused_request_is_not_passed_on() -> None:
    primary = Flaky("a", ModelResponseError("HTTP 400: bad tool schema", provider="a"))
    second = Flaky("b", ok())
    with pytest.raises(ModelResponseError, match="bad tool schema"):
        await collect(FallbackProvider([primary, second]), REQUEST)
    assert second.calls == 0


async def test_every_link_failing_says_why() -> None:
    chain = FallbackProvider(
        [
            Flaky("a", ModelUnavailableError("cannot reach", provider="a", retryable=True)),
            Flaky("b", RateLimitedError("HTTP 429", provider="b")),
        ]
    )
    with pytest.raises(FallbackExhaustedError) as info:
        await collect(chain, REQUEST)
    assert "a: cannot reach" in str(info.value) and "b: HTTP 429" in str(info.value)
    assert info.value.retryable and len(info.value.failures) == 2


async def test_closing_the_chain_closes_every_link() -> None:
    links = [Flaky("a"), Flaky("b")]
    await FallbackProvider(links).aclose()
    assert all(link.closed for link in links)


async def test_configured_chain_falls_back_across_sdks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeOpenAI() as dead:
        dead_url = dead.base_url
    async with FakeAnthropic("fake-claude") as fake:
        fake.reply("from anthropic")
        settings = BrainSettings(
            model="openai:gpt-x",
            data_dir=tmp_path,
            openai_base_url=dead_url,
            openai_max_retries=0,
            model_fallback=("anthropic:fake-claude",),
            model_env={"ANTHROPIC_API_KEY": "ak", "ANTHROPIC_BASE_URL": fake.base_url},
        )
        provider = open_provider(settings)
        try:
            with caplog.at_level(logging.INFO, logger="brain.models.fallback"):
                chunks = await collect(provider, REQUEST)
        finally:
            await provider.aclose()
    assert chunks[-1] == ModelResult(
        "from anthropic",
        (),
        "stop",
        chunks[-1].usage,
        chunks[-1].native,  # type: ignore[union-attr]
    )
    assert any(
        "answered by fallback anthropic:fake-claude" in r.getMessage() for r in caplog.records
    )
