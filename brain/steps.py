"""The turn machine's vocabulary: the steps it asks for and the results it takes.

Frozen values only; the machine itself is ``brain.loop`` (which re-exports all
of these), the driver that carries the steps out is ``brain.driver``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from brain.models.base import Message, ModelResult, ToolCall, ToolChoice, ToolDef
from gateway.events import ExitStatus

__all__ = [
    "EXPECTED",
    "NOTICE_PREFIX",
    "OBSERVATION_LIMIT",
    "TEXT_SEPARATOR",
    "TRANSITIONS",
    "ApprovalOutcome",
    "AskApproval",
    "CallModel",
    "Fail",
    "Finish",
    "OutgoingFile",
    "RunTool",
    "Step",
    "ToolOutcome",
    "TurnPhase",
    "cap_text",
]

TEXT_SEPARATOR = "\n\n"
OBSERVATION_LIMIT = 6_000  # chars of one tool result shown to the model (Letta's cap)
NOTICE_PREFIX = "[notice from skillyard] "  # marks what the harness, not the person, says


class TurnPhase(StrEnum):
    READY = "ready"
    MODEL = "awaiting_model"
    APPROVAL = "awaiting_approval"
    TOOL = "awaiting_tool"
    DONE = "done"
    FAILED = "failed"


_P = TurnPhase
_AFTER_RESULT = frozenset({_P.MODEL, _P.APPROVAL, _P.TOOL, _P.DONE, _P.FAILED})
TRANSITIONS: Mapping[TurnPhase, frozenset[TurnPhase]] = {
    _P.READY: _AFTER_RESULT,
    _P.MODEL: _AFTER_RESULT,
    _P.APPROVAL: _AFTER_RESULT,
    _P.TOOL: _AFTER_RESULT,
    _P.DONE: frozenset(),
    _P.FAILED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class CallModel:
    messages: tuple[Message, ...]
    tools: tuple[ToolDef, ...]
    tool_choice: ToolChoice
    max_tokens: int | None = None
    json: bool = False  # the reply must be JSON (the plan declares an output schema)


@dataclass(frozen=True, slots=True)
class AskApproval:
    """Ask a person before running ``call``; ``reason`` says why (for logs and the audit)."""

    call: ToolCall
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RunTool:
    call: ToolCall


@dataclass(frozen=True, slots=True)
class Finish:
    """The turn is done; ``new_messages`` are what the transcript should append.

    ``exit_status`` is ``completed``, or ``denied`` when a call was refused on
    the way; ``output`` is the validated value when the plan declared an
    output schema.
    """

    text: str
    new_messages: tuple[Message, ...]
    exit_status: ExitStatus = ExitStatus.COMPLETED
    output: object = None


@dataclass(frozen=True, slots=True)
class Fail:
    """The turn ended early; ``message`` is for people (for ``stuck``: the diagnosis)."""

    status: ExitStatus
    message: str


Step = CallModel | AskApproval | RunTool | Finish | Fail


@dataclass(frozen=True, slots=True)
class OutgoingFile:
    """A file a tool sent the user; its bytes wait in the outbox under ``file_id``."""

    file_id: str
    name: str
    media_type: str
    size: int
    caption: str | None = None


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """What running one call produced.

    ``text`` is the user-facing rendering of a successful output; ``content``
    is what the model sees (JSON of the output, or of the error); ``files``
    are files the call sent the user (the driver reports each one).
    """

    call_id: str
    ok: bool
    content: str
    text: str = ""
    error: str | None = None
    files: tuple[OutgoingFile, ...] = ()

    @classmethod
    def failure(cls, call_id: str, error: str) -> ToolOutcome:
        return cls(call_id, ok=False, content=json.dumps({"error": error}), error=error)


@dataclass(frozen=True, slots=True)
class ApprovalOutcome:
    approved: bool


def cap_text(text: str, limit: int) -> str:
    """Keep the head and tail of ``text`` within ``limit`` chars, marking the cut."""
    if len(text) <= limit:
        return text
    half = limit // 2
    omitted = len(text) - 2 * half
    return f"{text[:half]}[… {omitted} chars omitted …]{text[-half:]}"


# The result that answers each waiting phase.
EXPECTED: Mapping[TurnPhase, type] = {
    _P.MODEL: ModelResult,
    _P.APPROVAL: ApprovalOutcome,
    _P.TOOL: ToolOutcome,
}
