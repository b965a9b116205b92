"""A turn saved while it waits for an approval: enough to continue it in another process.

:class:`Continuation` is what ``TurnMachine.snapshot()`` returns and
``TurnMachine.restore()`` takes: the shape of the plan (:class:`PlanShape`)
and the machine's state (every message so far,
the calls still to run with the one awaiting approval first, the counters of
the budgets, the loop detector's window).  Permission rules, risk levels and
budget limits are not saved: a continued turn obeys the configuration of the
process that continues it.

It is stored as JSON (:func:`dumps` / :func:`loads`); every message field is
kept, including a provider's opaque ``native`` copy, so reasoning replays
byte for byte after a restart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields

from brain.guard._codec import decode, encode
from brain.guard.budgets import Spent
from brain.guard.errors import CheckpointError
from brain.guard.stuck import StuckEvent
from brain.models.base import Message, ToolCall, ToolDef

__all__ = ["FORMAT_VERSION", "SHAPE_FIELDS", "Continuation", "PlanShape", "dumps", "loads"]

FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class PlanShape:
    """The parts of a ``TurnPlan`` a saved turn keeps (what the model was offered, how
    the turn replies); the rest comes from the configuration that continues it."""

    system_prompt: str
    user_text: str
    tools: tuple[ToolDef, ...]
    forced_tool: str | None
    command: ToolCall | None
    answer_from_tool: bool
    max_steps: int
    max_tokens: int | None
    output_schema: Mapping[str, object] | None


SHAPE_FIELDS = tuple(f.name for f in fields(PlanShape))


@dataclass(frozen=True, slots=True)
class Continuation:
    shape: PlanShape
    context: tuple[Message, ...]
    new_from: int  # context[new_from:] is this turn's part, from the user's message on
    queue: tuple[ToolCall, ...]  # queue[0] awaits the approval
    model_calls: int
    requeries: int
    refused: bool
    spent: Spent
    stuck_window: tuple[StuckEvent, ...]
    stuck_hits: int

    @property
    def pending(self) -> ToolCall:
        return self.queue[0]

    def __post_init__(self) -> None:
        if not self.queue:
            raise CheckpointError("a continuation needs the call that awaits approval")
        if not 0 < self.new_from < len(self.context) + 1:
            raise CheckpointError(f"new_from {self.new_from} is outside the context")


def dumps(continuation: Continuation) -> str:
    document = {"version": FORMAT_VERSION, "continuation": encode(continuation)}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> Continuation:
    """Read a saved continuation; raises ``CheckpointError`` naming what is wrong."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise CheckpointError(f"a saved turn is not JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
        raise CheckpointError("a saved turn has an unknown format version")
    result: Continuation = decode(Continuation, document.get("continuation"), "continuation")
    return result
