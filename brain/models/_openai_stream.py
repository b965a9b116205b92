"""Turn an OpenAI-style chunk stream into our chunks, keeping the native message.

Per chunk: ``content`` is forwarded (through the ``<think>`` filter when the
provider writes reasoning there), ``tool_calls`` deltas are assembled, and
``reasoning_details`` deltas (MiniMax with ``reasoning_split``) are merged.
At the end the provider's own assistant message is rebuilt exactly as it came:
raw content (``<think>`` included), tool calls with their argument text as
sent, and the merged reasoning details; it rides in ``ModelResult.native``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

from openai.types.chat import ChatCompletionChunk

from brain.models._assemble import ToolCallAssembler
from brain.models.base import ModelChunk, ModelResult, NativePayload, TextChunk, Usage
from brain.models.think import ThinkFilter

__all__ = ["ReasoningDetails", "consume_openai"]


class ReasoningDetails:
    """Merges streamed ``reasoning_details`` entries by their ``index``.

    MiniMax's API sends each chunk's new text (measured by users against
    MiniMax-M2.7, MiniMax-M2 issue #95) although its own example treats it as
    the text so far; a fragment that repeats everything so far is taken as
    the whole text, so both readings assemble the same result.
    """

    def __init__(self) -> None:
        self._entries: dict[object, dict[str, Any]] = {}

    def add(self, details: object) -> None:
        if not isinstance(details, list):
            return
        for position, detail in enumerate(details):
            if isinstance(detail, Mapping):
                self._merge(detail.get("index", position), detail)

    def _merge(self, key: object, detail: Mapping[str, Any]) -> None:
        entry = self._entries.get(key)
        if entry is None:
            self._entries[key] = dict(detail)
            return
        for name, value in detail.items():
            old = entry.get(name)
            if name == "text" and isinstance(old, str) and isinstance(value, str):
                entry[name] = value if old and value.startswith(old) else old + value
            elif old is None:
                entry[name] = value

    def merged(self) -> list[dict[str, Any]]:
        return list(self._entries.values())


async def consume_openai(
    stream: AsyncIterator[ChatCompletionChunk],
    *,
    provider: str,
    think_tags: bool,
    keep_native: bool,
) -> AsyncGenerator[ModelChunk, None]:
    """Text chunks as they arrive, then the :class:`ModelResult`."""
    message = _Message(provider, think_tags)
    async for chunk in stream:
        for shown in message.add(chunk):
            yield TextChunk(shown)
    if tail := message.close_text():
        yield TextChunk(tail)
    yield message.result(keep_native)


class _Message:
    """One assistant message being assembled from chunks."""

    def __init__(self, provider: str, think_tags: bool) -> None:
        self._provider = provider
        self._visible: list[str] = []
        self._raw: list[str] = []
        self._calls = ToolCallAssembler(provider)
        self._reasoning = ReasoningDetails()
        self._think = ThinkFilter() if think_tags else None
        self._finish = "stop"
        self._usage: Usage | None = None

    def add(self, chunk: ChatCompletionChunk) -> list[str]:
        """Apply one chunk; returns the text to show now."""
        if chunk.usage is not None:
            self._usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
        shown: list[str] = []
        for choice in chunk.choices[:1]:
            delta = choice.delta
            if delta.content:
                self._raw.append(delta.content)
                shown.append(self._think.feed(delta.content) if self._think else delta.content)
            for call in delta.tool_calls or ():
                function = call.function
                name, arguments = (function.name, function.arguments) if function else (None, None)
                self._calls.add(call.index, call.id, name, arguments)
            self._reasoning.add((delta.model_extra or {}).get("reasoning_details"))
            self._finish = choice.finish_reason or self._finish
        return self._show(shown)

    def close_text(self) -> str:
        """Text the think filter held back to the end."""
        return "".join(self._show([self._think.close()])) if self._think else ""

    def _show(self, texts: list[str]) -> list[str]:
        texts = [t for t in texts if t]
        self._visible.extend(texts)
        return texts

    def result(self, keep_native: bool) -> ModelResult:
        tool_calls = self._calls.calls()
        native = None
        if keep_native:
            body = _native_message(
                "".join(self._raw), self._calls.wire_calls(), self._reasoning.merged()
            )
            native = NativePayload(self._provider, json.dumps(body, ensure_ascii=False))
        text = "".join(self._visible)
        return ModelResult(text, tool_calls, self._finish, self._usage, native)


def _native_message(
    content: str, tool_calls: list[dict[str, object]], details: list[dict[str, Any]]
) -> dict[str, object]:
    message: dict[str, object] = {"role": "assistant", "content": content or None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    if details:
        message["reasoning_details"] = details
    return message
