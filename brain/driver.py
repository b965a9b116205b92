"""The async driver: carries out a ``TurnMachine``'s steps and reports ``ReplyEvent`` values.

Event order of one turn::

    Typing
    ( TextDelta* | ToolActivity(start) ToolActivity(end|error) | ApprovalRequested )*
    FinalReply | TurnFailed

``FinalReply.text`` always equals the concatenation of the turn's
``TextDelta`` texts; text from successive model calls is separated by a blank
line.  The transcript is written before ``FinalReply`` is yielded, so a
consumer that stops right after it loses nothing; a failed or stopped turn
writes nothing.

``TurnFailed.code`` is one of (``brain.errors.FailureCode``):

=====================  ==========================================================
``model_error``        the model answered with an error or a malformed response
                       (``retryable`` for 5xx, rate limits and timeouts)
``model_unavailable``  the model cannot be reached or used (connection, auth,
                       unknown model, llama-cpp-python missing)
``tool_error``         a direct ``/command``'s tool failed (a tool failing inside a
                       model turn is shown to the model instead)
``step_limit``         the model still wanted tools after ``max_steps`` calls
``bad_request``        the turn's input is unusable (e.g. longer than ``max_input_chars``)
``internal``           a bug or an unexpected failure (transcript, sandbox); logged
=====================  ==========================================================

Stopping: closing the iterator or cancelling its consumer raises
``GeneratorExit``/``CancelledError`` at the current ``await``; the model
stream is closed (``aclosing``), a pending approval is withdrawn, and the
exception propagates.  ``FinalReply(status=STOPPED)`` is the gateway's to send.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing

from brain.approvals import ApprovalGate
from brain.errors import FailureCode, ModelError, ModelResponseError
from brain.loop import (
    TEXT_SEPARATOR,
    ApprovalOutcome,
    AskApproval,
    CallModel,
    Fail,
    Finish,
    RunTool,
    ToolOutcome,
    TurnMachine,
)
from brain.models.base import ModelProvider, ModelRequest, ModelResult, ToolCall
from gateway.events import (
    ApprovalDecision,
    ApprovalRequested,
    FinalReply,
    ReplyEvent,
    TextDelta,
    ToolActivity,
    ToolPhase,
    TurnFailed,
    Typing,
)

__all__ = ["ToolExecutor", "TurnDriver", "describe_call"]

log = logging.getLogger(__name__)

ToolExecutor = Callable[[ToolCall], Awaitable[ToolOutcome]]
_Item = ReplyEvent | ModelResult | ToolOutcome | ApprovalOutcome
_SUMMARY_LIMIT = 200


class TurnDriver:
    """Drives one turn; make a new driver per turn."""

    def __init__(
        self,
        *,
        run_id: str,
        conversation_id: str,
        provider: ModelProvider,
        execute: ToolExecutor,
        approvals: ApprovalGate,
        on_finish: Callable[[Finish], None],
    ) -> None:
        self._run_id = run_id
        self._conversation_id = conversation_id
        self._provider = provider
        self._execute = execute
        self._approvals = approvals
        self._on_finish = on_finish
        self._emitted: list[str] = []

    async def run(self, machine: TurnMachine) -> AsyncGenerator[ReplyEvent, None]:
        yield Typing(self._run_id)
        try:
            step = machine.start()
            while not isinstance(step, Finish | Fail):
                # aclosing: a stopped turn must close the inner generator now, not at GC.
                async with aclosing(self._carry_out(step)) as items:
                    async for item in items:
                        if isinstance(item, ReplyEvent):
                            yield item
                        else:
                            step = machine.send(item)
        except ModelError as exc:
            log.warning("run %s: model error: %s", self._run_id, exc)
            yield TurnFailed(self._run_id, exc.code.value, str(exc), exc.retryable)
            return
        except Exception:
            log.exception("run %s failed", self._run_id)
            yield TurnFailed(self._run_id, FailureCode.INTERNAL.value, "internal error")
            return
        for event in self._end(step):
            yield event

    def _carry_out(self, step: CallModel | RunTool | AskApproval) -> AsyncGenerator[_Item, None]:
        if isinstance(step, CallModel):
            return self._call_model(step)
        if isinstance(step, RunTool):
            return self._run_tool(step.call)
        return self._ask(step.call)

    async def _call_model(self, step: CallModel) -> AsyncGenerator[TextDelta | ModelResult, None]:
        request = ModelRequest(
            step.messages, step.tools, step.tool_choice, step.max_tokens, self._conversation_id
        )
        separator = TEXT_SEPARATOR if self._emitted else ""
        async with aclosing(self._provider.stream(request)) as chunks:
            async for chunk in chunks:
                if isinstance(chunk, ModelResult):
                    yield chunk
                    return
                if chunk.text:
                    yield self._delta(separator + chunk.text)
                    separator = ""
        raise ModelResponseError(
            "the model stream ended without a result", provider=self._provider.name
        )

    async def _run_tool(self, call: ToolCall) -> AsyncGenerator[ToolActivity | ToolOutcome, None]:
        yield ToolActivity(self._run_id, call.name, ToolPhase.START, describe_call(call))
        outcome = await self._execute(call)
        phase = ToolPhase.END if outcome.ok else ToolPhase.ERROR
        yield ToolActivity(self._run_id, call.name, phase, outcome.error)
        yield outcome

    async def _ask(
        self, call: ToolCall
    ) -> AsyncGenerator[ApprovalRequested | ApprovalOutcome, None]:
        async with self._approvals.request(self._run_id, call.name) as pending:
            yield ApprovalRequested(
                self._run_id, pending.request_id, call.name, describe_call(call)
            )
            decision = await pending.wait()
        yield ApprovalOutcome(approved=decision is ApprovalDecision.APPROVE)

    def _end(self, step: Finish | Fail) -> list[ReplyEvent]:
        if isinstance(step, Fail):
            return [TurnFailed(self._run_id, step.code.value, step.message)]
        events: list[ReplyEvent] = []
        streamed = "".join(self._emitted)
        if step.text.startswith(streamed) and len(step.text) > len(streamed):
            events.append(self._delta(step.text[len(streamed) :]))
        try:
            self._on_finish(step)
        except Exception:
            log.exception("run %s: cannot save the transcript", self._run_id)
            message = "cannot save the conversation"
            return [TurnFailed(self._run_id, FailureCode.INTERNAL.value, message)]
        return [*events, FinalReply(self._run_id, "".join(self._emitted))]

    def _delta(self, text: str) -> TextDelta:
        self._emitted.append(text)
        return TextDelta(self._run_id, text)


def describe_call(call: ToolCall) -> str:
    """A short, user-facing line: ``calculator · evaluate (expression: 2*(3+4))``."""
    skill, _, tool = call.name.partition("__")
    name = f"{skill} · {tool}" if tool else skill
    shown = ", ".join(f"{key}: {_shown(value)}" for key, value in call.arguments.items())
    text = f"{name} ({shown})" if shown else name
    return text if len(text) <= _SUMMARY_LIMIT else text[: _SUMMARY_LIMIT - 1] + "…"


def _shown(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
