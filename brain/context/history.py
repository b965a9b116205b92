"""Pure helpers over a message list: turns, the in-flight chain, observation masking, pairing.

A *turn* starts at a user message and runs to the next one, so a tool call
and its result are always in the same turn: cutting history only at turn
boundaries can never orphan a tool result.  The *in-flight* part is the last
turn while it is still running (it ends with a tool call or a tool result):
the model is mid-chain, and a MiniMax or thinking model needs every message of
it, reasoning included, exactly as it was.  Nothing here touches it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from brain.models.base import Message, Role

__all__ = [
    "MASK_BATCH",
    "MASK_KEEP",
    "in_flight_start",
    "mask_observations",
    "pairing_problems",
    "split_turns",
]

# SWE-agent's LastNObservations keeps the last 5 tool outputs.  Re-masking on
# every new output would change an older message each turn and defeat prompt
# caching, so the masked set grows in batches (SWE-agent's "polling").
MASK_KEEP = 5
MASK_BATCH = 5


def split_turns(messages: Sequence[Message]) -> list[tuple[Message, ...]]:
    """Consecutive groups, each starting at a user message (a leading group may not)."""
    turns: list[tuple[Message, ...]] = []
    current: list[Message] = []
    for message in messages:
        if message.role is Role.USER and current:
            turns.append(tuple(current))
            current = []
        current.append(message)
    if current:
        turns.append(tuple(current))
    return turns


def in_flight_start(messages: Sequence[Message]) -> int:
    """Index of the first message of the running turn, or ``len(messages)`` if none runs.

    A turn is complete when its last message is an assistant reply without tool calls.
    """
    if not messages:
        return 0
    last = messages[-1]
    if last.role is Role.ASSISTANT and not last.tool_calls:
        return len(messages)
    users = [i for i, m in enumerate(messages) if m.role is Role.USER]
    return users[-1] if users else 0


def mask_observations(
    messages: Sequence[Message], *, keep: int = MASK_KEEP, batch: int = MASK_BATCH
) -> tuple[Message, ...]:
    """Old tool results replaced by a stub naming their size; the newest ``keep`` or more stay.

    The masked count only grows in steps of ``batch``, and in-flight results
    are never masked.
    """
    protected = in_flight_start(messages)
    tools = [i for i, m in enumerate(messages[:protected]) if m.role is Role.TOOL]
    excess = len(tools) - keep
    masked = set(tools[: (excess // batch) * batch]) if excess > 0 and batch > 0 else set()
    return tuple(_stub(m) if i in masked else m for i, m in enumerate(messages))


def _stub(message: Message) -> Message:
    stub = f"[old tool output elided: {len(message.content)} chars]"
    return replace(message, content=stub) if len(stub) < len(message.content) else message


def pairing_problems(messages: Sequence[Message]) -> list[str]:
    """Tool results without an earlier call, and calls left unanswered before the next turn.

    Calls of the in-flight chain may still be waiting for their results.
    """
    problems: list[str] = []
    called: set[str] = set()
    waiting: dict[str, int] = {}
    for index, message in enumerate(messages):
        if message.role is Role.TOOL:
            if message.tool_call_id not in called:
                problems.append(
                    f"message {index}: result for unknown call {message.tool_call_id!r}"
                )
            waiting.pop(message.tool_call_id or "", None)
        elif message.role is Role.USER:
            problems += [f"message {i}: call {c!r} has no result" for c, i in waiting.items()]
            waiting.clear()
        for call in message.tool_calls:
            called.add(call.id)
            waiting[call.id] = index
    return problems
