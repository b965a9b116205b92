"""The context builder: slot order, budgets, explain(), byte-stable prefixes, masking."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from brain.context import (
    BuiltContext,
    CatalogEntry,
    ContextBudget,
    ContextBuilder,
    ContextInputs,
    ContextOverflowError,
    approx_tokens,
    catalog_line,
    mask_observations,
    messages_tokens,
    pairing_problems,
)
from brain.memory import Block, KnowledgeRecord
from brain.models.base import Message, NativePayload, Role, ToolCall

SYSTEM = "You are skillyard, a helpful assistant."
BLOCKS = (
    Block("persona", "Be terse.", 2_000),
    Block("user", "Name: Ada. Metric units.", 2_000),
    Block("task", "", 5_000),
)


def record(n: int, content: str) -> KnowledgeRecord:
    return KnowledgeRecord(f"k{n:024x}", "fact", content, (), "", 1.0, 1.0, 0, 0.5)


def turn(n: int, *, result_chars: int = 40) -> tuple[Message, ...]:
    call = ToolCall(f"call_{n}", "lookup__find", {"item": n})
    return (
        Message(Role.USER, f"question {n}"),
        Message(Role.ASSISTANT, "", (call,)),
        Message(Role.TOOL, "r" * result_chars, tool_call_id=call.id),
        Message(Role.ASSISTANT, f"answer {n}"),
    )


def history(turns: int, **kwargs: int) -> tuple[Message, ...]:
    return tuple(m for n in range(turns) for m in turn(n, **kwargs))


def inputs(**overrides: object) -> ContextInputs:
    fields: dict[str, object] = {
        "system_prompt": SYSTEM,
        "blocks": BLOCKS,
        "knowledge": (record(1, "Ada lives in Lyon."), record(2, "Ada's cat is Miso.")),
        "summary": "- User: earlier question | Reply: earlier answer",
        "catalog": (CatalogEntry("weather", "Forecasts."), CatalogEntry("calc", "Arithmetic.")),
        "history": history(3),
        "user_text": "what now?",
    }
    return ContextInputs(**(fields | overrides))  # type: ignore[arg-type]


BUILDER = ContextBuilder(ContextBudget(window=100_000))


def test_slots_come_in_the_fixed_order() -> None:
    built = BUILDER.build(inputs())
    system = built.system
    positions = [
        system.index(SYSTEM),
        system.index("## Pinned memory"),
        system.index("### persona\nBe terse."),
        system.index("## What you know about this user"),
        system.index("## Earlier in this conversation (summary)"),
        system.index("## Skills that may help"),
    ]
    assert positions == sorted(positions) and positions[0] == 0
    assert "### task" not in system  # an empty block costs nothing
    messages = built.messages
    assert messages[0] == Message(Role.SYSTEM, system)
    assert messages[1:-1] == history(3)
    assert messages[-1] == Message(Role.USER, "what now?")
    assert [s.slot for s in built.slots] == [
        "system", "blocks", "knowledge", "summary", "catalog", "history", "tool_results",
    ]  # fmt: skip
    assert built.tokens == messages_tokens(messages)


def test_two_builds_of_the_same_state_are_byte_equal() -> None:
    one, two = (
        BUILDER.build(inputs()),
        ContextBuilder(ContextBudget(window=100_000)).build(inputs()),
    )
    assert one == two
    assert repr(one.messages).encode() == repr(two.messages).encode()


def test_adding_a_turn_keeps_the_prefix_byte_identical() -> None:
    before = BUILDER.build(inputs())
    after = BUILDER.build(inputs(history=history(4)))
    assert before.prefix == after.prefix
    assert before.prefix.startswith(SYSTEM) and "Name: Ada." in before.prefix
    assert after.system.startswith(after.prefix)
    assert after.system == before.system  # same query: same knowledge and catalog
    assert after.messages[: len(before.messages) - 1] == before.messages[:-1]


def test_explain_says_what_each_slot_included_and_dropped() -> None:
    budget = ContextBudget(window=100_000, knowledge=25)
    built = ContextBuilder(budget).build(inputs())
    knowledge = built.slot("knowledge")
    assert knowledge.included == (record(1, "").id,)
    assert knowledge.dropped == (record(2, "").id,)
    assert 0 < knowledge.tokens <= 25
    text = built.explain()
    assert text.splitlines()[0] == f"context: {built.tokens} of {budget.limit} tokens"
    one, two = record(1, "").id, record(2, "").id
    assert f" {knowledge.tokens} of 25 tokens; included: {one}; dropped: {two}" in text
    assert "blocks" in text and "persona, user" in text
    assert "catalog" in text and "weather, calc" in text


def test_catalog_entries_are_cut_to_a_hundred_tokens_deterministically() -> None:
    long = CatalogEntry("verbose", "word " * 400)
    line = catalog_line(long)
    assert approx_tokens(line) <= 100 and line.endswith(" …") and line.startswith("- verbose: word")
    assert line == catalog_line(long)
    assert catalog_line(CatalogEntry("x" * 600, "")).endswith("…")
    assert approx_tokens(catalog_line(CatalogEntry("x" * 600, ""))) <= 100
    many = tuple(CatalogEntry(f"skill-{n}", "does things " * 30) for n in range(50))
    built = ContextBuilder(ContextBudget(window=100_000, catalog=1_000)).build(inputs(catalog=many))
    catalog = built.slot("catalog")
    assert catalog.tokens <= 1_000
    assert catalog.included == tuple(f"skill-{n}" for n in range(len(catalog.included)))
    assert len(catalog.dropped) == 50 - len(catalog.included) > 0


def test_summary_over_budget_keeps_its_newest_lines() -> None:
    summary = "\n".join(f"- line {n} " + "x" * 40 for n in range(100))
    built = ContextBuilder(ContextBudget(window=100_000, summary=200)).build(
        inputs(summary=summary)
    )
    report = built.slot("summary")
    assert report.tokens <= 200
    assert "- line 99" in built.system and "- line 0 " not in built.system
    assert "[… earlier lines of the summary elided …]" in built.system
    assert (
        report.included[0].startswith("summary (") and "oldest lines elided" in report.included[0]
    )


def test_history_over_the_limit_drops_whole_old_turns_first() -> None:
    budget = ContextBudget(window=1_200, reserve_output=200)
    long = history(20, result_chars=200)
    built = ContextBuilder(budget).build(inputs(history=long, head=turn(99)[:1] + turn(99)[3:]))
    assert built.tokens <= budget.limit
    assert pairing_problems(built.messages) == []
    kept = built.history
    assert kept[:2] == (turn(99)[0], turn(99)[3])  # the first turn (original task) stays
    assert kept[2].role is Role.USER
    assert kept[-4:] == long[-4:]
    dropped = built.slot("history").dropped
    assert dropped and dropped[0].endswith("oldest messages (over budget)")


def test_optional_slots_are_shed_before_the_request_overflows() -> None:
    budget = ContextBudget(
        window=400, reserve_output=100, blocks=200, knowledge=200, summary=200, catalog=200
    )
    full = ContextBuilder(budget).build(inputs(history=(), user_text="q"))
    room = budget.limit - full.tokens
    built = ContextBuilder(budget).build(inputs(history=(), user_text="q" + " q" * (2 * room + 10)))
    assert built.tokens <= budget.limit
    assert len(built.slot("knowledge").included) == 2  # the catalog goes first
    assert built.slot("catalog").included == () and built.slot("catalog").dropped == (
        "weather",
        "calc",
    )
    assert built.system.startswith(SYSTEM) and "Name: Ada." in built.system  # blocks shed last
    with pytest.raises(ContextOverflowError, match=r"need \d+ tokens; the model takes at most 300"):
        ContextBuilder(budget).build(inputs(user_text="q " * 1_000))


def test_in_flight_chain_is_kept_byte_for_byte_and_never_masked() -> None:
    native = NativePayload("minimax", '{"content": "<think>plan</think>", "tool_calls": []}')
    call = ToolCall("c9", "lookup__find", {"item": 9})
    flight = (
        Message(Role.USER, "look up nine"),
        Message(Role.ASSISTANT, "", (call,), native=native),
        Message(Role.TOOL, "x" * 5_000, tool_call_id="c9"),
    )
    built = BUILDER.build(
        inputs(history=history(12, result_chars=500), in_flight=flight, user_text=None)
    )
    assert built.messages[-3:] == flight
    assert all(a is b for a, b in zip(built.messages[-3:], flight, strict=True))
    assert built.messages[-1].role is Role.TOOL  # the model continues the chain
    assert pairing_problems(built.messages) == []


def test_old_tool_results_are_masked_in_batches() -> None:
    def masked(messages: tuple[Message, ...]) -> int:
        return sum(1 for m in messages if m.content.startswith("[old tool output elided"))

    assert masked(mask_observations(history(5, result_chars=500))) == 0
    assert masked(mask_observations(history(9, result_chars=500))) == 0  # 4 over: not a batch yet
    nine = mask_observations(history(10, result_chars=500))
    assert masked(nine) == 5
    assert nine[2].content == "[old tool output elided: 500 chars]"
    eleven = mask_observations(history(11, result_chars=500))
    assert eleven[: len(nine) - 8] == nine[: len(nine) - 8]  # earlier masking is not redone
    assert masked(mask_observations(history(4, result_chars=5))) == 0  # short results stay


def test_build_is_pure(tmp_path: Path) -> None:
    state = inputs(history=history(30, result_chars=300))
    first = BUILDER.build(state)
    assert all(BUILDER.build(state) == first for _ in range(3))
    assert isinstance(first, BuiltContext)
    assert replace(state).history == history(30, result_chars=300)
