"""Pure conversions between our model vocabulary and the OpenAI chat wire format.

Used by the OpenAI-compatible provider and by the local provider (llama.cpp
accepts the same dictionaries).  No I/O.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from brain.models.base import ForceTool, Message, Role, ToolCall, ToolChoice, ToolDef

if TYPE_CHECKING:
    from openai.types.chat import (
        ChatCompletionFunctionToolParam,
        ChatCompletionMessageFunctionToolCallParam,
        ChatCompletionMessageParam,
        ChatCompletionToolChoiceOptionParam,
    )

__all__ = ["openai_messages", "openai_tool_choice", "openai_tools"]


def openai_messages(messages: tuple[Message, ...]) -> list[ChatCompletionMessageParam]:
    return [_message(m) for m in messages]


def _message(message: Message) -> ChatCompletionMessageParam:
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
