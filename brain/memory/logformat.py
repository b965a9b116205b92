"""Tier 2's markdown: the session-log format, its writer and a strict parser that lints it.

Format::

    # Session log

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
    (what the dropped messages said)

Turns and compactions are numbered from 1, each in its own sequence, and
every section has exactly its headings in this order.  A line of field text
that starts with ``#`` or ``\\`` is written with a ``\\`` in front (and read
back without it), so no text can forge a heading.  An action's outcome is one
line of at most 300 characters.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from brain.memory.errors import MemoryInputError, SessionLogError

__all__ = [
    "ActionEntry",
    "CompactionEntry",
    "LogEntry",
    "TurnEntry",
    "args_digest",
    "lint_session_log",
    "normal_action",
    "parse_session_log",
    "render_compaction",
    "render_header",
    "render_turn",
]

TITLE = "# Session log"
_TURN_HEADINGS = ("Goal", "Actions", "Result", "Self-critique", "Carry-forward")
_COMPACTION_HEADINGS = ("Dropped", "Summary")
_SECTION = re.compile(r"^## (Turn|Compaction) ([1-9][0-9]*)$")
_ACTION = re.compile(r"^- `([^`\n]+)` args `([0-9a-f]{12})` → (\S.*)$")
_DROPPED = re.compile(r"^([0-9]+) messages; ([0-9]+) tokens before, ([0-9]+) after$")
_HASH = re.compile(r"[0-9a-f]{12}")
_SENTENCE = re.compile(r"\w.*?[.!?](\s|$)", re.DOTALL)
_OUTCOME_LIMIT = 300


@dataclass(frozen=True, slots=True)
class ActionEntry:
    """One tool call of a turn: ``outcome`` is ``ok`` or ``error: <why>``."""

    tool: str
    args_hash: str
    outcome: str


@dataclass(frozen=True, slots=True)
class TurnEntry:
    number: int
    goal: str
    actions: tuple[ActionEntry, ...]
    result: str
    critique: str
    carry_forward: str


@dataclass(frozen=True, slots=True)
class CompactionEntry:
    number: int
    dropped_messages: int
    tokens_before: int
    tokens_after: int
    summary: str


LogEntry = TurnEntry | CompactionEntry


def args_digest(arguments: Mapping[str, object]) -> str:
    """12 hex digits naming a call's arguments without storing them (they may be private)."""
    text = json.dumps(arguments, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


# -- writing -----------------------------------------------------------------------


def render_header(conversation_id: str) -> str:
    return f"{TITLE}\n\nConversation: {json.dumps(conversation_id, ensure_ascii=False)}\n"


def render_turn(entry: TurnEntry) -> str:
    """The section for ``entry``; raises ``MemoryInputError`` if it would not lint clean."""
    problems = _turn_problems(entry)
    if problems:
        raise MemoryInputError(f"turn {entry.number}: {'; '.join(problems)}")
    actions = "\n".join(_action_line(normal_action(a)) for a in entry.actions) or "- none"
    fields = (entry.goal, actions, entry.result, entry.critique, entry.carry_forward)
    return _section(f"Turn {entry.number}", _TURN_HEADINGS, fields, raw=(1,))


def render_compaction(entry: CompactionEntry) -> str:
    if not entry.summary.strip():
        raise MemoryInputError(f"compaction {entry.number}: the summary is empty")
    dropped = (
        f"{entry.dropped_messages} messages; "
        f"{entry.tokens_before} tokens before, {entry.tokens_after} after"
    )
    fields = (dropped, entry.summary)
    return _section(f"Compaction {entry.number}", _COMPACTION_HEADINGS, fields, raw=(0,))


def _section(
    title: str, headings: Sequence[str], fields: Sequence[str], raw: tuple[int, ...]
) -> str:
    parts = [f"\n## {title}\n"]
    for index, (heading, text) in enumerate(zip(headings, fields, strict=True)):
        body = text if index in raw else _escape(text.strip("\n"))
        parts.append(f"\n### {heading}\n{body}\n")
    return "".join(parts)


def normal_action(action: ActionEntry) -> ActionEntry:
    """``action`` as the log stores it: a one-line name and a one-line outcome of bounded size."""
    tool = " ".join(action.tool.replace("`", "'").split()) or "?"
    outcome = " ".join(action.outcome.split())[:_OUTCOME_LIMIT] or "ok"
    return ActionEntry(tool, action.args_hash, outcome)


def _action_line(action: ActionEntry) -> str:
    return f"- `{action.tool}` args `{action.args_hash}` → {action.outcome}"


def _escape(text: str) -> str:
    return "\n".join(
        "\\" + line if line.startswith(("#", "\\")) else line for line in text.split("\n")
    )


def _unescape(line: str) -> str:
    return line[1:] if line.startswith("\\") else line


# -- reading -----------------------------------------------------------------------


def parse_session_log(text: str) -> tuple[str, list[LogEntry]]:
    """``(conversation_id, entries)``; raises ``SessionLogError`` naming the line."""
    lines = text.split("\n")
    conversation = _parse_preamble(lines)
    entries: list[LogEntry] = []
    starts = [i for i, line in enumerate(lines) if line.startswith("## ")]
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        entries.append(_parse_section(lines, start, end, entries))
    return conversation, entries


def lint_session_log(text: str) -> list[str]:
    """Every problem found: the first structural one, or each content problem per section."""
    try:
        _, entries = parse_session_log(text)
    except SessionLogError as exc:
        return [str(exc)]
    return [
        f"turn {e.number}: {problem}"
        for e in entries
        if isinstance(e, TurnEntry)
        for problem in _turn_problems(e)
    ]


def _turn_problems(entry: TurnEntry) -> list[str]:
    problems = [
        f"{name} is empty"
        for name, value in (("goal", entry.goal), ("result", entry.result),
                            ("carry-forward", entry.carry_forward))
        if not value.strip()
    ]  # fmt: skip
    if not _SENTENCE.search(entry.critique):
        problems.append("the self-critique needs at least one sentence")
    problems += [
        f"action {a.tool!r}: args hash {a.args_hash!r} is not 12 hex digits"
        for a in entry.actions
        if not _HASH.fullmatch(a.args_hash)
    ]
    return problems


def _parse_preamble(lines: list[str]) -> str:
    if not lines or lines[0] != TITLE:
        raise SessionLogError(f"the first line must be {TITLE!r}", line=1)
    for number, line in enumerate(lines[1:], start=2):
        if line.startswith("## "):
            break
        if line.startswith("Conversation: "):
            try:
                value = json.loads(line.removeprefix("Conversation: "))
            except ValueError as exc:
                raise SessionLogError(
                    "the conversation id is not a JSON string", line=number
                ) from exc
            if isinstance(value, str):
                return value
        if line.strip() and not line.startswith("Conversation: "):
            raise SessionLogError("unexpected text before the first section", line=number)
    raise SessionLogError("no 'Conversation:' line before the first section", line=2)


def _parse_section(lines: list[str], start: int, end: int, before: list[LogEntry]) -> LogEntry:
    match = _SECTION.match(lines[start])
    if match is None:
        raise SessionLogError("expected '## Turn N' or '## Compaction N'", line=start + 1)
    kind, number = match.group(1), int(match.group(2))
    expected = 1 + sum(
        type(e) is (TurnEntry if kind == "Turn" else CompactionEntry) for e in before
    )
    if number != expected:
        raise SessionLogError(
            f"{kind.lower()} {number} out of order, expected {expected}", line=start + 1
        )
    headings = _TURN_HEADINGS if kind == "Turn" else _COMPACTION_HEADINGS
    fields = _fields(lines, start, end, headings)
    if kind == "Turn":
        actions = _parse_actions(fields[1], start)
        return TurnEntry(number, fields[0], actions, fields[2], fields[3], fields[4])
    return _compaction(number, fields, start)


def _fields(lines: list[str], start: int, end: int, headings: Sequence[str]) -> list[str]:
    found: list[tuple[int, str]] = []
    for index in range(start + 1, end):
        line = lines[index]
        if line.startswith("#"):
            found.append((index, line))
    names = [line.removeprefix("### ") for _, line in found]
    if names != list(headings) or any(not line.startswith("### ") for _, line in found):
        shown = ", ".join(repr(line) for _, line in found)
        raise SessionLogError(f"expected headings {list(headings)}, found {shown}", line=start + 1)
    bounds = [index for index, _ in found] + [end]
    return [
        "\n".join(_unescape(line) for line in lines[bounds[i] + 1 : bounds[i + 1]]).strip("\n")
        for i in range(len(found))
    ]


def _parse_actions(text: str, start: int) -> tuple[ActionEntry, ...]:
    if text == "- none":
        return ()
    actions = []
    for line in text.split("\n"):
        match = _ACTION.match(line)
        if match is None:
            raise SessionLogError(f"malformed action line {line!r}", line=start + 1)
        actions.append(ActionEntry(match.group(1), match.group(2), match.group(3)))
    return tuple(actions)


def _compaction(number: int, fields: list[str], start: int) -> CompactionEntry:
    match = _DROPPED.match(fields[0])
    if match is None:
        raise SessionLogError(f"malformed 'Dropped' line {fields[0]!r}", line=start + 1)
    dropped, before, after = (int(g) for g in match.groups())
    return CompactionEntry(number, dropped, before, after, fields[1])
