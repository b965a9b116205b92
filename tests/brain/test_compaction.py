"""Compaction invariants, up to a synthetic 500-turn session under a small window."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from brain.context import (
    CompactionPolicy,
    CompactionState,
    CompactionStateStore,
    Compactor,
    ContextBudget,
    ContextBuilder,
    ContextInputs,
    ContextStateError,
    ExtractiveSummariser,
    ModelSummariser,
    messages_tokens,
    pairing_problems,
)
from brain.errors import ConfigError, ModelUnavailableError
from brain.memory import Block, CompactionEntry, Memory, SessionLog
from brain.models.base import (
    Capabilities,
    Message,
    ModelChunk,
    ModelRequest,
    ModelResult,
    NativePayload,
    Role,
    TextChunk,
    ToolCall,
)

NEEDLES = [
    f"Needle {n}: the code word for vault {n} is {'ABCDEFGHIJ'[n]}{n * 7919}." for n in range(10)
]


def turn(n: int, *, native: bool = False) -> tuple[Message, ...]:
    call = ToolCall(f"call_{n}", "lookup__find", {"item": n})
    payload = NativePayload("minimax", json.dumps({"think": f"plan {n}"})) if native else None
    return (
        Message(
            Role.USER,
            f"Turn {n}: please look up item {n} and tell me what it is. " + "Context. " * 8,
        ),
        Message(Role.ASSISTANT, "", (call,), native=payload),
        Message(Role.TOOL, json.dumps({"item": n, "details": "d" * 500}), tool_call_id=call.id),
        Message(Role.ASSISTANT, f"Item {n} is a widget. " + "More detail. " * 10),
    )


class SpyLog(SessionLog):
    """A real session log that also records when compaction sections were written."""

    def __init__(self, path: Path, events: list[str]) -> None:
        super().__init__(path, "conv")
        self.events = events

    def append_compaction(self, **fields: int | str) -> CompactionEntry:  # type: ignore[override]
        entry = super().append_compaction(**fields)  # type: ignore[arg-type]
        self.events.append("log")
        return entry


def test_policy_fires_at_the_fraction_of_the_window_or_the_message_count() -> None:
    policy = CompactionPolicy()
    assert policy.trigger(100_000) == 75_000
    assert not policy.due(tokens=74_999, tail_messages=10, window=100_000)
    assert policy.due(tokens=75_000, tail_messages=10, window=100_000)
    assert policy.due(tokens=10, tail_messages=241, window=100_000)
    assert CompactionPolicy(compact_at=0.5).trigger(1_000) == 500
    with pytest.raises(ConfigError, match=r"context\.compact_at"):
        CompactionPolicy(compact_at=0.05)


async def test_compaction_keeps_the_task_and_recent_turns_and_logs_first(tmp_path: Path) -> None:
    events: list[str] = []
    log = SpyLog(tmp_path / "log.md", events)
    history = tuple(m for n in range(12) for m in turn(n))
    result = await Compactor(ExtractiveSummariser()).compact(
        state=CompactionState(), history=history, end=len(history), fixed_tokens=100,
        window=4_000, log=log,
    )  # fmt: skip
    assert result.ok, result.reason
    assert events == ["log"]
    (entry,) = log.entries()
    assert isinstance(entry, CompactionEntry)
    assert (entry.tokens_before, entry.tokens_after) == (result.tokens_before, result.tokens_after)
    assert entry.summary == result.state.summary
    state = result.state
    assert state.head == (turn(0)[0], turn(0)[3])  # the original task and its answer, verbatim
    assert result.tail == history[len(history) - len(result.tail) :]
    assert result.tail[0].role is Role.USER and pairing_problems(result.tail) == []
    assert state.through == len(history) - len(result.tail) and state.count == 1
    assert result.dropped_messages == len(history) - len(result.tail) - 2
    assert result.reclaimed >= 0.10
    assert messages_tokens(result.tail) <= (0.75 * 4_000 - 100) * 0.5  # keep_fraction of the room
    assert "User: Turn 1: please look up item 1" in state.summary
    assert "Tools: lookup__find ok" in state.summary


async def test_the_in_flight_chain_and_its_reasoning_are_never_touched(tmp_path: Path) -> None:
    done = tuple(m for n in range(10) for m in turn(n))
    flight = turn(10, native=True)[:3]  # asked, called, result back: the model is mid-chain
    history = done + flight
    result = await Compactor(ExtractiveSummariser()).compact(
        state=CompactionState(), history=history, end=len(history), fixed_tokens=50, window=2_000,
        log=SessionLog(tmp_path / "log.md", "conv"),
    )  # fmt: skip
    assert result.ok
    assert result.tail[-3:] == flight
    assert all(a is b for a, b in zip(result.tail[-3:], flight, strict=True))
    assert result.tail[-2].native == flight[1].native


async def test_too_little_to_reclaim_is_refused_and_nothing_is_logged(tmp_path: Path) -> None:
    log = SessionLog(tmp_path / "log.md", "conv")
    compactor = Compactor(ExtractiveSummariser())
    lone = turn(0)
    result = await compactor.compact(
        state=CompactionState(), history=lone, end=4, fixed_tokens=10, window=100, log=log
    )
    assert not result.ok and result.reason.startswith("nothing to compact")
    assert (result.tail, result.reclaimed) == (lone, 0.0)
    tiny = tuple(Message(Role.USER if i % 2 == 0 else Role.ASSISTANT, "x") for i in range(6))
    refused = await compactor.compact(
        state=CompactionState(), history=tiny, end=6, fixed_tokens=5_000, window=100, log=log
    )
    assert not refused.ok and "would reclaim only" in refused.reason and "(< 10%)" in refused.reason
    assert refused.state == CompactionState()
    assert not log.path.exists()


async def test_a_compaction_due_to_the_message_count_needs_only_not_to_grow(
    tmp_path: Path,
) -> None:
    """Far from the window, fewer messages is progress enough even when the request is
    mostly fixed text, or the same refused compaction would be tried on every turn."""
    log = SessionLog(tmp_path / "log.md", "conv")
    compactor = Compactor(ExtractiveSummariser(), CompactionPolicy(max_messages=8))
    short = tuple(m for n in range(12) for m in turn(n))
    result = await compactor.compact(
        state=CompactionState(), history=short, end=len(short), fixed_tokens=30_000,
        window=1_000_000, log=log,
    )  # fmt: skip
    assert result.ok, result.reason
    assert 0 <= result.reclaimed < 0.10  # would have been refused under token pressure
    assert len(result.tail) <= 4 and log.path.exists()
    pressed = await compactor.compact(
        state=CompactionState(), history=short, end=len(short), fixed_tokens=30_000,
        window=result.tokens_before, log=log,
    )  # fmt: skip
    assert not pressed.ok and "(< 10%)" in pressed.reason


async def test_extractive_summary_stays_within_budget_counting_what_it_elides() -> None:
    summariser = ExtractiveSummariser()
    dropped = tuple(m for n in range(40) for m in turn(n))
    summary = await summariser.summarise("", dropped, max_tokens=300)
    assert len(summary) <= 1_200
    lines = summary.split("\n")
    assert lines[0].startswith("[… ") and lines[0].endswith(" earlier turns elided …]")
    assert lines[-1].startswith("- User: Turn 39")
    again = await summariser.summarise(summary, turn(40), max_tokens=300)
    first = int(lines[0].split()[1])
    assert int(again.split("\n")[0].split()[1]) >= first  # the count carries over
    assert again.split("\n")[-1].startswith("- User: Turn 40")


class OneShotModel:
    name = "summary-model"

    def __init__(self, text: str | None) -> None:
        self.text = text
        self.requests: list[ModelRequest] = []

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(chooses_tools=True, streams=True, context_window=8_000)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelChunk]:
        self.requests.append(request)
        if self.text is None:
            raise ModelUnavailableError("down", provider=self.name)
        yield TextChunk(self.text)
        yield ModelResult(self.text)

    async def aclose(self) -> None:
        return None


async def test_model_summariser_asks_the_model_and_falls_back_when_it_fails() -> None:
    model = OneShotModel("Alice asked about items 1 and 2; both are widgets.")
    summary = await ModelSummariser(model).summarise("earlier", turn(1) + turn(2), max_tokens=200)  # type: ignore[arg-type]
    assert summary == "Alice asked about items 1 and 2; both are widgets."
    (request,) = model.requests
    assert request.tools == () and request.max_tokens == 200
    assert "Summary so far:\nearlier" in request.messages[1].content
    assert "[calls lookup__find(" in request.messages[1].content
    fallback = await ModelSummariser(OneShotModel(None)).summarise("", turn(1), max_tokens=200)  # type: ignore[arg-type]
    assert fallback.startswith("- User: Turn 1")


def test_state_store_round_trips_and_refuses_corrupt_files(tmp_path: Path) -> None:
    store = CompactionStateStore(tmp_path)
    assert store.load("web:a#0") == CompactionState()
    state = CompactionState("summary", turn(3, native=True)[:2], 12, 2)
    store.save("web:a#0", state)
    assert store.load("web:a#0") == state
    store.path("web:b#0").write_text('{"version": 1, "conversation_id": "web:a#0"}')
    with pytest.raises(ContextStateError, match="left untouched"):
        store.load("web:b#0")
    store.path("web:c#0").write_text("{")
    with pytest.raises(ContextStateError):
        store.load("web:c#0")


def test_state_store_loads_see_every_save_and_change_on_disk(tmp_path: Path) -> None:
    store = CompactionStateStore(tmp_path)
    first, second = CompactionState("first", (), 4, 1), CompactionState("second", (), 8, 2)
    store.save("web:a#0", first)
    assert store.load("web:a#0") == first  # now cached
    store.save("web:a#0", second)
    assert store.load("web:a#0") == second
    CompactionStateStore(tmp_path).save("web:a#0", first)  # another writer
    assert store.load("web:a#0") == first
    assert store.load("web:b#0") == CompactionState()
    store.path("web:a#0").write_text("{")
    with pytest.raises(ContextStateError):
        store.load("web:a#0")
    store.path("web:a#0").unlink()
    assert store.load("web:a#0") == CompactionState()


# -- the synthetic 500-turn session -------------------------------------------------


def requests_of_one_turn(
    builder: ContextBuilder, base: ContextInputs, messages: Sequence[Message]
) -> list[tuple[Message, ...]]:
    """The two model calls of a tool turn: the question, then mid-chain with the result."""
    first = builder.build(replace(base, user_text=messages[0].content))
    middle = builder.build(replace(base, user_text=None, in_flight=tuple(messages[:3])))
    for built in (first, middle):
        assert built.tokens <= builder.budget.limit
        assert messages_tokens(built.messages) == built.tokens
    assert middle.history[-3:] == tuple(messages[:3])
    return [first.messages, middle.messages]


async def test_a_500_turn_session_stays_in_budget_and_keeps_its_needles(tmp_path: Path) -> None:
    window = 6_000
    budget = ContextBudget.for_window(window, reserve_output=500)
    policy = CompactionPolicy(summary_tokens=budget.summary)
    builder = ContextBuilder(budget)
    compactor = Compactor(ExtractiveSummariser(), policy)
    memory = Memory.open(tmp_path)
    memory.set_block("web:alice", "user", "\n".join(NEEDLES[:5]))
    memory.set_block("web:alice", "task", "\n".join(NEEDLES[5:]))
    blocks = tuple(memory.blocks("web:alice").values())
    events: list[str] = []
    log = SpyLog(tmp_path / "sessions" / "conv.md", events)

    transcript: list[Message] = []
    state = CompactionState()
    reclaimed: list[float] = []
    requests = 0
    for n in range(500):
        messages = turn(n, native=n % 3 == 0)
        history = tuple(transcript[state.through :])
        base = ContextInputs(
            system_prompt="You are skillyard.", blocks=blocks, summary=state.summary,
            head=state.head, history=history,
        )  # fmt: skip
        built = builder.build(replace(base, user_text=messages[0].content))
        if policy.due(tokens=built.tokens, tail_messages=len(history), window=window):
            bare = replace(base, summary="", head=(), history=(), user_text=messages[0].content)
            result = await compactor.compact(
                state=state, history=history, end=len(transcript),
                fixed_tokens=builder.build(bare).tokens, window=window, log=log,
            )  # fmt: skip
            assert result.ok, f"turn {n}: {result.reason}"
            events.append("trim")
            reclaimed.append(result.reclaimed)
            state = result.state
            base = replace(base, summary=state.summary, head=state.head, history=result.tail)
        for request in requests_of_one_turn(builder, base, messages):
            requests += 1
            assert pairing_problems(request) == [], f"turn {n}"
            assert all(needle in request[0].content for needle in NEEDLES), f"turn {n}"
            if n > 0:
                assert request[1] == turn(0)[0]  # the original task, verbatim
            in_context = [m for m in request if m.native is not None]
            assert all(
                m.native == turn(int(m.tool_calls[0].id[5:]), native=True)[1].native
                for m in in_context
            )
        transcript.extend(messages)

    assert requests == 1_000
    assert len(reclaimed) >= 10, f"only {len(reclaimed)} compactions"
    assert min(reclaimed) >= 0.10
    assert events == ["log", "trim"] * len(reclaimed)  # save before trim, every time
    entries = log.entries()
    assert len(entries) == len(reclaimed)
    assert all(isinstance(e, CompactionEntry) and e.tokens_after < e.tokens_before for e in entries)
    assert log.lint() == []


def test_blocks_are_never_summarised() -> None:
    # Pinned blocks live in the system message, which compaction never sees.
    block = Block("user", NEEDLES[0], 2_000)
    built = ContextBuilder(ContextBudget(window=2_000)).build(
        ContextInputs(system_prompt="s", blocks=(block,), user_text="hi")
    )
    assert NEEDLES[0] in built.prefix
