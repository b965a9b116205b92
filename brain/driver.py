"""The async driver: carries out a ``TurnMachine``'s steps and reports ``ReplyEvent`` values.

Event order of one turn::

    Typing
    ( TextDelta* | ToolActivity(start) ToolActivity(end|error) FileReply* | ApprovalRequested )*
    FinalReply | TurnFailed

``FinalReply.text`` always equals the concatenation of the turn's
``TextDelta`` texts; text from successive model calls is separated by a blank
line.  The transcript is written before ``FinalReply`` is yielded, so a
consumer that stops right after it loses nothing; a failed or stopped turn
writes nothing.  Every turn's last event carries its exit status
(``gateway.events.ExitStatus``): ``completed`` or ``denied`` on a
``FinalReply``, and on a ``TurnFailed`` the status of its ``code``:

=====================  ==========================================================
``model_error``        the model answered with an error or a malformed response
                       (``retryable`` for 5xx, rate limits and timeouts)
``model_unavailable``  the model cannot be reached or used (connection, auth,
                       unknown model, llama-cpp-python missing); exit ``model_error``
``tool_error``         a direct ``/command``'s tool failed (a tool failing inside a
                       model turn is shown to the model instead)
``step_limit``         the model still wanted tools after ``max_steps`` calls
``token_budget``       the run used its token budget
``time_budget``        the run used its working-time budget
``stuck``              the loop detector stopped it (second hit); the message is
                       the diagnosis, also handed to ``on_stuck``
``format``             the structured reply stayed invalid after its re-asks
``bad_request``        the turn's input is unusable (e.g. longer than ``max_input_chars``)
``internal``           a bug or an unexpected failure (transcript, sandbox); logged
=====================  ==========================================================

Time: the driver measures each model call and tool run with ``clock`` and
reports it to the machine (the time budget); waiting for a person does not count.

Approvals go through :class:`~brain.approvals.RunApprovals`: the paused turn
is saved before ``ApprovalRequested`` is yielded, a decided call is claimed
before it runs, and its outcome stored.

Stopping: closing the iterator or cancelling its consumer raises
``GeneratorExit``/``CancelledError`` at the current ``await``; the model
stream is closed (``aclosing``), the run's approval requests are withdrawn
(kept open when the process is draining, to continue after the restart) and
the exception propagates.  ``FinalReply(status=STOPPED)`` is the gateway's to send.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import aclosing

from brain.approvals import RunApprovals
from brain.errors import FailureCode, ModelError, ModelResponseError
from brain.guard.checkpoint import dumps
from brain.guard.exits import exit_for
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
from brain.models.base import Message, ModelProvider, ModelRequest, ModelResult, ToolCall
from gateway.events import (
    ApprovalDecision,
    ApprovalRequested,
    ExitStatus,
    FileReply,
    FinalReply,
    ReplyEvent,
    TextDelta,
    ToolActivity,
    ToolPhase,
    TurnFailed,
    Typing,
)

__all__ = ["StuckHook", "ToolExecutor", "TurnDriver", "describe_call"]

log = logging.getLogger(__name__)

ToolExecutor = Callable[[ToolCall], Awaitable[ToolOutcome]]
# Told the diagnosis and the turn's messages when the loop detector stops a run.
StuckHook = Callable[[str, Sequence[Message]], None]
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
        approvals: RunApprovals,
        on_finish: Callable[[Finish], None],
        on_stuck: StuckHook | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._run_id = run_id
        self._conversation_id = conversation_id
        self._provider = provider
        self._execute = execute
        self._approvals = approvals
        self._on_finish = on_finish
        self._on_stuck = on_stuck
        self._clock = clock
        self._emitted: list[str] = []

    async def run(self, machine: TurnMachine) -> AsyncGenerator[ReplyEvent, None]:
        yield Typing(self._run_id)
        try:
            async with aclosing(self._steps(machine)) as events:
                async for event in events:
                    yield event
        except BaseException:  # stopped: GeneratorExit, CancelledError
            self._approvals.abandon()
            raise

    async def _steps(self, machine: TurnMachine) -> AsyncGenerator[ReplyEvent, None]:
        try:
            step = machine.start()
            while not isinstance(step, Finish | Fail):
                started = self._clock()
                # aclosing: a stopped turn must close the inner generator now, not at GC.
                async with aclosing(self._carry_out(step, machine)) as items:
                    async for item in items:
                        if isinstance(item, ReplyEvent):
                            yield item
                            continue
                        waited = isinstance(step, AskApproval)  # a person's time is not work
                        worked = 0.0 if waited else self._clock() - started
                        step = machine.send(item, seconds=worked)
        except ModelError as exc:
            log.warning("run %s: model error: %s", self._run_id, exc)
            ending: list[ReplyEvent] = [_failed(self._run_id, exc.code, str(exc), exc.retryable)]
        except Exception:
            log.exception("run %s failed", self._run_id)
            ending = [_failed(self._run_id, FailureCode.INTERNAL, "internal error")]
        else:
            ending = self._end(step, machine)
        self._approvals.settle()  # before the last event: a consumer may stop right after it
        for event in ending:
            yield event

    def _carry_out(
        self, step: CallModel | RunTool | AskApproval, machine: TurnMachine
    ) -> AsyncGenerator[_Item, None]:
        if isinstance(step, CallModel):
            return self._call_model(step)
        if isinstance(step, RunTool):
            return self._run_tool(step.call)
        return self._ask(step.call, machine)

    async def _call_model(self, step: CallModel) -> AsyncGenerator[TextDelta | ModelResult, None]:
        request = ModelRequest(
            step.messages,
            step.tools,
            step.tool_choice,
            step.max_tokens,
            self._conversation_id,
            response_format="json" if step.json else "text",
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

    async def _run_tool(
        self, call: ToolCall
    ) -> AsyncGenerator[ToolActivity | FileReply | ToolOutcome, None]:
        yield ToolActivity(self._run_id, call.name, ToolPhase.START, describe_call(call))
        outcome = self._approvals.claim(call)
        if outcome is None:
            outcome = await self._execute(call)
            self._approvals.ran(call, outcome)
        phase = ToolPhase.END if outcome.ok else ToolPhase.ERROR
        yield ToolActivity(self._run_id, call.name, phase, outcome.error)
        for sent in outcome.files:
            yield FileReply(
                self._run_id, sent.file_id, sent.name, sent.media_type, sent.size, sent.caption
            )
        yield outcome

    async def _ask(
        self, call: ToolCall, machine: TurnMachine
    ) -> AsyncGenerator[ApprovalRequested | ApprovalOutcome, None]:
        summary = describe_call(call)
        save = lambda: dumps(machine.snapshot())  # noqa: E731 - only a new request saves
        async with self._approvals.ask(call, summary, save) as pending:
            if pending.announce:
                yield ApprovalRequested(self._run_id, pending.request_id, call.name, summary)
            decision = await pending.wait()
        yield ApprovalOutcome(approved=decision is ApprovalDecision.APPROVE)

    def _end(self, step: Finish | Fail, machine: TurnMachine) -> list[ReplyEvent]:
        if isinstance(step, Fail):
            if step.status is ExitStatus.STUCK:
                self._report_stuck(step.message, machine)
            return [TurnFailed(self._run_id, step.status.value, step.message)]
        events: list[ReplyEvent] = []
        streamed = "".join(self._emitted)
        if step.text.startswith(streamed) and len(step.text) > len(streamed):
            events.append(self._delta(step.text[len(streamed) :]))
        try:
            self._on_finish(step)
        except Exception:
            log.exception("run %s: cannot save the transcript", self._run_id)
            return [_failed(self._run_id, FailureCode.INTERNAL, "cannot save the conversation")]
        text = "".join(self._emitted)
        # Set only where it differs from what ``status`` says (gateway.events.exit_status_of).
        exit_status = None if step.exit_status is ExitStatus.COMPLETED else step.exit_status
        return [*events, FinalReply(self._run_id, text, exit_status=exit_status)]

    def _report_stuck(self, diagnosis: str, machine: TurnMachine) -> None:
        log.warning("run %s stopped, stuck: %s", self._run_id, diagnosis)
        if self._on_stuck is None:
            return
        try:
            self._on_stuck(diagnosis, machine.turn_messages)
        except Exception:  # the run's end must reach the user even if the log cannot be written
            log.exception("run %s: cannot write the stuck diagnosis", self._run_id)

    def _delta(self, text: str) -> TextDelta:
        self._emitted.append(text)
        return TextDelta(self._run_id, text)


def _failed(run_id: str, code: FailureCode, message: str, retryable: bool = False) -> TurnFailed:
    # The exit status is set only where the code does not name it (exit_status_of).
    status = exit_for(code)
    explicit = None if status.value == code.value else status
    return TurnFailed(run_id, code.value, message, retryable, explicit)


def describe_call(call: ToolCall) -> str:
    """A short, user-facing line: ``calculator · evaluate (expression: 2*(3+4))``."""
    skill, _, tool = call.name.partition("__")
    name = f"{skill} · {tool}" if tool else skill
    shown = ", ".join(f"{key}: {_shown(value)}" for key, value in call.arguments.items())
    text = f"{name} ({shown})" if shown else name
    return text if len(text) <= _SUMMARY_LIMIT else text[: _SUMMARY_LIMIT - 1] + "…"


def _shown(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
