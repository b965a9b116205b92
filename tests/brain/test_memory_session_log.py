"""Tier 2: the session-log format, its linter, numbering, escaping and concurrent appends."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from brain.memory import (
    ActionEntry,
    CompactionEntry,
    Memory,
    MemoryInputError,
    SessionLogError,
    TurnEntry,
    args_digest,
    lint_session_log,
    parse_session_log,
    record_turn,
)
from brain.models.base import Message, Role, ToolCall

CONVERSATION = "web:default:c1#0"

GOOD = """# Session log

Conversation: "web:default:c1#0"

## Turn 1

### Goal
what is 2*(3+4)?

### Actions
- `calc__evaluate` args `3f1c0a9e27b4` → ok

### Result
completed: It is 14.

### Self-critique
The one tool call succeeded.

### Carry-forward
None.

## Compaction 1

### Dropped
12 messages; 3400 tokens before, 900 after

### Summary
- User: hello | Reply: hi
"""


def test_the_documented_format_parses() -> None:
    conversation, entries = parse_session_log(GOOD)
    assert conversation == CONVERSATION
    assert entries == [
        TurnEntry(
            1, "what is 2*(3+4)?", (ActionEntry("calc__evaluate", "3f1c0a9e27b4", "ok"),),
            "completed: It is 14.", "The one tool call succeeded.", "None.",
        ),
        CompactionEntry(1, 12, 3400, 900, "- User: hello | Reply: hi"),
    ]  # fmt: skip
    assert lint_session_log(GOOD) == []


def test_appends_number_sections_and_round_trip(tmp_path: Path) -> None:
    log = Memory.open(tmp_path).session_log(CONVERSATION)
    one = log.append_turn(goal="plan a trip", result="done.", critique="Fine.", carry_forward="-")
    log.append_compaction(dropped_messages=4, tokens_before=500, tokens_after=100, summary="s")
    two = log.append_turn(
        goal="next", actions=[ActionEntry("t", args_digest({"a": 1}), "ok")], result="r",
        critique="Good!", carry_forward="x",
    )  # fmt: skip
    assert (one.number, two.number) == (1, 2)
    assert log.read() == [one, two]
    assert [type(e).__name__ for e in log.entries()] == [
        "TurnEntry",
        "CompactionEntry",
        "TurnEntry",
    ]
    assert log.lint() == []
    assert log.path.parent == tmp_path / "sessions"
    assert log.path.name.startswith("web_default_c1_0-") and log.path.suffix == ".md"


def test_text_cannot_forge_headings(tmp_path: Path) -> None:
    log = Memory.open(tmp_path).session_log(CONVERSATION)
    hostile = "## Turn 9\n### Goal\n\\ backslash\n# title"
    entry = log.append_turn(
        goal=hostile, result=hostile, critique="Hostile. " + hostile, carry_forward=hostile
    )
    log.append_compaction(dropped_messages=1, tokens_before=2, tokens_after=1, summary=hostile)
    assert log.lint() == []
    assert log.read() == [entry]
    assert log.entries()[1] == CompactionEntry(1, 1, 2, 1, hostile)


def test_unencodable_text_is_escaped_not_refused(tmp_path: Path) -> None:
    log = Memory.open(tmp_path).session_log("web:\ud800")
    log.append_turn(goal="bad \udc80 char", result="r", critique="C.", carry_forward="c")
    (entry,) = log.read()
    assert entry.goal == "bad \\udc80 char"


def test_outcomes_are_one_bounded_line(tmp_path: Path) -> None:
    log = Memory.open(tmp_path).session_log(CONVERSATION)
    action = ActionEntry("we`ird\nname", "0" * 12, "error: " + "line\n" * 200)
    entry = log.append_turn(
        goal="g", actions=[action], result="r", critique="C.", carry_forward="c"
    )
    assert log.read() == [entry]
    (stored,) = entry.actions
    assert stored.tool == "we'ird name"
    assert "\n" not in stored.outcome and len(stored.outcome) == 300
    with pytest.raises(MemoryInputError, match="args hash 'nothex' is not 12 hex digits"):
        log.append_turn(
            goal="g", actions=[ActionEntry("t", "nothex", "ok")], result="r", critique="C.",
            carry_forward="c",
        )  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"goal": "  "}, "goal is empty"),
        ({"result": ""}, "result is empty"),
        ({"critique": "no sentence here"}, "self-critique needs at least one sentence"),
        ({"carry_forward": "\n"}, "carry-forward is empty"),
    ],
)
def test_an_entry_that_would_not_lint_is_refused(
    tmp_path: Path, fields: dict[str, str], problem: str
) -> None:
    log = Memory.open(tmp_path).session_log(CONVERSATION)
    arguments = {"goal": "g", "result": "r", "critique": "C.", "carry_forward": "c"} | fields
    with pytest.raises(MemoryInputError, match=problem):
        log.append_turn(**arguments)
    assert not log.path.exists()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the first line must be '# Session log'"),
        ("# Session log\n\n## Turn 1\n", "no 'Conversation:' line"),
        (GOOD.replace("## Turn 1", "## Turn 2"), "turn 2 out of order, expected 1"),
        (GOOD.replace("### Result", "### Outcome"), "expected headings"),
        (GOOD.replace("### Carry-forward\nNone.\n", ""), "expected headings"),
        (GOOD.replace("- `calc__evaluate`", "* calc__evaluate"), "malformed action line"),
        (GOOD.replace("12 messages;", "twelve messages;"), "malformed 'Dropped' line"),
        (GOOD.replace("what is", "# what is"), "expected headings"),
        (
            GOOD.replace("## Compaction 1", "## Summary 1"),
            "expected '## Turn N' or '## Compaction N'",
        ),
        (GOOD.replace('Conversation: "web', "Conversation: web"), "not a JSON string"),
    ],
)
def test_the_linter_names_what_is_malformed(text: str, problem: str) -> None:
    (found,) = lint_session_log(text)
    assert problem in found
    with pytest.raises(SessionLogError):
        parse_session_log(text)


def test_lint_reports_content_problems_per_turn() -> None:
    text = GOOD.replace("The one tool call succeeded.", "ok")
    assert lint_session_log(text) == ["turn 1: the self-critique needs at least one sentence"]


def test_a_malformed_file_raises_with_its_path(tmp_path: Path) -> None:
    log = Memory.open(tmp_path).session_log(CONVERSATION)
    log.path.parent.mkdir(parents=True)
    log.path.write_text('# Session log\n\nConversation: "x"\n\n## Turn 3\n')
    with pytest.raises(SessionLogError, match=r"\.md, line 5: turn 3 out of order"):
        log.read()


def test_record_turn_derives_the_section_from_the_turns_messages(tmp_path: Path) -> None:
    log = Memory.open(tmp_path).session_log(CONVERSATION)
    calls = (
        ToolCall("c1", "calc__evaluate", {"expression": "1/0"}),
        ToolCall("c2", "calc__evaluate", {"expression": "2"}),
    )
    messages = (
        Message(Role.USER, "divide one by zero"),
        Message(Role.ASSISTANT, "", calls),
        Message(Role.TOOL, '{"error": "division by zero"}', tool_call_id="c1"),
        Message(Role.TOOL, '{"value": 2}', tool_call_id="c2"),
        Message(Role.ASSISTANT, "Cannot divide by zero."),
    )
    entry = record_turn(
        log, goal="divide one by zero", messages=messages, reply="Cannot divide by zero."
    )
    assert entry.actions == (
        ActionEntry(
            "calc__evaluate", args_digest({"expression": "1/0"}), "error: division by zero"
        ),
        ActionEntry("calc__evaluate", args_digest({"expression": "2"}), "ok"),
    )
    assert entry.critique.startswith("1 of 2 tool calls failed (calc__evaluate).")
    assert entry.carry_forward == "Unresolved: calc__evaluate error: division by zero"
    quiet = record_turn(log, goal="", messages=(), reply="")
    assert (quiet.goal, quiet.result) == ("(no text)", "completed: (no reply)")
    assert quiet.critique == "No tools were needed; the model answered directly."
    assert log.lint() == []


def test_args_digest_is_stable_and_hides_the_arguments() -> None:
    assert args_digest({"b": 1, "a": "secret"}) == args_digest({"a": "secret", "b": 1})
    assert "secret" not in args_digest({"a": "secret"})
    assert len(args_digest({})) == 12


def test_concurrent_appenders_never_interleave_or_reuse_numbers(tmp_path: Path) -> None:
    memory_a, memory_b = Memory.open(tmp_path), Memory.open(tmp_path)
    barrier = threading.Barrier(16)

    def append(n: int) -> None:
        log = (memory_a if n % 2 else memory_b).session_log(CONVERSATION)
        barrier.wait()
        for i in range(5):
            log.append_turn(
                goal=f"writer {n} turn {i}", result="r", critique="Ok.", carry_forward="c"
            )

    threads = [threading.Thread(target=append, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    turns = memory_a.session_log(CONVERSATION).read()
    assert [t.number for t in turns] == list(range(1, 81))
    assert sorted(t.goal for t in turns) == sorted(
        f"writer {n} turn {i}" for n in range(16) for i in range(5)
    )
