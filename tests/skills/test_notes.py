"""skills/notes through the real sandbox: persistence, isolation between users, safe storage."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from brain.sandbox import ToolFailure, ToolResult
from tests.skills.conftest import call_tool, run_command, skill_named

NOTES = skill_named("notes")


async def notes(text: str, data_root: Path, user: str = "alice") -> ToolResult:
    return await run_command(NOTES, text, data_root=data_root, user=user)


def notes_file(data_root: Path) -> Path:
    (found,) = data_root.glob("*/*/notes.json")
    return found


async def test_save_list_search_delete(data_root: Path) -> None:
    assert (await notes("save buy milk", data_root)).text == "Saved note 1: buy milk"
    assert (await notes("add call   Bob\nabout milk", data_root)).text == (
        "Saved note 2: call Bob about milk"
    )
    assert (await notes("list", data_root)).text == "1. buy milk\n2. call Bob about milk"
    assert (await notes("", data_root)).text == "1. buy milk\n2. call Bob about milk"
    assert (await notes("search MILK bob", data_root)).text == "2. call Bob about milk"
    assert (await notes("search cheese", data_root)).text == "No notes match 'cheese'."
    assert (await notes("delete 1", data_root)).text == "Deleted note 1."
    assert (await notes("list", data_root)).text == "2. call Bob about milk"
    assert (await notes("save again", data_root)).text == "Saved note 3: again"  # ids not reused


async def test_notes_are_private_to_each_user(data_root: Path) -> None:
    await notes("save alice's secret", data_root, user="alice")
    await notes("save bob's note", data_root, user="bob")
    assert (await notes("list", data_root, user="alice")).text == "1. alice's secret"
    assert (await notes("list", data_root, user="bob")).text == "1. bob's note"
    assert (await notes("search secret", data_root, user="bob")).text == "No notes match 'secret'."
    assert (await notes("delete 1", data_root, user="bob")).ok
    assert (await notes("list", data_root, user="alice")).text == "1. alice's secret"


async def test_structured_tools(data_root: Path) -> None:
    saved = await call_tool(NOTES, "save_note", {"text": "water plants"}, data_root=data_root)
    assert saved.output == {
        "note": {"id": 1, "text": "water plants", "created": "2026-01-01T00:00:00+00:00"},
        "text": "Saved note 1: water plants",
    }
    listed = await call_tool(NOTES, "list_notes", {}, data_root=data_root)
    assert listed.output is not None
    assert [n["text"] for n in listed.output["notes"]] == ["water plants"]
    found = await call_tool(NOTES, "search_notes", {"query": "plants"}, data_root=data_root)
    assert found.output is not None
    assert len(found.output["notes"]) == 1
    deleted = await call_tool(NOTES, "delete_note", {"id": 1}, data_root=data_root)
    assert deleted.output == {"deleted": 1, "text": "Deleted note 1."}
    empty = await call_tool(NOTES, "list_notes", {}, data_root=data_root)
    assert empty.output is not None
    assert empty.output["notes"] == []


@pytest.mark.parametrize(
    ("command", "fragment"),
    [
        ("delete 9", "there is no note 9"),
        ("delete last", "by its number"),
        ("save", "the note is empty"),
        ("search", "say what to look for"),
        ("frobnicate", "unknown notes command 'frobnicate'; use /notes save TEXT"),
        ("save " + "x" * 1001, "the limit is 1000"),
    ],
)
async def test_clear_errors(data_root: Path, command: str, fragment: str) -> None:
    result = await notes(command, data_root)
    assert result.failure is ToolFailure.TOOL_ERROR, result
    assert fragment in (result.error or "")


async def test_bad_structured_arguments_name_the_field(data_root: Path) -> None:
    result = await call_tool(NOTES, "delete_note", {"id": "one"}, data_root=data_root)
    assert result.failure is ToolFailure.INVALID_INPUT
    assert "input.id" in (result.error or "")


async def test_the_number_of_notes_is_capped(data_root: Path) -> None:
    await notes("save first", data_root)
    path = notes_file(data_root)
    stored = json.loads(path.read_text())
    stored["notes"] = [{"id": i, "text": "n", "created": ""} for i in range(1, 501)]
    stored["next_id"] = 501
    path.write_text(json.dumps(stored))
    result = await notes("save one too many", data_root)
    assert "delete some first" in (result.error or "")


async def test_a_damaged_file_is_reported_and_left_alone(data_root: Path) -> None:
    await notes("save keep me", data_root)
    path = notes_file(data_root)
    path.write_text('{"notes": [truncated')
    for command in ("save more", "list", "delete 1"):
        result = await notes(command, data_root)
        assert "cannot be read" in (result.error or "")
    assert path.read_text() == '{"notes": [truncated'


async def test_concurrent_saves_lose_nothing(data_root: Path) -> None:
    await notes("save warm up", data_root)  # creates the data dir once
    async with asyncio.TaskGroup() as group:
        for i in range(8):
            group.create_task(notes(f"save note {i}", data_root))
    listed = await call_tool(NOTES, "list_notes", {}, data_root=data_root)
    assert listed.output is not None
    ids = [n["id"] for n in listed.output["notes"]]
    assert sorted(ids) == list(range(1, 10))
    leftovers = [p.name for p in notes_file(data_root).parent.iterdir()]
    assert sorted(leftovers) == ["notes.json", "notes.lock"]  # no temp files left behind
