"""The turn as a pure step machine: no I/O, no asyncio.

Theory of operation
-------------------
A :class:`TurnMachine` is built from a :class:`TurnPlan` (context, tools,
limits).  ``start()`` returns the first :data:`Step`; the driver carries the
step out and hands the result to ``send()``, which returns the next step,
until a :class:`Finish` or :class:`Fail`.  The conversation is::

    CallModel    --ModelResult-->      next step
    AskApproval  --ApprovalOutcome-->  RunTool (approved) or an observation "denied"
    RunTool      --ToolOutcome-->      next step

The phases and the legal moves between them are the table ``TRANSITIONS``;
an illegal move, or a result that does not answer the pending step, raises
``LoopProtocolError`` (a driver bug, never user input).

Policies decided here, so that tests can step through them without a network:

* a model result with tool calls runs them in order (asking for approval
  first for tools in ``needs_approval``), feeds each outcome back as a tool
  message and calls the model again; a result without tool calls finishes;
* ``max_steps`` caps the model calls: a model that still wants tools after
  the last allowed call ends the turn with ``FailureCode.STEP_LIMIT`` before
  any of those tools runs;
* a call to a tool that was not offered, a failed tool and a denied approval
  become observations for the model, never exceptions;
* a direct command (``plan.command``) runs one tool without the model and
  replies with its text; ``answer_from_tool`` does the same after a forced
  tool call (for models too small to phrase a tool's answer reliably);
* the final text is the non-empty texts of all model calls joined by a blank
  line, exactly what the driver streamed.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from brain.errors import FailureCode, LoopProtocolError
from brain.models.base import ForceTool, Message, ModelResult, Role, ToolCall, ToolChoice, ToolDef

__all__ = [
    "TEXT_SEPARATOR",
    "TRANSITIONS",
    "ApprovalOutcome",
    "AskApproval",
    "CallModel",
    "Fail",
    "Finish",
    "RunTool",
    "Step",
    "ToolOutcome",
    "TurnMachine",
    "TurnPhase",
    "TurnPlan",
]

TEXT_SEPARATOR = "\n\n"
OBSERVATION_LIMIT = 6_000  # chars of one tool result shown to the model (Letta's cap)


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
    _P.READY: frozenset({_P.MODEL, _P.APPROVAL, _P.TOOL}),
    _P.MODEL: _AFTER_RESULT,
    _P.APPROVAL: _AFTER_RESULT,
    _P.TOOL: _AFTER_RESULT,
    _P.DONE: frozenset(),
    _P.FAILED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class TurnPlan:
    """Everything one turn needs; built by the brain from settings, skills and the transcript."""

    system_prompt: str
    history: tuple[Message, ...]
    user_text: str
    tools: tuple[ToolDef, ...] = ()
    forced_tool: str | None = None
    command: ToolCall | None = None
    answer_from_tool: bool = False
    needs_approval: frozenset[str] = frozenset()
    max_steps: int = 8
    max_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class CallModel:
    messages: tuple[Message, ...]
    tools: tuple[ToolDef, ...]
    tool_choice: ToolChoice
    max_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class AskApproval:
    call: ToolCall


@dataclass(frozen=True, slots=True)
class RunTool:
    call: ToolCall


@dataclass(frozen=True, slots=True)
class Finish:
    """The turn is done; ``new_messages`` are what the transcript should append."""

    text: str
    new_messages: tuple[Message, ...]


@dataclass(frozen=True, slots=True)
class Fail:
    code: FailureCode
    message: str


Step = CallModel | AskApproval | RunTool | Finish | Fail


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """What running one call produced.

    ``text`` is the user-facing rendering of a successful output; ``content``
    is what the model sees (JSON of the output, or of the error).
    """

    call_id: str
    ok: bool
    content: str
    text: str = ""
    error: str | None = None

    @classmethod
    def failure(cls, call_id: str, error: str) -> ToolOutcome:
        return cls(call_id, ok=False, content=json.dumps({"error": error}), error=error)


@dataclass(frozen=True, slots=True)
class ApprovalOutcome:
    approved: bool


_EXPECTS: Mapping[TurnPhase, type] = {
    _P.MODEL: ModelResult,
    _P.APPROVAL: ApprovalOutcome,
    _P.TOOL: ToolOutcome,
}


class TurnMachine:
    def __init__(self, plan: TurnPlan) -> None:
        self._plan = plan
        self._phase = TurnPhase.READY
        self._offered = frozenset(t.name for t in plan.tools)
        user = Message(Role.USER, plan.user_text)
        self._context = [Message(Role.SYSTEM, plan.system_prompt), *plan.history, user]
        self._new: list[Message] = [user]
        self._texts: list[str] = []
        self._queue: deque[ToolCall] = deque()
        self._approved: set[str] = set()
        self._last_outcome: ToolOutcome | None = None
        self.model_calls = 0

    @property
    def phase(self) -> TurnPhase:
        return self._phase

    def start(self) -> Step:
        if self._phase is not TurnPhase.READY:
            raise LoopProtocolError("start() called twice")
        if self._plan.command is not None:
            self._queue.append(self._plan.command)
            return self._next_call()
        return self._call_model()

    def send(self, result: ModelResult | ToolOutcome | ApprovalOutcome) -> Step:
        expected = _EXPECTS.get(self._phase)
        if expected is None or not isinstance(result, expected):
            raise LoopProtocolError(f"{type(result).__name__} does not answer phase {self._phase}")
        if isinstance(result, ModelResult):
            return self._on_model(result)
        if isinstance(result, ApprovalOutcome):
            return self._on_approval(result)
        return self._on_tool(result)

    # -- transitions -------------------------------------------------------

    def _move(self, phase: TurnPhase) -> None:
        if phase not in TRANSITIONS[self._phase]:
            raise LoopProtocolError(f"illegal turn transition {self._phase} -> {phase}")
        self._phase = phase

    def _call_model(self) -> Step:
        self._move(TurnPhase.MODEL)
        self.model_calls += 1
        forced = self._plan.forced_tool if self.model_calls == 1 else None
        tools, choice = self._tools_for_call(forced)
        return CallModel(tuple(self._context), tools, choice, self._plan.max_tokens)

    def _tools_for_call(self, forced: str | None) -> tuple[tuple[ToolDef, ...], ToolChoice]:
        if forced is not None:
            return tuple(t for t in self._plan.tools if t.name == forced), ForceTool(forced)
        if self._plan.forced_tool is not None or not self._plan.tools:
            return (), "none"
        return self._plan.tools, "auto"

    def _on_model(self, result: ModelResult) -> Step:
        if result.text:
            self._texts.append(result.text)
        self._append(Message(Role.ASSISTANT, result.text, tool_calls=result.tool_calls))
        if not result.tool_calls:
            return self._finish()
        if self.model_calls >= self._plan.max_steps and not self._plan.answer_from_tool:
            self._move(TurnPhase.FAILED)
            return Fail(FailureCode.STEP_LIMIT, f"stopped after {self.model_calls} model calls")
        self._queue.extend(result.tool_calls)
        return self._next_call()

    def _next_call(self) -> Step:
        while self._queue:
            call = self._queue[0]
            if self._plan.command is None and call.name not in self._offered:
                self._observe(ToolOutcome.failure(call.id, f"unknown tool {call.name!r}"))
                continue
            if call.name in self._plan.needs_approval and call.id not in self._approved:
                self._move(TurnPhase.APPROVAL)
                return AskApproval(call)
            self._move(TurnPhase.TOOL)
            return RunTool(call)
        if self._plan.command is not None or self._plan.answer_from_tool:
            return self._finish()
        return self._call_model()

    def _on_approval(self, outcome: ApprovalOutcome) -> Step:
        call = self._queue[0]
        if outcome.approved:
            self._approved.add(call.id)
        else:
            self._observe(ToolOutcome.failure(call.id, "the user denied this action"))
        return self._next_call()

    def _on_tool(self, outcome: ToolOutcome) -> Step:
        call = self._queue[0]
        if outcome.call_id != call.id:
            raise LoopProtocolError(f"outcome for {outcome.call_id!r}, expected {call.id!r}")
        self._observe(outcome)
        if self._plan.command is not None and not outcome.ok:
            self._move(TurnPhase.FAILED)
            return Fail(FailureCode.TOOL_ERROR, f"{call.name}: {outcome.error}")
        return self._next_call()

    def _observe(self, outcome: ToolOutcome) -> None:
        """Record ``outcome`` for the head of the queue and drop it from the queue."""
        call = self._queue.popleft()
        self._last_outcome = outcome
        if self._plan.command is None:
            content = cap_text(outcome.content, OBSERVATION_LIMIT)
            self._append(Message(Role.TOOL, content, tool_call_id=call.id))

    def _append(self, message: Message) -> None:
        self._context.append(message)
        self._new.append(message)

    def _finish(self) -> Step:
        self._move(TurnPhase.DONE)
        parts = list(self._texts)
        replies_with_tool = self._plan.command is not None or self._plan.answer_from_tool
        if replies_with_tool and (tool_text := self._tool_text()):
            parts.append(tool_text)
        text = TEXT_SEPARATOR.join(parts) or "(no reply)"
        self._record_reply(text)
        return Finish(text, tuple(self._new))

    def _record_reply(self, text: str) -> None:
        last = self._new[-1]
        if last.role is Role.ASSISTANT and not last.tool_calls:
            if last.content:
                return
            self._new.pop()
        self._new.append(Message(Role.ASSISTANT, text))

    def _tool_text(self) -> str:
        outcome = self._last_outcome
        if outcome is None:
            return ""
        return outcome.text if outcome.ok else f"Not done: {outcome.error}"


def cap_text(text: str, limit: int) -> str:
    """Keep the head and tail of ``text`` within ``limit`` chars, marking the cut."""
    if len(text) <= limit:
        return text
    half = limit // 2
    omitted = len(text) - 2 * half
    return f"{text[:half]}[… {omitted} chars omitted …]{text[-half:]}"
