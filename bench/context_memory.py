"""What context building and memory cost per turn, and what compaction reclaims.

Measured in one run, on temporary files:

* per-turn context cost: ``ContextEngine.prepare`` (transcript read, blocks,
  knowledge search, build) against the skeleton's per-turn work (one
  ``Transcript.recent(conversation, 40)`` read) as the baseline, for
  conversations of 10, 40 and 200 stored messages and users with 0, 100 and
  500 knowledge records (ratios and ms per turn);
* knowledge: ms per ``add`` (durable: two fsyncs), per ``search`` and per first
  (cold, schema-checked) read at 500 records;
* compaction: a synthetic 500-turn tool session with a 6,000-token window:
  how many compactions, the share of tokens each reclaimed (min / median),
  and the largest request against its limit.

Run: ``.venv/bin/python bench/context_memory.py``.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

# bench/ comes first on sys.path when a script runs, and bench/registry.py would
# shadow the registry package: put the repository first.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from brain.context import (
    CompactionPolicy,
    CompactionState,
    CompactionStateStore,
    Compactor,
    ContextBudget,
    ContextBuilder,
    ContextEngine,
    ContextInputs,
    ExtractiveSummariser,
)
from brain.memory import Memory
from brain.models.base import Message, Role, ToolCall
from brain.transcript import Transcript

USER = "web:bench"


def turn(n: int) -> tuple[Message, ...]:
    call = ToolCall(f"call_{n}", "lookup__find", {"item": n})
    return (
        Message(Role.USER, f"Turn {n}: look up item {n}. " + "Context words. " * 6),
        Message(Role.ASSISTANT, "", (call,)),
        Message(Role.TOOL, json.dumps({"item": n, "details": "d" * 400}), tool_call_id=call.id),
        Message(Role.ASSISTANT, f"Item {n} is a widget. " + "Detail. " * 8),
    )


def per_call_ms(action: Callable[[], object], *, seconds: float = 0.5) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        action()
        count += 1
    return (time.perf_counter() - start) / count * 1_000


async def per_await_ms(action: Callable[[], Awaitable[object]], *, seconds: float = 0.5) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        await action()
        count += 1
    return (time.perf_counter() - start) / count * 1_000


def context_cost(root: Path) -> None:
    transcript = Transcript.open(root / "state.db")
    memory = Memory.open(root)
    memory.set_block(USER, "user", "Prefers metric units. " * 10)
    print("per-turn context cost (prepare vs. one 40-message transcript read)")
    print(f"{'messages':>9} {'records':>8} {'baseline ms':>12} {'prepare ms':>11} {'ratio':>7}")
    for wanted in (0, 100, 500):  # 500: the default cap of facts
        user = f"{USER}-{wanted}"
        for n in range(wanted):
            memory.knowledge.add(
                user, kind="fact", content=f"Fact {n} about widget model {n % 97}."
            )
        records = len(memory.knowledge.records(user))
        for size in (10, 40, 200):
            conversation = f"conv-{records}-{size}"
            transcript.append(conversation, [m for n in range(size // 4) for m in turn(n)], now=0.0)
            engine = ContextEngine(
                memory=memory, transcript=transcript,
                compactor=Compactor(ExtractiveSummariser(), CompactionPolicy(max_messages=10_000)),
                states=CompactionStateStore(root / "sessions"),
                budget=ContextBudget.for_window(1_000_000),
            )  # fmt: skip

            def prepare(
                engine: ContextEngine = engine, c: str = conversation, u: str = user
            ) -> Awaitable[object]:
                return engine.prepare(
                    conversation_id=c, user=u, system_prompt="You are skillyard.",
                    user_text="tell me about widget model 42",
                )  # fmt: skip

            def baseline(c: str = conversation) -> None:
                transcript.recent(c, 40)

            base = per_call_ms(baseline)
            cost = asyncio.run(per_await_ms(prepare))
            print(f"{size:>9} {records:>8} {base:>12.3f} {cost:>11.3f} {cost / base:>6.1f}x")
    transcript.close()


def knowledge_cost(root: Path) -> None:
    memory = Memory.open(root)
    counter = iter(range(10**9))

    def add() -> None:
        memory.knowledge.add("web:k", kind="fact", content=f"Knowledge item {next(counter)}.")

    add_ms = per_call_ms(add, seconds=1.0)
    while len(memory.knowledge.records("web:k")) < 500:  # the default cap of facts
        add()
    search_ms = per_call_ms(
        lambda: memory.knowledge.search("web:k", "knowledge item 42", touch=False)
    )
    touch_ms = per_call_ms(lambda: memory.knowledge.search("web:k", "knowledge item 42"))
    cold = Memory.open(root)
    start = time.perf_counter()
    cold.knowledge.records("web:k")
    cold_ms = (time.perf_counter() - start) * 1_000
    print(
        f"knowledge at 500 records: add {add_ms:.2f} ms (durable, measured from empty), "
        f"search {search_ms:.2f} ms, search+touch {touch_ms:.2f} ms, "
        f"first read in a process {cold_ms:.1f} ms (schema-checks every record)"
    )


def compaction_figures(root: Path) -> None:
    window = 6_000
    budget = ContextBudget.for_window(window, reserve_output=500)
    policy = CompactionPolicy(summary_tokens=budget.summary)
    builder, compactor = ContextBuilder(budget), Compactor(ExtractiveSummariser(), policy)
    log = Memory.open(root).session_log("bench")
    transcript: list[Message] = []
    state, reclaimed, largest = CompactionState(), [], 0
    for n in range(500):
        history = tuple(transcript[state.through :])
        base = ContextInputs(
            system_prompt="You are skillyard.", summary=state.summary, head=state.head,
            history=history, user_text=turn(n)[0].content,
        )  # fmt: skip
        built = builder.build(base)
        if policy.due(tokens=built.tokens, tail_messages=len(history), window=window):
            fixed = builder.build(replace(base, summary="", head=(), history=())).tokens
            result = asyncio.run(compactor.compact(
                state=state, history=history, end=len(transcript), fixed_tokens=fixed,
                window=window, log=log,
            ))  # fmt: skip
            reclaimed.append(result.reclaimed)
            state = result.state
            built = builder.build(
                replace(base, summary=state.summary, head=state.head, history=result.tail)
            )
        largest = max(largest, built.tokens)
        transcript.extend(turn(n))
    print(
        f"compaction (500 turns, window {window}): {len(reclaimed)} compactions, reclaimed "
        f"min {min(reclaimed):.0%} median {statistics.median(reclaimed):.0%}; "
        f"largest request {largest} of {budget.limit} tokens"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        context_cost(root / "context")
        knowledge_cost(root / "knowledge")
        compaction_figures(root / "compaction")


if __name__ == "__main__":
    main()
