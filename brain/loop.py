"""The turn as a pure step machine: no I/O, no asyncio.

Theory of operation
-------------------
A :class:`TurnMachine` is built from a :class:`TurnPlan` (context, tools,
limits, guardrails).  ``start()`` returns the first :data:`Step`; the driver
carries the step out and hands the result to ``send()`` (with how long the
step took), which returns the next step, until a :class:`Finish` or
:class:`Fail`.  The conversation is::

    CallModel    --ModelResult-->      next step
    AskApproval  --ApprovalOutcome-->  RunTool (approved) or an observation "denied"
    RunTool      --ToolOutcome-->      next step

The phases and the legal moves between them are the table ``TRANSITIONS``;
an illegal move, or a result that does not answer the pending step, raises
``LoopProtocolError`` (a driver bug, never user input).

Policies decided here, so that tests can step through them without a network:

* a model result with tool calls runs them in order, feeds each outcome back
  as a tool message and calls the model again; a result with text and no
  tool calls finishes; an empty one is asked again;
* every call passes the permission pipeline (``brain.guard.permissions``,
  with the risk ``plan.risk_of`` gives): allowed calls run, refused ones
  become an observation for the model, the rest ask a person first.  Without
  ``plan.permissions`` only the tools in ``needs_approval`` ask;
* budgets (``brain.guard.budgets``) are checked before new work: ``max_steps``
  model calls (a model that still wants tools after the last allowed call ends
  with ``step_limit`` before any of them runs), tokens, working time;
* the loop detector (``brain.guard.stuck``) sees every action, observation
  and asked-again reply: its first hit appends a nudge to what the model sees
  next, its second ends the turn with ``stuck``;
* with ``plan.output_schema`` the final reply must be JSON valid against it;
  an invalid one is sent back with the reason at most ``plan.max_requeries``
  times, then the turn ends with ``format``;
* a call to a tool that was not offered, a failed tool and a refused call
  become observations for the model, never exceptions;
* a direct command (``plan.command``) runs one tool without the model and
  replies with its text; ``answer_from_tool`` does the same after a forced
  tool call (for models too small to phrase a tool's answer reliably);
* the final text is the non-empty texts of all model calls joined by a blank
  line, exactly what the driver streamed.

While it waits for an approval the machine can be saved (``snapshot()``) and
continued later, in another process (``TurnMachine.restore``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from brain.errors import LoopProtocolError
from brain.guard.budgets import Budgets, Spent, message_chars
from brain.guard.checkpoint import SHAPE_FIELDS, Continuation, PlanShape
from brain.guard.permissions import (
    Decision,
    Mode,
    PermissionPolicy,
    PermissionRequest,
    Verdict,
)
from brain.guard.stuck import StuckThresholds
from brain.guard.turn import Ending, TurnGuard
from brain.guard.validation import DEFAULT_MAX_REQUERIES
from brain.models.base import ForceTool, Message, ModelResult, Role, ToolCall, ToolChoice, ToolDef
from brain.steps import (
    EXPECTED,
    NOTICE_PREFIX,
    OBSERVATION_LIMIT,
    TEXT_SEPARATOR,
    TRANSITIONS,
    ApprovalOutcome,
    AskApproval,
    CallModel,
    Fail,
    Finish,
    RunTool,
    Step,
    ToolOutcome,
    TurnPhase,
    cap_text,
)
from gateway.events import ExitStatus

__all__ = [
    "NOTICE_PREFIX",
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
    "cap_text",
]

_EMPTY_REPLY = "Your reply was empty. Answer the user's message, or call a tool."


def _unknown_risk(call: ToolCall) -> str:
    return "unknown"


_BUDGETS = Budgets()
_STUCK = StuckThresholds()


@dataclass(frozen=True, slots=True)
class TurnPlan:
    """Everything one turn needs; built by the brain from settings, skills and the transcript.

    ``risk_of`` names a call's risk (``brain.guard.permissions.RISK_LEVELS``);
    the permission pipeline runs only when ``permissions`` is set.
    """

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
    permissions: PermissionPolicy | None = None
    risk_of: Callable[[ToolCall], str] = _unknown_risk
    budgets: Budgets = _BUDGETS
    stuck: StuckThresholds = _STUCK
    output_schema: Mapping[str, object] | None = None
    max_requeries: int = DEFAULT_MAX_REQUERIES


class TurnMachine:
    def __init__(self, plan: TurnPlan, *, guard: TurnGuard | None = None) -> None:
        self._plan = plan
        self._policy = _policy(plan)
        self._guard = guard or TurnGuard(
            budgets=plan.budgets, thresholds=plan.stuck, max_requeries=plan.max_requeries
        )
        self._phase = TurnPhase.READY
        self._offered = frozenset(t.name for t in plan.tools)
        self._context = [Message(Role.SYSTEM, plan.system_prompt), *plan.history]
        self._new_from = len(self._context)
        self._context.append(Message(Role.USER, plan.user_text))
        self._texts: list[str] = []
        self._queue: deque[ToolCall] = deque()
        self._approved: set[str] = set()
        self._last_outcome: ToolOutcome | None = None
        self._chars = sum(map(message_chars, self._context))  # running, for the token estimate
        self._prompt_chars = 0
        self.model_calls = 0
        self._refused = False
        self._resumed = False

    @classmethod
    def restore(cls, template: TurnPlan, saved: Continuation) -> TurnMachine:
        """Continue a saved turn; ``template`` supplies this process's guardrails."""
        shape: dict[str, Any] = {name: getattr(saved.shape, name) for name in SHAPE_FIELDS}
        plan = replace(template, history=(), **shape)
        guard = TurnGuard(
            budgets=template.budgets,
            thresholds=template.stuck,
            max_requeries=template.max_requeries,
            spent=saved.spent,
            window=saved.stuck_window,
            hits=saved.stuck_hits,
            requeries=saved.requeries,
        )
        machine = cls(plan, guard=guard)
        machine._context = list(saved.context)
        machine._chars = sum(map(message_chars, saved.context))
        machine._new_from = saved.new_from
        machine._queue = deque(saved.queue)
        machine.model_calls = saved.model_calls
        machine._refused = saved.refused
        machine._resumed = True
        return machine

    @property
    def phase(self) -> TurnPhase:
        return self._phase

    @property
    def spent(self) -> Spent:
        return self._guard.spent

    @property
    def turn_messages(self) -> tuple[Message, ...]:
        """This turn's messages so far, from the user's on (what a log of the turn shows)."""
        return tuple(self._context[self._new_from :])

    def start(self) -> Step:
        """The first step; a restored machine first asks again for its saved approval."""
        if self._phase is not TurnPhase.READY:
            raise LoopProtocolError("start() called twice")
        if self._resumed:
            self._move(TurnPhase.APPROVAL)
            return AskApproval(self._queue[0], "saved before a restart")
        if self._plan.command is not None:
            self._queue.append(self._plan.command)
            return self._next_call()
        return self._call_model()

    def send(
        self, result: ModelResult | ToolOutcome | ApprovalOutcome, *, seconds: float = 0.0
    ) -> Step:
        """The next step after ``result``; ``seconds`` is how long that step worked."""
        expected = EXPECTED.get(self._phase)
        if expected is None or not isinstance(result, expected):
            raise LoopProtocolError(f"{type(result).__name__} does not answer phase {self._phase}")
        self._guard.worked(seconds)
        if isinstance(result, ModelResult):
            return self._on_model(result)
        if isinstance(result, ApprovalOutcome):
            return self._on_approval(result)
        return self._on_tool(result)

    def snapshot(self) -> Continuation:
        """Everything needed to continue this turn elsewhere; only while awaiting approval."""
        if self._phase is not TurnPhase.APPROVAL:
            raise LoopProtocolError(f"snapshot() in phase {self._phase}")
        shape: dict[str, Any] = {name: getattr(self._plan, name) for name in SHAPE_FIELDS}
        return Continuation(
            shape=PlanShape(**shape),
            context=tuple(self._context),
            new_from=self._new_from,
            queue=tuple(self._queue),
            model_calls=self.model_calls,
            requeries=self._guard.requeries,
            refused=self._refused,
            spent=self._guard.spent,
            stuck_window=self._guard.window,
            stuck_hits=self._guard.hits,
        )

    # -- transitions -------------------------------------------------------

    def _move(self, phase: TurnPhase) -> None:
        if phase not in TRANSITIONS[self._phase]:
            raise LoopProtocolError(f"illegal turn transition {self._phase} -> {phase}")
        self._phase = phase

    def _call_model(self) -> Step:
        if stop := self._stop_before_work():
            return stop
        if self.model_calls >= self._plan.max_steps:
            return self._step_limit()
        self._move(TurnPhase.MODEL)
        self.model_calls += 1
        forced = self._plan.forced_tool if self.model_calls == 1 else None
        tools, choice = self._tools_for_call(forced)
        self._prompt_chars = self._chars
        wants_json = self._plan.output_schema is not None
        prompt = tuple(self._context)
        return CallModel(prompt, tools, choice, self._plan.max_tokens, wants_json)

    def _tools_for_call(self, forced: str | None) -> tuple[tuple[ToolDef, ...], ToolChoice]:
        if forced is not None:
            return tuple(t for t in self._plan.tools if t.name == forced), ForceTool(forced)
        if self._plan.forced_tool is not None or not self._plan.tools:
            return (), "none"
        return self._plan.tools, "auto"

    def _on_model(self, result: ModelResult) -> Step:
        self._guard.model_called(self._prompt_chars, result)
        if not result.tool_calls and not result.text.strip():
            return self._ask_again(result.text, _EMPTY_REPLY)
        if result.text:
            self._texts.append(result.text)
        self._append(result.message())
        if not result.tool_calls:
            return self._check_format(result.text) if self._plan.output_schema else self._finish()
        if self.model_calls >= self._plan.max_steps and not self._plan.answer_from_tool:
            return self._step_limit()
        self._queue.extend(result.tool_calls)
        return self._next_call()

    def _check_format(self, text: str) -> Step:
        assert self._plan.output_schema is not None
        verdict = self._guard.check_format(self._plan.output_schema, text)
        if verdict.ending is not None:
            return self._fail(*verdict.ending)
        if verdict.requery is not None:
            return self._ask_again(text, verdict.requery)
        return self._finish(verdict.value)

    def _ask_again(self, text: str, prompt: str) -> Step:
        """Call the model again after a reply that did not end the turn."""
        said = self._guard.said_again(text, prompt)
        if isinstance(said, tuple):
            return self._fail(*said)
        self._append(Message(Role.USER, NOTICE_PREFIX + said))
        return self._call_model()

    def _next_call(self) -> Step:
        while self._queue:
            if stop := self._stop_before_work():
                return stop
            call = self._queue[0]
            if self._plan.command is None and call.name not in self._offered:
                self._observe(ToolOutcome.failure(call.id, f"unknown tool {call.name!r}"))
                continue
            decision = self._permit(call)
            if decision.verdict is Verdict.DENY:
                self._refuse(call, f"not allowed: {decision.reason}")
                continue
            if decision.verdict is Verdict.ASK and call.id not in self._approved:
                self._move(TurnPhase.APPROVAL)
                return AskApproval(call, decision.reason)
            self._move(TurnPhase.TOOL)
            return RunTool(call)
        if stop := self._stop_before_work():
            return stop
        if self._plan.command is not None or self._plan.answer_from_tool:
            return self._finish()
        return self._call_model()

    def _permit(self, call: ToolCall) -> Decision:
        if self._policy is None:
            if call.name in self._plan.needs_approval:
                return Decision(Verdict.ASK, "listed as needing approval")
            return Decision(Verdict.ALLOW, "no permission rules")
        request = PermissionRequest(call.name, call.arguments, self._plan.risk_of(call))
        return self._policy.decide(request)

    def _stop_before_work(self) -> Fail | None:
        ending: Ending | None = self._guard.before_work()
        return None if ending is None else self._fail(*ending)

    def _on_approval(self, outcome: ApprovalOutcome) -> Step:
        call = self._queue[0]
        if outcome.approved:
            self._approved.add(call.id)
        else:
            self._refuse(call, "the user denied this action")
        return self._next_call()

    def _refuse(self, call: ToolCall, reason: str) -> None:
        # Plan mode refuses by design: its reply is still the whole answer.
        if self._policy is None or self._policy.mode is not Mode.PLAN:
            self._refused = True
        self._observe(ToolOutcome.failure(call.id, reason))

    def _on_tool(self, outcome: ToolOutcome) -> Step:
        call = self._queue[0]
        if outcome.call_id != call.id:
            raise LoopProtocolError(f"outcome for {outcome.call_id!r}, expected {call.id!r}")
        self._observe(outcome)
        if self._plan.command is not None and not outcome.ok:
            return self._fail(ExitStatus.TOOL_ERROR, f"{call.name}: {outcome.error}")
        return self._next_call()

    def _observe(self, outcome: ToolOutcome) -> None:
        """Record ``outcome`` for the head of the queue and drop it from the queue."""
        call = self._queue.popleft()
        self._last_outcome = outcome
        if self._plan.command is not None:
            return  # no model sees it
        content = cap_text(outcome.content, OBSERVATION_LIMIT)
        nudge = self._guard.observed(call, outcome.content, error=not outcome.ok)
        if nudge is not None:
            content = f"{content}{TEXT_SEPARATOR}{NOTICE_PREFIX}{nudge}"
        self._append(Message(Role.TOOL, content, tool_call_id=call.id))

    def _append(self, message: Message) -> None:
        self._context.append(message)
        self._chars += message_chars(message)

    def _step_limit(self) -> Fail:
        return self._fail(ExitStatus.STEP_LIMIT, f"stopped after {self.model_calls} model calls")

    def _fail(self, status: ExitStatus, message: str) -> Fail:
        self._move(TurnPhase.FAILED)
        return Fail(status, message)

    def _finish(self, output: object = None) -> Finish:
        self._move(TurnPhase.DONE)
        parts = list(self._texts)
        replies_with_tool = self._plan.command is not None or self._plan.answer_from_tool
        if replies_with_tool and (tool_text := self._tool_text()):
            parts.append(tool_text)
        text = TEXT_SEPARATOR.join(parts) or "(no reply)"
        status = ExitStatus.DENIED if self._refused else ExitStatus.COMPLETED
        return Finish(text, self._new_messages(text), status, output)

    def _new_messages(self, text: str) -> tuple[Message, ...]:
        new = self._context[self._new_from :]
        last = new[-1]
        if last.role is Role.ASSISTANT and not last.tool_calls and last.content:
            return tuple(new)
        return (*new, Message(Role.ASSISTANT, text))

    def _tool_text(self) -> str:
        outcome = self._last_outcome
        if outcome is None:
            return ""
        return outcome.text if outcome.ok else f"Not done: {outcome.error}"


def _policy(plan: TurnPlan) -> PermissionPolicy | None:
    if plan.permissions is None:
        return None
    return plan.permissions.with_ask(plan.needs_approval)
