"""``ContextEngine``: the brain's one call to get a turn's context, compacting when due.

Per turn: load the conversation's compaction state and the transcript after
it, the user's blocks and the knowledge that matches the message, build
(:class:`ContextBuilder`); if the request is due for compaction, compact
(session log first), store the new state and build again.  Knowledge shown to
the model counts as used (``KnowledgeStore.touch``), which protects it from
eviction.

Memory that cannot be read (a corrupt file) is logged and left out of the
context rather than failing the turn; a corrupt state file disables compaction
for that conversation (so it is never overwritten) until someone moves it aside.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from brain.context.builder import BuiltContext, ContextBudget, ContextBuilder, ContextInputs
from brain.context.catalog import SkillEntry
from brain.context.compaction import CompactionPolicy, CompactionResult, CompactionState, Compactor
from brain.context.errors import ContextStateError
from brain.context.state import CompactionStateStore
from brain.context.summarise import ExtractiveSummariser, ModelSummariser, Summariser
from brain.context.tokens import TokenCounter, approx_tokens
from brain.memory import Block, KnowledgeRecord, Memory, MemoryStoreError
from brain.models.base import Message, ModelProvider
from brain.settings import BrainSettings
from brain.transcript import Transcript

__all__ = ["ContextEngine", "PreparedContext"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PreparedContext:
    built: BuiltContext
    compaction: CompactionResult | None = None


class ContextEngine:
    def __init__(
        self,
        *,
        memory: Memory,
        transcript: Transcript,
        compactor: Compactor,
        states: CompactionStateStore,
        budget: ContextBudget,
        knowledge_k: int = 5,
        count: TokenCounter = approx_tokens,
    ) -> None:
        self._budget = budget
        self._memory = memory
        self._transcript = transcript
        self._compactor = compactor
        self._states = states
        self._knowledge_k = knowledge_k
        self._count = count
        # Compaction keeps the tail under max_messages, so this only bites on
        # transcripts written before compaction existed.
        self._load_cap = 2 * compactor.policy.max_messages + 64

    @classmethod
    def from_settings(
        cls,
        settings: BrainSettings,
        *,
        memory: Memory,
        transcript: Transcript,
        provider: ModelProvider,
    ) -> ContextEngine:
        """The engine for ``provider``'s window (its capabilities are read once, here)."""
        options = settings.context
        window = provider.capabilities.context_window
        budget = ContextBudget.for_window(
            window, reserve_output=min(options.reserve_tokens, window // 4)
        )
        budget = replace(
            budget,
            summary=min(budget.summary, options.summary_tokens),
            catalog=min(budget.catalog, options.catalog_tokens),
        )
        policy = CompactionPolicy(
            compact_at=options.compact_at,
            keep_fraction=options.keep_fraction,
            max_messages=max(4, settings.history_limit),
            summary_tokens=budget.summary,
        )
        summariser: Summariser = (
            ModelSummariser(provider) if options.summariser == "model" else ExtractiveSummariser()
        )
        return cls(
            memory=memory,
            transcript=transcript,
            compactor=Compactor(summariser, policy),
            states=CompactionStateStore(settings.data_dir / "sessions"),
            budget=budget,
            knowledge_k=options.knowledge_top_k,
        )

    @property
    def budget(self) -> ContextBudget:
        return self._budget

    async def prepare(
        self,
        *,
        conversation_id: str,
        user: str,
        system_prompt: str,
        user_text: str,
        catalog: Sequence[SkillEntry] = (),
        budget: ContextBudget | None = None,
    ) -> PreparedContext:
        """The context for one turn of ``user`` in ``conversation_id``.

        Raises ``ContextOverflowError`` when the system prompt and the message
        alone exceed the budget, and ``TranscriptError`` if history cannot be read.
        """
        budget = budget or self._budget
        builder = ContextBuilder(budget, count=self._count)
        state, can_compact = self._state(conversation_id)
        history, end = self._history(conversation_id, state)
        blocks, knowledge = self._memory_of(user, user_text)
        inputs = ContextInputs(
            system_prompt=system_prompt, blocks=blocks, knowledge=knowledge, summary=state.summary,
            catalog=catalog, head=state.head, history=history, user_text=user_text,
        )  # fmt: skip
        built = builder.build(inputs)
        result = None
        due = self._compactor.policy.due(
            tokens=built.tokens, tail_messages=len(history), window=budget.window
        )
        if can_compact and due:
            state = replace(state, through=end - len(history))
            result = await self._compact(conversation_id, builder, inputs, state, end)
            if result.ok:
                built = builder.build(_compacted(inputs, result))
        self._touch(user, built)
        if log.isEnabledFor(logging.DEBUG):  # explain() renders every slot: only when asked
            log.debug("conversation %s context:\n%s", conversation_id, built.explain())
        return PreparedContext(built, result)

    def _state(self, conversation_id: str) -> tuple[CompactionState, bool]:
        try:
            return self._states.load(conversation_id), True
        except ContextStateError:
            log.exception("conversation %s: compaction disabled", conversation_id)
            return CompactionState(), False

    def _history(
        self, conversation_id: str, state: CompactionState
    ) -> tuple[tuple[Message, ...], int]:
        end = self._transcript.count(conversation_id)
        wanted = min(end - state.through, self._load_cap)
        return (self._transcript.recent(conversation_id, wanted) if wanted > 0 else ()), end

    def _memory_of(self, user: str, text: str) -> tuple[tuple[Block, ...], list[KnowledgeRecord]]:
        try:
            blocks = tuple(self._memory.blocks(user).values())
        except MemoryStoreError:
            log.exception("pinned blocks of a user are unreadable; left out of the context")
            blocks = ()
        try:
            knowledge = self._memory.knowledge.search(user, text, self._knowledge_k, touch=False)
        except MemoryStoreError:
            log.exception("knowledge of a user is unreadable; left out of the context")
            knowledge = []
        return blocks, knowledge

    async def _compact(
        self,
        conversation_id: str,
        builder: ContextBuilder,
        inputs: ContextInputs,
        state: CompactionState,
        end: int,
    ) -> CompactionResult:
        bare = replace(inputs, summary="", head=(), history=())
        result = await self._compactor.compact(
            state=state,
            history=inputs.history,
            end=end,
            fixed_tokens=builder.build(bare).tokens,
            window=builder.budget.window,
            log=self._memory.session_log(conversation_id),
        )
        if result.ok:
            self._states.save(conversation_id, result.state)
            log.info(
                "conversation %s: compaction %d, %d -> %d tokens",
                conversation_id, result.state.count, result.tokens_before, result.tokens_after,
            )  # fmt: skip
        else:
            log.warning("conversation %s: compaction refused: %s", conversation_id, result.reason)
        return result

    def _touch(self, user: str, built: BuiltContext) -> None:
        ids = built.slot("knowledge").included
        if not ids:
            return
        try:
            self._memory.knowledge.touch(user, ids)
        except (MemoryStoreError, OSError):
            log.exception("cannot record knowledge use")


def _compacted(inputs: ContextInputs, result: CompactionResult) -> ContextInputs:
    state = result.state
    return replace(inputs, summary=state.summary, head=state.head, history=result.tail)
