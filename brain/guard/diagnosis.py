"""A stuck run's diagnosis in the session log (tier 2 memory), next to the turns it cut short."""

from __future__ import annotations

from collections.abc import Sequence

from brain.memory.session_log import SessionLog
from brain.memory.turnlog import FIELD_LIMIT, turn_actions
from brain.models.base import Message

__all__ = ["log_stuck"]


def log_stuck(log: SessionLog, *, goal: str, messages: Sequence[Message], diagnosis: str) -> None:
    """Append a turn section for a run the loop detector stopped; ``messages`` is the turn's."""
    log.append_turn(
        goal=goal[:FIELD_LIMIT].strip() or "(no text)",
        actions=turn_actions(messages),
        result=f"stuck: {diagnosis}"[:FIELD_LIMIT],
        critique=(
            f"The loop detector stopped this run: it {diagnosis}. "
            "Repeating the same step did not help."
        )[:FIELD_LIMIT],
        carry_forward="Take a different approach to this goal; do not repeat the calls above.",
    )
