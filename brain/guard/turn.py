"""One turn's guardrail state, fed by the turn machine: budgets spent, loop detector, re-asks.

Pure bookkeeping (no I/O): the machine reports what happened and asks
whether it may start new work; a :class:`TurnGuard` answers with an exit
status and a message, a nudge to show the model, or nothing.  Its state is
saved with a paused turn (``brain.guard.checkpoint``) and restored with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from brain.guard.budgets import Budgets, Spent, tokens_used
from brain.guard.stuck import (
    Action,
    AgentMessage,
    Observation,
    StuckDetector,
    StuckEvent,
    StuckThresholds,
)
from brain.guard.validation import check_output, requery_prompt
from brain.models.base import ModelResult, ToolCall
from gateway.events import ExitStatus

__all__ = ["Ending", "FormatCheck", "TurnGuard"]

_NOTHING = Spent()
Ending = tuple[ExitStatus, str]  # how a turn must end: the status and a message for people


@dataclass(frozen=True, slots=True)
class FormatCheck:
    """The verdict on a structured reply: valid (``value``), ask again (``requery``), or end."""

    value: object = None
    requery: str | None = None
    ending: Ending | None = None


class TurnGuard:
    def __init__(
        self,
        *,
        budgets: Budgets,
        thresholds: StuckThresholds,
        max_requeries: int,
        spent: Spent = _NOTHING,
        window: Sequence[StuckEvent] = (),
        hits: int = 0,
        requeries: int = 0,
    ) -> None:
        self._budgets = budgets
        self._max_requeries = max_requeries
        self._detector = StuckDetector(thresholds, events=window, hits=hits)
        self.spent = spent
        self.requeries = requeries
        self._halt: Ending | None = None

    @property
    def window(self) -> tuple[StuckEvent, ...]:
        return self._detector.window

    @property
    def hits(self) -> int:
        return self._detector.hits

    def worked(self, seconds: float) -> None:
        self.spent = self.spent.plus(seconds=seconds)

    def model_called(self, prompt_chars: int, result: ModelResult) -> None:
        """Count a call's tokens; ``prompt_chars``: see ``budgets.tokens_used``."""
        self.spent = self.spent.plus(tokens=tokens_used(prompt_chars, result))

    def before_work(self) -> Ending | None:
        """Why the turn may not start a model call or a tool now, if it may not."""
        return self._halt or self._budgets.exceeded(self.spent)

    def observed(self, call: ToolCall, content: str, *, error: bool) -> str | None:
        """Record a call and its observation; the nudge to append to it, if any.

        A second hit halts the turn: :meth:`before_work` then ends it ``stuck``.
        """
        self._detector.record(Action.of(call.name, call.arguments))
        hit = self._detector.record(Observation(content, error))
        if hit is not None and hit.stop:
            self._halt = (ExitStatus.STUCK, hit.diagnosis)
            return None
        return None if hit is None else hit.nudge

    def said_again(self, text: str, prompt: str) -> str | Ending:
        """A reply that does not end the turn (empty, or sent back): the prompt to ask
        again with (a nudge added on a first hit), or the ending on a second hit."""
        hit = self._detector.record(AgentMessage(text))
        if hit is None:
            return prompt
        if hit.stop:
            return (ExitStatus.STUCK, hit.diagnosis)
        return f"{prompt} {hit.nudge}"

    def check_format(self, schema: Mapping[str, object], text: str) -> FormatCheck:
        """Validate a structured reply; at most ``max_requeries`` re-asks, then ``format``."""
        check = check_output(schema, text)
        if check.error is None:
            return FormatCheck(check.value)
        limit = self._max_requeries
        if self.requeries >= limit:
            message = f"the reply did not have the required format after {limit} re-asks: "
            return FormatCheck(ending=(ExitStatus.FORMAT, message + check.error))
        self.requeries += 1
        return FormatCheck(requery=requery_prompt(check.error, attempt=self.requeries, limit=limit))
