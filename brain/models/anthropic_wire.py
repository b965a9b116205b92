"""Pure conversions between our vocabulary and the Anthropic Messages wire format.

Requests: the (single, first: see the preset's ``SystemRule``) system message
becomes the top-level ``system``; an assistant message becomes ``text`` and
``tool_use`` blocks, or, when this provider wrote it, its native content-block
list verbatim (thinking blocks and their signatures included: Anthropic and
MiniMax require them back unchanged during tool use); tool results become
``tool_result`` blocks in one user message per run of results.

Responses: :class:`BlockAssembler` rebuilds the content blocks from the raw
stream events (``content_block_start``/``delta``/``stop``), the way the SDK's
own accumulator does, but into plain JSON values we can store and replay.
"""

from __future__ import annotations

import json
from typing import Any

from brain.models._assemble import parse_arguments
from brain.models.base import (
    ForceTool,
    Message,
    ModelResult,
    NativePayload,
    Role,
    ToolCall,
    ToolChoice,
    ToolDef,
    Usage,
)
from brain.models.fit import SYSTEM_NOTE, Fitted

__all__ = ["BlockAssembler", "anthropic_messages", "anthropic_params", "finish_reason"]

_FINISH = {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length"}
_KEY_ORDER = ("type", "id", "name", "input", "text", "thinking", "signature", "data")


def _key_rank(key: str) -> tuple[int, str]:
    return (_KEY_ORDER.index(key) if key in _KEY_ORDER else len(_KEY_ORDER), key)


def anthropic_params(
    model: str, fitted: Fitted, tools: tuple[ToolDef, ...], *, producer: str
) -> dict[str, Any]:
    """Keyword arguments for ``messages.create(stream=True)``; ``fitted.max_tokens`` is set."""
    system, messages = _split_system(fitted.messages)
    params: dict[str, Any] = {
        "model": model,
        "max_tokens": fitted.max_tokens,
        "messages": anthropic_messages(messages, producer=producer),
        "stream": True,
    }
    if system:
        params["system"] = system
    if tools:
        # Anthropic: a request whose history holds tool_use blocks must define
        # the tools, so "none" is sent as a choice rather than by omission.
        params["tools"] = [_tool(t) for t in tools]
        params["tool_choice"] = _tool_choice(fitted.tool_choice)
    # The SDK (2.x) no longer lists sampling parameters; compatible endpoints
    # (MiniMax) still document them, so they go in the body's extras.
    sampling = {
        name: value
        for name in ("temperature", "top_p", "top_k")
        if (value := getattr(fitted.sampling, name)) is not None
    }
    if sampling:
        params["extra_body"] = sampling
    return params


def _split_system(messages: tuple[Message, ...]) -> tuple[str, tuple[Message, ...]]:
    if messages and messages[0].role is Role.SYSTEM:
        return messages[0].content, messages[1:]
    return "", messages


def anthropic_messages(
    messages: tuple[Message, ...], *, producer: str | None = None
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role is Role.TOOL:
            _tool_result(out, message)
        elif message.role is Role.ASSISTANT:
            content = _assistant_content(message, producer)
            if content:  # Anthropic refuses empty assistant content
                out.append({"role": "assistant", "content": content})
        else:
            prefix = SYSTEM_NOTE if message.role is Role.SYSTEM else ""
            out.append({"role": "user", "content": prefix + message.content})
    return out


def _tool_result(out: list[dict[str, Any]], message: Message) -> None:
    block = {
        "type": "tool_result",
        "tool_use_id": message.tool_call_id or "",
        "content": message.content,
    }
    last = out[-1] if out else None
    if last is not None and last["role"] == "user" and isinstance(last["content"], list):
        last["content"].append(block)
    else:
        out.append({"role": "user", "content": [block]})


def _assistant_content(message: Message, producer: str | None) -> list[dict[str, Any]] | str:
    native = message.native
    if native is not None and native.producer == producer:
        replayed: list[dict[str, Any]] = json.loads(native.body)
        return replayed
    if not message.tool_calls:
        return message.content
    blocks: list[dict[str, Any]] = []
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    blocks += [
        {"type": "tool_use", "id": c.id, "name": c.name, "input": dict(c.arguments)}
        for c in message.tool_calls
    ]
    return blocks


def _tool(tool: ToolDef) -> dict[str, Any]:
    schema = dict(tool.parameters)
    return {"name": tool.name, "description": tool.description, "input_schema": schema}


def _tool_choice(choice: ToolChoice) -> dict[str, str]:
    if isinstance(choice, ForceTool):
        return {"type": "tool", "name": choice.name}
    return {"type": choice}


def finish_reason(stop_reason: str | None) -> str:
    return _FINISH.get(stop_reason or "end_turn", stop_reason or "stop")


class BlockAssembler:
    """One assistant message from stream events: feed each event's parts, then :meth:`result`."""

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self.blocks: list[dict[str, Any]] = []
        self._json: dict[int, list[str]] = {}
        self._text: list[str] = []
        self.input_tokens = 0
        self.output_tokens = 0
        self.stop_reason: str | None = None

    def start(self, index: int, block: dict[str, Any]) -> None:
        while len(self.blocks) <= index:
            self.blocks.append({})
        # The SDK's models list fields alphabetically; keep the API's order (type first).
        self.blocks[index] = dict(sorted(block.items(), key=lambda item: _key_rank(item[0])))

    def delta(self, index: int, delta: dict[str, Any]) -> str:
        """Apply one delta; returns the text to show (``text_delta`` only)."""
        block, kind = self.blocks[index], delta.get("type")
        if kind == "text_delta":
            block["text"] = block.get("text", "") + delta["text"]
            self._text.append(delta["text"])
            return str(delta["text"])
        if kind == "thinking_delta":
            block["thinking"] = block.get("thinking", "") + delta["thinking"]
        elif kind == "signature_delta":
            block["signature"] = delta["signature"]  # as the SDK does: it arrives whole
        elif kind == "input_json_delta":
            self._json.setdefault(index, []).append(delta["partial_json"])
        return ""

    def stop(self, index: int) -> None:
        block = self.blocks[index]
        if block.get("type") == "tool_use" and index in self._json:
            text = "".join(self._json.pop(index))
            block["input"] = parse_arguments(text, provider=self._provider)

    def tool_calls(self) -> tuple[ToolCall, ...]:
        return tuple(
            ToolCall(str(b["id"]), str(b["name"]), dict(b.get("input") or {}))
            for b in self.blocks
            if b.get("type") == "tool_use"
        )

    def result(self) -> ModelResult:
        """The text shown, the tool calls, and the blocks as the native payload."""
        native = NativePayload(self._provider, json.dumps(self.blocks, ensure_ascii=False))
        usage = Usage(self.input_tokens, self.output_tokens)
        finish = finish_reason(self.stop_reason)
        return ModelResult("".join(self._text), self.tool_calls(), finish, usage, native)
