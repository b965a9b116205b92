"""Compaction: old turns become a summary, written to the session log before anything is trimmed.

Theory of operation
-------------------
A conversation's context is ``head + summary + tail``: ``head`` is the first
turn's question and answer (the original task, verbatim), ``summary`` covers
everything between, ``tail`` is the recent whole turns.  The persisted
:class:`CompactionState` says which transcript position the tail starts at.

:meth:`CompactionPolicy.due` fires when a built request reaches
``compact_at`` (default 0.75) of the model's window, or the tail exceeds
``max_messages``.  :meth:`Compactor.compact` then:

1. picks the head (on the first compaction) and the longest run of newest
   whole turns that fits ``keep_fraction`` of the room (always the last turn,
   and the in-flight chain untouched: a MiniMax or thinking model needs its
   reasoning back byte for byte);
2. summarises the previous summary plus the middle (:mod:`brain.context.summarise`);
3. refuses, changing nothing, unless the request shrinks by ``min_reclaim``
   (10 %, OpenHands' ``minimum_progress``): the result says why.  A compaction
   due only to the message count (the request is far from the window) needs
   only not to grow the request: short messages summarise to about their own
   size, and refusing would retry the same work on every turn;
4. appends a ``## Compaction k`` section to the session log, fsynced
   ("save before trim", Letta's and Claude Code's PreCompact idea);
5. returns the new state, which the caller stores, and the new tail.

Cuts fall only between turns, so a tool call is never separated from its result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from brain.context.history import split_turns
from brain.context.summarise import Summariser
from brain.context.tokens import TokenCounter, approx_tokens, messages_tokens
from brain.errors import ConfigError
from brain.memory.session_log import SessionLog
from brain.models.base import Message, Role

__all__ = [
    "CompactionPolicy",
    "CompactionResult",
    "CompactionState",
    "Compactor",
    "first_turn_head",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class CompactionPolicy:
    """When to compact and how much to keep (defaults from OpenHands' condenser)."""

    compact_at: float = 0.75
    max_messages: int = 240
    keep_fraction: float = 0.5
    min_reclaim: float = 0.10
    summary_tokens: int = 2_000

    def __post_init__(self) -> None:
        if not 0.1 <= self.compact_at <= 1.0:
            raise ConfigError("context.compact_at", "must be between 0.1 and 1.0")
        if not 0.0 < self.keep_fraction < 1.0:
            raise ConfigError("context.keep_fraction", "must be between 0 and 1 (exclusive)")
        if self.max_messages < 4:
            raise ConfigError("context.max_messages", "must be at least 4")

    def trigger(self, window: int) -> int:
        """Request tokens at which a model with this context ``window`` gets a compaction."""
        return int(window * self.compact_at)

    def due(self, *, tokens: int, tail_messages: int, window: int) -> bool:
        return tokens >= self.trigger(window) or tail_messages > self.max_messages


@dataclass(frozen=True, slots=True)
class CompactionState:
    """What replaces the transcript before position ``through``; ``count`` compactions so far."""

    summary: str = ""
    head: tuple[Message, ...] = ()
    through: int = 0
    count: int = 0


@dataclass(frozen=True, slots=True)
class CompactionResult:
    ok: bool
    reason: str
    state: CompactionState
    tail: tuple[Message, ...]
    tokens_before: int
    tokens_after: int
    dropped_messages: int = 0

    @property
    def reclaimed(self) -> float:
        """The share of the request's tokens this compaction saved (0 when refused)."""
        if not self.ok or not self.tokens_before:
            return 0.0
        return (self.tokens_before - self.tokens_after) / self.tokens_before


def first_turn_head(turn: Sequence[Message]) -> tuple[Message, ...]:
    """The first turn as kept forever: the user's message and the final reply, no tool chain."""
    replies = [m for m in turn if m.role is Role.ASSISTANT and not m.tool_calls]
    return (turn[0], replies[-1]) if replies and turn[0].role is Role.USER else (turn[0],)


@dataclass(frozen=True, slots=True)
class _Split:
    head: tuple[Message, ...]
    middle: tuple[Message, ...]
    tail: tuple[Message, ...]


class Compactor:
    def __init__(
        self,
        summariser: Summariser,
        policy: CompactionPolicy = CompactionPolicy(),
        *,
        count: TokenCounter = approx_tokens,
    ) -> None:
        self._summariser = summariser
        self._policy = policy
        self._count = count

    @property
    def policy(self) -> CompactionPolicy:
        return self._policy

    async def compact(
        self,
        *,
        state: CompactionState,
        history: tuple[Message, ...],
        end: int,
        fixed_tokens: int,
        window: int,
        log: SessionLog,
    ) -> CompactionResult:
        """Compact ``history`` (transcript positions ``end - len(history)`` to ``end``).

        ``fixed_tokens`` is what the rest of the request costs (system prompt,
        blocks, knowledge, catalog, the user's message); ``window`` the model's
        context window.  On success the log has the new section *before*
        this returns; the caller must then store ``result.state``.
        """
        before = fixed_tokens + self._tokens(state.summary, state.head, history)
        split = self._split(state, history, room=self._policy.trigger(window) - fixed_tokens)
        if split is None:
            reason = "nothing to compact: the recent turns already fill the room to keep"
            return CompactionResult(False, reason, state, history, before, before)
        summary = await self._summariser.summarise(
            state.summary, split.middle, max_tokens=self._policy.summary_tokens
        )
        after = fixed_tokens + self._tokens(summary, split.head, split.tail)
        pressed = before >= self._policy.trigger(window)  # else due to the message count
        needed = self._policy.min_reclaim * before if pressed else 0
        if before - after < needed:
            share = f"{self._policy.min_reclaim:.0%}" if pressed else "any"
            reason = f"would reclaim only {before - after} of {before} tokens (< {share})"
            return CompactionResult(False, reason, state, history, before, before)
        log.append_compaction(
            dropped_messages=len(split.middle), tokens_before=before,
            tokens_after=after, summary=summary,
        )  # fmt: skip
        new = CompactionState(summary, split.head, end - len(split.tail), state.count + 1)
        return CompactionResult(
            True, "compacted", new, split.tail, before, after, len(split.middle)
        )

    def _tokens(self, summary: str, head: Sequence[Message], tail: Sequence[Message]) -> int:
        return self._count(summary) + messages_tokens((*head, *tail), self._count)

    def _split(
        self, state: CompactionState, history: tuple[Message, ...], *, room: int
    ) -> _Split | None:
        turns = split_turns(history)
        head: tuple[Message, ...] = state.head
        inner: tuple[Message, ...] = ()
        if not head and len(turns) > 1:  # a lone turn may be in flight: it is the tail
            first = turns.pop(0)
            head = first_turn_head(first)
            inner = tuple(m for m in first if not any(m is h for h in head))
        keep = self._tail_turns(turns, room=int(room * self._policy.keep_fraction))
        middle = (*inner, *(m for turn in turns[: len(turns) - keep] for m in turn))
        if not middle:
            return None
        tail = tuple(m for turn in turns[len(turns) - keep :] for m in turn)
        return _Split(head, middle, tail)

    def _tail_turns(self, turns: list[tuple[Message, ...]], *, room: int) -> int:
        """How many newest turns to keep: at least the last, which holds any in-flight chain."""
        if not turns:
            return 0
        keep, used, messages = 1, messages_tokens(turns[-1], self._count), len(turns[-1])
        for turn in reversed(turns[:-1]):
            used += messages_tokens(turn, self._count)
            messages += len(turn)
            if used > room or messages > self._policy.max_messages // 2:
                break
            keep += 1
        return keep
