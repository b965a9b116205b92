"""Any OpenAI-compatible chat endpoint (OpenAI, MiniMax, Ollama's ``/v1``, llama-server).

Uses the official ``openai`` SDK with ``stream=True``: text deltas are
forwarded as they arrive and tool-call deltas are assembled.  SDK exceptions
are translated into the ``brain.errors.ModelError`` tree here, at the
boundary; nothing above this module sees an ``openai`` exception.  The SDK's
own retries (``max_retries``, honouring ``Retry-After``) run before we see an
error.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from typing import Any

import openai
from openai.types.chat import ChatCompletionChunk

from brain.errors import (
    ModelError,
    ModelResponseError,
    ModelTimeoutError,
    ModelUnavailableError,
    RateLimitedError,
)
from brain.models._assemble import ToolCallAssembler
from brain.models.base import (
    Capabilities,
    ModelChunk,
    ModelRequest,
    ModelResult,
    TextChunk,
    Usage,
)
from brain.models.wire import openai_messages, openai_tool_choice, openai_tools

__all__ = ["OpenAIProvider", "translate_error"]

_DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAIProvider:
    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None,
        api_key: str | None,
        max_retries: int = 2,
        timeout_s: float = 120.0,
        context_window: int = 128_000,
    ) -> None:
        self._model = model
        self._context_window = context_window
        # Pass everything explicitly so the SDK never falls back to OPENAI_* env vars:
        # configuration is read once, at the edge.  Local servers ignore the key.
        self._client = openai.AsyncOpenAI(
            base_url=base_url or _DEFAULT_BASE_URL,
            api_key=api_key or "unset",
            max_retries=max_retries,
            timeout=timeout_s,
        )

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(chooses_tools=True, streams=True, context_window=self._context_window)

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ModelChunk, None]:
        try:
            stream = await self._client.chat.completions.create(**self._params(request))
            async with stream, aclosing(self._consume(stream)) as chunks:
                async for chunk in chunks:
                    yield chunk
        except openai.OpenAIError as exc:
            raise translate_error(exc, self.name) from exc

    async def aclose(self) -> None:
        await self._client.close()

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self._model,
            "messages": openai_messages(request.messages),
            "stream": True,
        }
        # Some compatible servers reject an empty tools list, so omit it entirely.
        if request.tools and request.tool_choice != "none":
            params["tools"] = openai_tools(request.tools)
            params["tool_choice"] = openai_tool_choice(request.tool_choice)
        if request.max_tokens is not None:
            params["max_tokens"] = request.max_tokens
        return params

    async def _consume(
        self, stream: openai.AsyncStream[ChatCompletionChunk]
    ) -> AsyncGenerator[ModelChunk, None]:
        text: list[str] = []
        calls = ToolCallAssembler(self.name)
        finish, usage = "stop", None
        async for chunk in stream:
            if chunk.usage is not None:
                usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
            for choice in chunk.choices[:1]:
                if choice.delta.content:
                    text.append(choice.delta.content)
                    yield TextChunk(choice.delta.content)
                for delta in choice.delta.tool_calls or ():
                    function = delta.function
                    name = function.name if function else None
                    arguments = function.arguments if function else None
                    calls.add(delta.index, delta.id, name, arguments)
                finish = choice.finish_reason or finish
        yield ModelResult("".join(text), calls.calls(), finish, usage)


def translate_error(exc: openai.OpenAIError, provider: str) -> ModelError:
    """Map an SDK exception onto our tree, keeping the server's message."""
    if isinstance(exc, openai.APIStatusError):
        return _status_error(exc, provider)
    if isinstance(exc, openai.APITimeoutError):
        return ModelTimeoutError("the model did not answer in time", provider=provider)
    if isinstance(exc, openai.APIConnectionError):
        return ModelUnavailableError(
            f"cannot reach the model: {exc.message}", provider=provider, retryable=True
        )
    return ModelResponseError(f"model error: {exc}", provider=provider)


def _status_error(exc: openai.APIStatusError, provider: str) -> ModelError:
    message = f"HTTP {exc.status_code}: {_server_message(exc)}"
    if isinstance(exc, openai.RateLimitError):
        retry_after = retry_after_seconds(exc.response.headers)
        hint = f"; retry after {retry_after:g}s" if retry_after is not None else ""
        return RateLimitedError(f"{message}{hint}", provider=provider, retry_after=retry_after)
    if isinstance(
        exc, openai.AuthenticationError | openai.PermissionDeniedError | openai.NotFoundError
    ):
        return ModelUnavailableError(message, provider=provider)
    retryable = exc.status_code >= 500 or exc.status_code in (408, 409)
    return ModelResponseError(message, provider=provider, retryable=retryable)


def _server_message(exc: openai.APIStatusError) -> str:
    """The server's own ``error.message`` when it sent one (the SDK prefixes its own text)."""
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return exc.message


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """``retry-after-ms`` (OpenAI) or ``Retry-After`` (RFC 9110: seconds or an HTTP date)."""
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(float(ms) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(when - (time.time() if now is None else now), 0.0)
