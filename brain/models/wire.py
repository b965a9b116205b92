"""Pure conversions between our model vocabulary and the OpenAI chat wire format.

Used by the OpenAI-compatible provider and by the local provider (llama.cpp
accepts the same dictionaries).  No I/O.

An assistant message whose ``native`` payload was written by the provider
that is sending (``producer``) goes out as that payload, verbatim: MiniMax
needs its ``<think>`` content or ``reasoning_details`` back exactly as it sent
them.  Any other assistant message is rebuilt from the canonical fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from brain.models.base import ForceTool, Message, Role, ToolCall, ToolChoice, ToolDef

if TYPE_CHECKING:
    from brain.models.fit import Fitted

if TYPE_CHECKING:
    from openai.types.chat import (
        ChatCompletionFunctionToolParam,
        ChatCompletionMessageFunctionToolCallParam,
        ChatCompletionMessageParam,
        ChatCompletionToolChoiceOptionParam,
    )

__all__ = ["openai_messages", "openai_params", "openai_tool_choice", "openai_tools"]


def openai_params(
    model: str,
    fitted: Fitted,
    tools: tuple[ToolDef, ...],
    *,
    producer: str,
    extra_body: Mapping[str, object],
    stream_usage: bool,
) -> dict[str, Any]:
    """Keyword arguments for ``chat.completions.create`` (``stream=True``)."""
    params: dict[str, Any] = {
        "model": model,
        "messages": openai_messages(fitted.messages, producer=producer),
        "stream": True,
    }
    # Some compatible servers reject an empty tools list, so omit it entirely.
    if tools and fitted.tool_choice != "none":
        params["tools"] = openai_tools(tools)
        params["tool_choice"] = openai_tool_choice(fitted.tool_choice)
    if fitted.max_tokens is not None:
        params["max_tokens"] = fitted.max_tokens
    sampling = fitted.sampling
    for name in ("temperature", "top_p", "frequency_penalty", "presence_penalty"):
        if (value := getattr(sampling, name)) is not None:
            params[name] = value
    if fitted.response_format == "json":
        params["response_format"] = {"type": "json_object"}
    if stream_usage:
        params["stream_options"] = {"include_usage": True}
    extra = dict(extra_body)
    if sampling.top_k is not None:  # not an OpenAI field; compatible servers read it
        extra["top_k"] = sampling.top_k
    if extra:
        params["extra_body"] = extra
    return params


def openai_messages(
    messages: tuple[Message, ...], *, producer: str | None = None
) -> list[ChatCompletionMessageParam]:
    return [_message(m, producer) for m in messages]


def _message(message: Message, producer: str | None = None) -> ChatCompletionMessageParam:
    native = message.native
    if native is not None and native.producer == producer and message.role is Role.ASSISTANT:
        replayed: ChatCompletionMessageParam = json.loads(native.body)
        return replayed
    if message.role is Role.SYSTEM:
        return {"role": "system", "content": message.content}
    if message.role is Role.USER:
        return {"role": "user", "content": message.content}
    if message.role is Role.TOOL:
        return {
            "role": "tool",
            "content": message.content,
            "tool_call_id": message.tool_call_id or "",
        }
    if message.tool_calls:
        # OpenAI: content may be null when the assistant only calls tools.
        return {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": [_tool_call(c) for c in message.tool_calls],
        }
    return {"role": "assistant", "content": message.content}


def _tool_call(call: ToolCall) -> ChatCompletionMessageFunctionToolCallParam:
    arguments = json.dumps(dict(call.arguments), ensure_ascii=False, separators=(",", ":"))
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": arguments},
    }


def openai_tools(tools: tuple[ToolDef, ...]) -> list[ChatCompletionFunctionToolParam]:
    return [
        {
            "type": "function",
            "function": {
                "name": t.name,
                "description": t.description,
                "parameters": dict(t.parameters),
            },
        }
        for t in tools
    ]


def openai_tool_choice(choice: ToolChoice) -> ChatCompletionToolChoiceOptionParam:
    if isinstance(choice, ForceTool):
        return {"type": "function", "function": {"name": choice.name}}
    return choice
