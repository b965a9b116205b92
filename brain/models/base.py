"""The provider-neutral vocabulary every model adapter speaks.

A provider turns a :class:`ModelRequest` into a stream of :data:`ModelChunk`
values: any number of :class:`TextChunk` followed by exactly one
:class:`ModelResult`, whose ``text`` equals the concatenation of the chunks.
Tool calls only appear in the result, already assembled, as canonical
:class:`ToolCall` values; wire formats (OpenAI ``tool_calls`` deltas, Anthropic
``tool_use`` blocks, llama.cpp chunks) are converted at the provider boundary,
and so are exceptions, into ``brain.errors.ModelError``.

Text is what a person may read: reasoning (``<think>`` spans, thinking blocks,
``reasoning_details``) never reaches ``TextChunk`` or ``ModelResult.text``.  It
travels in ``ModelResult.native``, an opaque copy of the provider's own
assistant message, which the caller stores on the assistant :class:`Message`
(:meth:`ModelResult.message`) so that the adapter that produced it can replay
it byte for byte; any other provider ignores it and sends the canonical fields.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol, TypeVar

from brain.models.capabilities import Capabilities

__all__ = [
    "Capabilities",
    "ForceTool",
    "Message",
    "ModelChunk",
    "ModelProvider",
    "ModelRequest",
    "ModelResult",
    "NativePayload",
    "ResponseFormat",
    "Role",
    "Sampling",
    "TextChunk",
    "ToolCall",
    "ToolChoice",
    "ToolDef",
    "Usage",
]


_T = TypeVar("_T")


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
class NativePayload:
    """A provider's own assistant message, kept opaque.

    ``producer`` names the provider and model that wrote it (``ModelProvider.name``);
    ``body`` is JSON text in that provider's wire format (an OpenAI message
    object, or an Anthropic content-block list).  Only the producer reads it.
    """

    producer: str
    body: str


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message.

    ``tool_calls`` is set on assistant messages that ask for tools;
    ``tool_call_id`` on the tool message that answers one of them.  ``native``
    (assistant messages only) is the provider's own copy, reasoning included;
    keep it with the message wherever the message is stored.
    """

    role: Role
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    native: NativePayload | None = None


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
ResponseFormat = Literal["text", "json"]


@dataclass(frozen=True, slots=True)
class Sampling:
    """Sampling parameters; ``None`` leaves a value to the provider's preset.

    Values may be out of a provider's range: adapters clamp or drop them
    (``brain.models.fit``) and log each change once.
    """

    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, float]) -> Sampling:
        """From a config mapping (``model.sampling``); the caller validated the names."""
        top_k = values.get("top_k")
        return cls(
            temperature=values.get("temperature"),
            top_p=values.get("top_p"),
            top_k=None if top_k is None else int(top_k),
            frequency_penalty=values.get("frequency_penalty"),
            presence_penalty=values.get("presence_penalty"),
        )

    def over(self, base: Sampling) -> Sampling:
        """These values where set, ``base``'s elsewhere."""
        return Sampling(
            temperature=_first(self.temperature, base.temperature),
            top_p=_first(self.top_p, base.top_p),
            top_k=_first(self.top_k, base.top_k),
            frequency_penalty=_first(self.frequency_penalty, base.frequency_penalty),
            presence_penalty=_first(self.presence_penalty, base.presence_penalty),
        )


def _first(mine: _T | None, theirs: _T | None) -> _T | None:
    return mine if mine is not None else theirs


@dataclass(frozen=True, slots=True)
class ModelRequest:
    """One model call.  ``conversation_id`` is a hint for scripted and caching providers."""

    messages: tuple[Message, ...]
    tools: tuple[ToolDef, ...] = ()
    tool_choice: ToolChoice = "auto"
    max_tokens: int | None = None
    conversation_id: str = ""
    sampling: Sampling = Sampling()
    response_format: ResponseFormat = "text"


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True, slots=True)
class TextChunk:
    text: str


@dataclass(frozen=True, slots=True)
class ModelResult:
    """The end of a model call: its visible text, the assembled tool calls and,
    from providers with a native format, their own copy of the message."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str = "stop"
    usage: Usage | None = None
    native: NativePayload | None = None

    def message(self) -> Message:
        """The assistant message to put in history; keeps ``native`` for the replay."""
        return Message(Role.ASSISTANT, self.text, self.tool_calls, native=self.native)


ModelChunk = TextChunk | ModelResult


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
