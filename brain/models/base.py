"""The provider-neutral vocabulary every model adapter speaks.

A provider turns a :class:`ModelRequest` into a stream of :data:`ModelChunk`
values: any number of :class:`TextChunk` followed by exactly one
:class:`ModelResult`, whose ``text`` equals the concatenation of the chunks.
Tool calls only appear in the result, already assembled, as canonical
:class:`ToolCall` values; wire formats (OpenAI ``tool_calls`` deltas, llama.cpp
chunks) are converted at the provider boundary, and so are exceptions, into
``brain.errors.ModelError``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol

__all__ = [
    "Capabilities",
    "ForceTool",
    "Message",
    "ModelChunk",
    "ModelProvider",
    "ModelRequest",
    "ModelResult",
    "Role",
    "TextChunk",
    "ToolCall",
    "ToolChoice",
    "ToolDef",
    "Usage",
]


class Role(StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One call the model asked for; ``name`` is the exposed function name."""

    id: str
    name: str
    arguments: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message.

    ``tool_calls`` is set on assistant messages that ask for tools;
    ``tool_call_id`` on the tool message that answers one of them.
    """

    role: Role
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class ToolDef:
    """A function offered to the model: name, description and JSON Schema."""

    name: str
    description: str
    parameters: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class ForceTool:
    """``tool_choice`` that makes the model call exactly this function."""

    name: str


ToolChoice = Literal["auto", "none"] | ForceTool


@dataclass(frozen=True, slots=True)
class ModelRequest:
    """One model call.  ``conversation_id`` is a hint for scripted and caching providers."""

    messages: tuple[Message, ...]
    tools: tuple[ToolDef, ...] = ()
    tool_choice: ToolChoice = "auto"
    max_tokens: int | None = None
    conversation_id: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True, slots=True)
class TextChunk:
    text: str


@dataclass(frozen=True, slots=True)
class ModelResult:
    """The end of a model call: all its text and the assembled tool calls."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str = "stop"
    usage: Usage | None = None


ModelChunk = TextChunk | ModelResult


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the brain may rely on.

    ``chooses_tools`` false means the model cannot pick among tools; the brain
    then picks one candidate by retrieval and forces it (:class:`ForceTool`).
    """

    chooses_tools: bool
    streams: bool
    context_window: int


class ModelProvider(Protocol):
    """A model behind a small interface; implementations live in ``brain/models/``."""

    name: str

    @property
    def capabilities(self) -> Capabilities: ...

    def stream(self, request: ModelRequest) -> AsyncGenerator[ModelChunk, None]:
        """Text chunks, then one :class:`ModelResult`; raises ``ModelError``.

        The caller must close the iterator (``contextlib.aclosing``) so that a
        stopped turn stops the generation too.
        """
        ...

    async def aclose(self) -> None: ...
