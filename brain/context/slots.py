"""The builder's values: budgets, inputs, and what a build produced (with ``explain()``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from brain.context.catalog import ENTRY_TOKENS, SkillEntry
from brain.memory.blocks import Block
from brain.memory.records import KnowledgeRecord
from brain.models.base import Message, Role

__all__ = ["SLOTS", "BuiltContext", "ContextBudget", "ContextInputs", "SlotReport"]

SLOTS = ("system", "blocks", "knowledge", "summary", "catalog", "history", "tool_results")


@dataclass(frozen=True, slots=True, kw_only=True)
class ContextBudget:
    """Token budgets; ``window - reserve_output`` is the most one request may use."""

    window: int
    reserve_output: int = 1_024
    blocks: int = 3_000
    knowledge: int = 1_000
    summary: int = 2_000
    catalog: int = 2_000
    catalog_entry: int = ENTRY_TOKENS

    @classmethod
    def for_window(cls, window: int, *, reserve_output: int | None = None) -> ContextBudget:
        """Defaults, each slot capped at its share of a small window (SmolLM2 has 4,096)."""
        reserve = min(1_024, window // 4) if reserve_output is None else reserve_output
        return cls(
            window=window,
            reserve_output=reserve,
            blocks=min(3_000, window * 15 // 100),
            knowledge=min(1_000, window * 8 // 100),
            summary=min(2_000, window * 10 // 100),
            catalog=min(2_000, window * 10 // 100),
        )

    @property
    def limit(self) -> int:
        return self.window - self.reserve_output


@dataclass(frozen=True, slots=True, kw_only=True)
class ContextInputs:
    """Everything one build needs; ``user_text`` None when it is already in ``in_flight``."""

    system_prompt: str
    blocks: Sequence[Block] = ()
    knowledge: Sequence[KnowledgeRecord] = ()
    summary: str = ""
    catalog: Sequence[SkillEntry] = ()
    head: tuple[Message, ...] = ()
    history: tuple[Message, ...] = ()
    in_flight: tuple[Message, ...] = ()
    user_text: str | None = None


@dataclass(frozen=True, slots=True)
class SlotReport:
    slot: str
    tokens: int
    budget: int | None = None
    included: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BuiltContext:
    system: str
    prefix: str  # the part of ``system`` that stays byte-identical across turns
    history: tuple[Message, ...]
    user_text: str | None
    tokens: int
    limit: int
    slots: tuple[SlotReport, ...] = field(default=())

    @property
    def messages(self) -> tuple[Message, ...]:
        user = () if self.user_text is None else (Message(Role.USER, self.user_text),)
        return (Message(Role.SYSTEM, self.system), *self.history, *user)

    def slot(self, name: str) -> SlotReport:
        return next(s for s in self.slots if s.slot == name)

    def explain(self) -> str:
        """What each slot included and dropped, with token counts, one line per slot."""
        lines = [f"context: {self.tokens} of {self.limit} tokens"]
        for s in self.slots:
            budget = "" if s.budget is None else f" of {s.budget}"
            line = f"  {s.slot:<12} {s.tokens:>6}{budget} tokens; included: {_list(s.included)}"
            lines.append(line + (f"; dropped: {_list(s.dropped)}" if s.dropped else ""))
        return "\n".join(lines)


def _list(items: tuple[str, ...]) -> str:
    return ", ".join(items) if items else "-"
