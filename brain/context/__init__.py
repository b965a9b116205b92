"""Context engineering: budgeted slots, an explainable builder, compaction.

Usage::

    builder = ContextBuilder(ContextBudget.for_window(window))
    built = builder.build(ContextInputs(system_prompt=..., blocks=..., history=..., user_text=...))
    built.messages; built.explain()

    compactor = Compactor(ExtractiveSummariser(), CompactionPolicy(compact_at=0.75))
    result = await compactor.compact(state=..., history=..., end=..., fixed_tokens=...,
                                     limit=..., log=memory.session_log(conversation_id))

The brain uses both through :class:`ContextEngine`.
"""

from __future__ import annotations

from brain.context.builder import (
    SLOTS,
    BuiltContext,
    ContextBudget,
    ContextBuilder,
    ContextInputs,
    SlotReport,
)
from brain.context.catalog import (
    ENTRY_TOKENS,
    CatalogEntry,
    SkillEntry,
    catalog_line,
)
from brain.context.compaction import (
    CompactionPolicy,
    CompactionResult,
    CompactionState,
    Compactor,
)
from brain.context.engine import ContextEngine, PreparedContext
from brain.context.errors import ContextError, ContextOverflowError, ContextStateError
from brain.context.history import (
    in_flight_start,
    mask_observations,
    pairing_problems,
    split_turns,
)
from brain.context.state import CompactionStateStore
from brain.context.summarise import ExtractiveSummariser, ModelSummariser, Summariser
from brain.context.tokens import TokenCounter, approx_tokens, message_tokens, messages_tokens

__all__ = [
    "ENTRY_TOKENS",
    "SLOTS",
    "BuiltContext",
    "CatalogEntry",
    "CompactionPolicy",
    "CompactionResult",
    "CompactionState",
    "CompactionStateStore",
    "Compactor",
    "ContextBudget",
    "ContextBuilder",
    "ContextEngine",
    "ContextError",
    "ContextInputs",
    "ContextOverflowError",
    "ContextStateError",
    "ExtractiveSummariser",
    "ModelSummariser",
    "PreparedContext",
    "SkillEntry",
    "SlotReport",
    "Summariser",
    "TokenCounter",
    "approx_tokens",
    "catalog_line",
    "in_flight_start",
    "mask_observations",
    "message_tokens",
    "messages_tokens",
    "pairing_problems",
    "split_turns",
]
