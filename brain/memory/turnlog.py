"""What the brain writes to the session log after a completed turn, derived from its messages.

No model is asked: the sections are extracted from the turn's own messages,
so writing them costs no tokens and is deterministic.  ``Goal`` is the user's
text, ``Actions`` the tool calls in order (a tool message whose content is
``{"error": ...}``, what ``ToolOutcome.failure`` sends the model, counts as
failed), ``Result`` the reply, ``Self-critique`` what failed and what to try
next, ``Carry-forward`` what is left open.  Long texts are cut at
:data:`FIELD_LIMIT` characters.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from brain.memory.logformat import ActionEntry, TurnEntry, args_digest
from brain.memory.session_log import SessionLog
from brain.models.base import Message, Role

__all__ = ["FIELD_LIMIT", "record_turn", "turn_actions"]

FIELD_LIMIT = 1_000


def record_turn(
    log: SessionLog, *, goal: str, messages: Sequence[Message], reply: str
) -> TurnEntry:
    """Append the section for one completed turn (``messages``: what the transcript got)."""
    actions = turn_actions(messages)
    failed = [a for a in actions if a.outcome != "ok"]
    return log.append_turn(
        goal=_cut(goal) or "(no text)",
        actions=actions,
        result=f"completed: {_cut(reply) or '(no reply)'}",
        critique=_critique(actions, failed),
        carry_forward=_carry(failed),
    )


def turn_actions(messages: Sequence[Message]) -> tuple[ActionEntry, ...]:
    """Each tool call with its outcome, in call order; a call with no result is ``no result``."""
    outcomes = {m.tool_call_id: _outcome(m.content) for m in messages if m.role is Role.TOOL}
    return tuple(
        ActionEntry(call.name, args_digest(call.arguments), outcomes.get(call.id, "no result"))
        for m in messages
        if m.role is Role.ASSISTANT
        for call in m.tool_calls
    )


def _outcome(content: str) -> str:
    try:
        data = json.loads(content)
    except ValueError:
        return "ok"
    if isinstance(data, dict) and set(data) == {"error"}:
        return f"error: {data['error']}"
    return "ok"


def _critique(actions: Sequence[ActionEntry], failed: Sequence[ActionEntry]) -> str:
    if not actions:
        return "No tools were needed; the model answered directly."
    if not failed:
        return f"All {len(actions)} tool calls succeeded."
    names = ", ".join(sorted({a.tool for a in failed}))
    return (
        f"{len(failed)} of {len(actions)} tool calls failed ({names}). "
        "Check the arguments against the tool's schema before calling it again."
    )


def _carry(failed: Sequence[ActionEntry]) -> str:
    if not failed:
        return "None."
    return "Unresolved: " + "; ".join(f"{a.tool} {a.outcome}" for a in failed)


def _cut(text: str) -> str:
    text = text.strip()
    return text if len(text) <= FIELD_LIMIT else text[: FIELD_LIMIT - 1] + "…"
