"""``ContextBuilder``: one model call's context from budgeted slots, in a fixed order.

Theory of operation
-------------------
The slots, in order (:data:`SLOTS`)::

    system       the stable system prompt                  never dropped
    blocks       the user's pinned blocks                  stable between edits
    knowledge    retrieved long-term records, best first   per turn
    summary      the compacted summary of older turns      changes at a compaction
    catalog      skills relevant to this turn, ranked      per turn
    history      the first turn (the original task), then recent whole turns
    tool_results the in-flight tool chain                  never dropped or changed

The first five become the one system message (MiniMax takes one, first), the
rest are messages after it, then the user's message.  The system prompt and
the blocks come first so that the request's first bytes stay identical from
turn to turn and a provider's prompt cache keeps hitting (:attr:`BuiltContext.prefix`).

Each of blocks, knowledge, summary and catalog has a token budget
(:class:`ContextBudget`); items are taken in order until the next would not
fit, the rest are reported as dropped.  Old tool results in history are
masked (``history.mask_observations``).  The whole request must fit
``window - reserve_output``: recent turns are dropped oldest first (whole
turns, so no tool result is orphaned), then the first turn; if the system
message is still too big the catalog, knowledge, summary and blocks are shed
in that order.  Dropping turns is the fallback: the caller should compact
first (``brain.context.compaction``) so that nothing is lost unsummarised.

The builder is pure: the same inputs give byte-identical output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise

from brain.context.catalog import SkillEntry, catalog_line
from brain.context.errors import ContextOverflowError
from brain.context.history import mask_observations, split_turns
from brain.context.slots import SLOTS, BuiltContext, ContextBudget, ContextInputs, SlotReport
from brain.context.tokens import TokenCounter, approx_tokens, message_tokens, messages_tokens
from brain.memory.blocks import Block
from brain.memory.records import KnowledgeRecord
from brain.models.base import Message, Role

__all__ = [
    "SLOTS",
    "BuiltContext",
    "ContextBudget",
    "ContextBuilder",
    "ContextInputs",
    "SlotReport",
]

_SHED_ORDER = ("catalog", "knowledge", "summary", "blocks")
_TITLES = {
    "blocks": "## Pinned memory",
    "knowledge": "## What you know about this user",
    "summary": "## Earlier in this conversation (summary)",
    "catalog": "## Skills that may help",
}
_ELIDED = "[… earlier lines of the summary elided …]"


@dataclass(frozen=True, slots=True)
class _Section:
    text: str
    report: SlotReport


class ContextBuilder:
    def __init__(self, budget: ContextBudget, *, count: TokenCounter = approx_tokens) -> None:
        self._budget = budget
        self._count = count

    @property
    def budget(self) -> ContextBudget:
        return self._budget

    def build(self, inputs: ContextInputs) -> BuiltContext:
        """Raises ``ContextOverflowError`` when even the undroppable part exceeds the limit."""
        sections = {
            "blocks": self._blocks(inputs.blocks),
            "knowledge": self._knowledge(inputs.knowledge),
            "summary": self._summary(inputs.summary),
            "catalog": self._catalog(inputs.catalog),
        }
        fixed_tail = self._fixed_tail(inputs)
        system, shed = self._fit_system(inputs.system_prompt, sections, fixed_tail)
        room = self._budget.limit - message_tokens(Message(Role.SYSTEM, system), self._count)
        history, history_report = self._history(inputs, room - fixed_tail)
        return self._result(inputs, system, history, sections, shed, history_report)

    # -- slots --------------------------------------------------------------------------

    def _blocks(self, blocks: Sequence[Block]) -> _Section:
        parts = [(b.label, f"### {b.label}\n{b.value.strip()}") for b in blocks if b.value.strip()]
        return self._take("blocks", parts, self._budget.blocks)

    def _knowledge(self, records: Sequence[KnowledgeRecord]) -> _Section:
        parts = [(r.id, f"- [{r.kind}] {' '.join(r.content.split())} (id {r.id})") for r in records]
        return self._take("knowledge", parts, self._budget.knowledge)

    def _catalog(self, entries: Sequence[SkillEntry]) -> _Section:
        per_entry = self._budget.catalog_entry
        parts = [
            (e.name, catalog_line(e, max_tokens=per_entry, count=self._count)) for e in entries
        ]
        return self._take("catalog", parts, self._budget.catalog)

    def _take(self, slot: str, parts: list[tuple[str, str]], budget: int) -> _Section:
        """Leading ``parts`` while the section stays within ``budget``; the rest dropped."""
        kept: list[str] = []
        names: list[str] = []
        for name, text in parts:
            if self._count(_join(slot, [*kept, text])) > budget:
                break
            kept.append(text)
            names.append(name)
        dropped = tuple(name for name, _ in parts[len(kept) :])
        text = _join(slot, kept) if kept else ""
        return _Section(text, SlotReport(slot, self._count(text), budget, tuple(names), dropped))

    def _summary(self, summary: str) -> _Section:
        budget = self._budget.summary
        if not summary.strip():
            return _Section("", SlotReport("summary", 0, budget))
        lines = summary.strip().split("\n")
        text = _join("summary", lines)
        cut = 0
        while self._count(text) > budget and cut < len(lines):
            cut += 1
            text = _join("summary", [_ELIDED, *lines[cut:]])
        if cut == len(lines):
            return _Section("", SlotReport("summary", 0, budget, dropped=("summary",)))
        label = f"summary ({cut} oldest lines elided)" if cut else "summary"
        return _Section(text, SlotReport("summary", self._count(text), budget, (label,)))

    # -- fitting ----------------------------------------------------------------------

    def _fixed_tail(self, inputs: ContextInputs) -> int:
        user = (
            0
            if inputs.user_text is None
            else message_tokens(Message(Role.USER, inputs.user_text), self._count)
        )
        return user + messages_tokens(inputs.in_flight, self._count)

    def _fit_system(
        self, prompt: str, sections: dict[str, _Section], fixed_tail: int
    ) -> tuple[str, tuple[str, ...]]:
        for shed_count in range(len(_SHED_ORDER) + 1):
            shed = _SHED_ORDER[:shed_count]
            system = _system_text(prompt, [s.text for n, s in sections.items() if n not in shed])
            needed = message_tokens(Message(Role.SYSTEM, system), self._count) + fixed_tail
            if needed <= self._budget.limit:
                return system, shed
        raise ContextOverflowError(needed, self._budget.limit)

    def _history(self, inputs: ContextInputs, room: int) -> tuple[tuple[Message, ...], SlotReport]:
        original = (*inputs.head, *inputs.history)
        masked = mask_observations(original)
        costs = [message_tokens(m, self._count) for m in masked]  # each message counted once
        heads = len(inputs.head)
        turns = split_turns(masked[heads:])
        bounds = list(accumulate((len(t) for t in turns), initial=heads))
        turn_costs = [sum(costs[i:j]) for i, j in pairwise(bounds)]
        head_cost, first, total = sum(costs[:heads]), 0, sum(costs)
        while first < len(turns) and total > room:  # oldest whole turns go first
            total -= turn_costs[first]
            first += 1
        keep_head = head_cost <= room
        kept = (*(masked[:heads] if keep_head else ()), *masked[bounds[first] :])
        dropped = bounds[first] - heads + (0 if keep_head else heads)
        elided = sum(1 for a, b in zip(masked, original, strict=True) if a is not b)
        report = SlotReport(
            "history", total - (0 if keep_head else head_cost), room,
            (f"{len(kept)} messages", f"{elided} old tool results masked"),
            (f"{dropped} oldest messages (over budget)",) if dropped else (),
        )  # fmt: skip
        return kept, report

    def _result(
        self,
        inputs: ContextInputs,
        system: str,
        history: tuple[Message, ...],
        sections: dict[str, _Section],
        shed: tuple[str, ...],
        history_report: SlotReport,
    ) -> BuiltContext:
        reports = [
            SlotReport("system", self._count(inputs.system_prompt), None, ("system prompt",))
        ]
        for name, section in sections.items():
            report = section.report
            if name in shed:
                report = SlotReport(name, 0, report.budget, (), report.included + report.dropped)
            reports.append(report)
        flight = inputs.in_flight
        reports.append(history_report)
        reports.append(
            SlotReport(
                "tool_results",
                messages_tokens(flight, self._count),
                None,
                (f"{len(flight)} messages",),
            )
        )
        stable = [sections["blocks"].text] if "blocks" not in shed else []
        system_tokens = message_tokens(Message(Role.SYSTEM, system), self._count)
        tokens = system_tokens + history_report.tokens + self._fixed_tail(inputs)
        return BuiltContext(
            system=system,
            prefix=_system_text(inputs.system_prompt, stable),
            history=(*history, *flight),
            user_text=inputs.user_text,
            tokens=tokens,
            limit=self._budget.limit,
            slots=tuple(reports),
        )


def _join(slot: str, parts: Sequence[str]) -> str:
    return (
        _TITLES[slot] + "\n\n" + "\n".join(parts)
        if slot != "blocks"
        else _TITLES[slot] + "\n\n" + "\n\n".join(parts)
    )


def _system_text(prompt: str, sections: Sequence[str]) -> str:
    return "\n\n".join([prompt, *(s for s in sections if s)])
