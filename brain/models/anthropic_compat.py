"""Any Anthropic-compatible Messages endpoint: Anthropic, MiniMax's ``/anthropic``.

Uses the official ``anthropic`` SDK (``messages.create(stream=True)``) and
reads the raw stream events: text deltas are forwarded as they arrive;
thinking, signatures and tool input are assembled into content blocks
(``brain.models.anthropic_wire``) that travel in ``ModelResult.native`` and go
back verbatim on the next call.  SDK exceptions are translated at this
boundary; the SDK's own retries are off (``RetryingProvider`` retries).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

import anthropic
from anthropic.types import RawMessageStreamEvent

from brain.models._errors import translate_anthropic
from brain.models.anthropic_wire import BlockAssembler, anthropic_params
from brain.models.base import Capabilities, ModelChunk, ModelRequest, TextChunk
from brain.models.fit import AdjustmentLog, fit_request
from brain.models.presets import ProviderConfig

__all__ = ["AnthropicProvider"]

_FALLBACK_MAX_TOKENS = 4096


class AnthropicProvider:
    """``config.name`` (``minimax-anthropic:MiniMax-M2.7``) names it everywhere."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.name = config.name
        self._notes = AdjustmentLog(config.name)
        # Explicit key and URL: the SDK then reads no ANTHROPIC_* variable itself.
        self._client = anthropic.AsyncAnthropic(
            base_url=config.base_url,
            api_key=config.api_key or "unset",
            max_retries=0,
            timeout=config.timeout_s,
        )

    @property
    def capabilities(self) -> Capabilities:
        return self.config.capabilities

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ModelChunk, None]:
        fitted = fit_request(
            request,
            self.config.capabilities,
            preset=self.config.sampling,
            default_max_tokens=self.config.preset.default_max_tokens or _FALLBACK_MAX_TOKENS,
        )
        self._notes.report(fitted.adjustments)
        params = anthropic_params(self.config.model, fitted, request.tools, producer=self.name)
        try:
            stream = await self._client.messages.create(**params)
            async with stream, aclosing(self._consume(stream)) as chunks:
                async for chunk in chunks:
                    yield chunk
        except anthropic.AnthropicError as exc:
            raise translate_anthropic(exc, self.name) from exc

    async def _consume(
        self, events: AsyncIterator[RawMessageStreamEvent]
    ) -> AsyncGenerator[ModelChunk, None]:
        message = BlockAssembler(self.name)
        async for event in events:
            if shown := _apply(message, event):
                yield TextChunk(shown)
        yield message.result()

    async def aclose(self) -> None:
        await self._client.close()

    async def probe(self, timeout_s: float) -> str:
        """``GET /v1/models``: proves the URL and the key; raises ``ModelError``."""
        client = self._client.with_options(timeout=timeout_s, max_retries=0)
        try:
            page = await client.models.list()
        except anthropic.AnthropicError as exc:
            raise translate_anthropic(exc, self.name) from exc
        return f"{len(page.data)} models listed"


def _apply(message: BlockAssembler, event: RawMessageStreamEvent) -> str:
    """Feed one stream event to ``message``; returns the text to show now."""
    if event.type == "message_start":
        message.input_tokens = event.message.usage.input_tokens
    elif event.type == "content_block_start":
        message.start(event.index, _plain(event.content_block))
    elif event.type == "content_block_delta":
        return message.delta(event.index, _plain(event.delta))
    elif event.type == "content_block_stop":
        message.stop(event.index)
    elif event.type == "message_delta":
        message.stop_reason = event.delta.stop_reason
        message.output_tokens = event.usage.output_tokens
    return ""


def _plain(model: Any) -> dict[str, Any]:
    """An SDK event part as the JSON the server sent (fields it did not send left out)."""
    value: dict[str, Any] = model.to_dict(mode="json", exclude_unset=True)
    return value
