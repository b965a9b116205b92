"""Any OpenAI-compatible chat endpoint: OpenAI, MiniMax, Ollama's ``/v1``, llama-server.

Uses the official ``openai`` SDK with ``stream=True``: text deltas are
forwarded as they arrive and tool-call deltas are assembled
(``brain.models._openai_stream``).  Each request is first fitted to the
preset's capability record (``brain.models.fit``).  SDK exceptions are
translated into the ``brain.errors.ModelError`` tree here, at the boundary;
nothing above this module sees an ``openai`` exception.  The SDK's own
retries are off: ``RetryingProvider`` retries, with an injectable clock.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import openai

from brain.models._errors import translate_openai
from brain.models._openai_stream import consume_openai
from brain.models.base import Capabilities, ModelChunk, ModelRequest
from brain.models.capabilities import ReasoningChannel
from brain.models.fit import AdjustmentLog, fit_request
from brain.models.presets import ProviderConfig
from brain.models.wire import openai_params

__all__ = ["OpenAIProvider"]


class OpenAIProvider:
    """``config.name`` (``minimax:MiniMax-M2.7``) names it in errors, logs and native payloads."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.name = config.name
        self._notes = AdjustmentLog(config.name)
        # Everything explicit, so the SDK never falls back to OPENAI_* variables:
        # configuration is read once, at the edge.  Local servers ignore the key.
        self._client = openai.AsyncOpenAI(
            base_url=config.base_url,
            api_key=config.api_key or "unset",
            max_retries=0,
            timeout=config.timeout_s,
        )

    @property
    def capabilities(self) -> Capabilities:
        return self.config.capabilities

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ModelChunk, None]:
        config, preset = self.config, self.config.preset
        fitted = fit_request(
            request,
            config.capabilities,
            preset=config.sampling,
            default_max_tokens=preset.default_max_tokens,
        )
        self._notes.report(fitted.adjustments)
        params = openai_params(
            config.model,
            fitted,
            request.tools,
            producer=self.name,
            extra_body=preset.extra_body,
            stream_usage=preset.stream_usage,
        )
        stream = await self._open(params)
        chunks = consume_openai(
            stream,
            provider=self.name,
            think_tags=preset.think_tags,
            keep_native=config.capabilities.reasoning is not ReasoningChannel.NONE,
        )
        try:
            async with stream, aclosing(chunks) as items:
                async for item in items:
                    yield item
        except openai.OpenAIError as exc:
            raise translate_openai(exc, self.name) from exc

    async def _open(
        self, params: dict[str, object]
    ) -> openai.AsyncStream[openai.types.chat.ChatCompletionChunk]:
        try:
            stream: openai.AsyncStream[openai.types.chat.ChatCompletionChunk] = (
                await self._client.chat.completions.create(**params)  # type: ignore[call-overload]
            )
        except openai.OpenAIError as exc:
            raise translate_openai(exc, self.name) from exc
        return stream

    async def aclose(self) -> None:
        await self._client.close()

    async def probe(self, timeout_s: float) -> str:
        """``GET /models``: a cheap call that proves the URL and the key; raises ``ModelError``."""
        client = self._client.with_options(timeout=timeout_s, max_retries=0)
        try:
            page = await client.models.list()
        except openai.OpenAIError as exc:
            raise translate_openai(exc, self.name) from exc
        return f"{len(page.data)} models listed"
