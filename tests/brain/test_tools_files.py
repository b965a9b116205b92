"""read_file, write_file and edit_file: behaviour, and every way out of the workspace refused."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from brain.models.base import ToolCall
from brain.steps import ToolOutcome
from brain.tools import CallContext, ToolRegistry, workspace_dir
from brain.tools.files import FileTools
from brain.tools.paging import page

SESSION = "web:default:c1"
ALICE = CallContext(user="web:alice", session=SESSION)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def registry(data_dir: Path) -> ToolRegistry:
    tools = FileTools(data_dir, max_file_bytes=4096, output_cap=2_000).tools()
    return ToolRegistry(tools, output_cap=2_000)


@pytest.fixture
def workspace(data_dir: Path) -> Path:
    return workspace_dir(data_dir, SESSION)


async def call(
    registry: ToolRegistry, name: str, context: CallContext = ALICE, **args: Any
) -> ToolOutcome:
    return await registry.execute(ToolCall("c1", name, args), context)


def kind(outcome: ToolOutcome) -> str:
    assert not outcome.ok, outcome
    body = json.loads(outcome.content)
    assert body["error"] == outcome.error or len(body["error"]) > 500
    return str(body["kind"])


# -- the workspace -------------------------------------------------------------------


def test_the_workspace_is_private_per_session_and_hashed(data_dir: Path) -> None:
    first = workspace_dir(data_dir, "web:default:c1")
    second = workspace_dir(data_dir, "../../etc")
    assert first.parent == second.parent == (data_dir / "workspaces").resolve()
    assert first != second and ".." not in second.name
    assert oct(first.stat().st_mode & 0o777) == "0o700"


async def test_write_then_read_then_edit(registry: ToolRegistry, workspace: Path) -> None:
    wrote = await call(registry, "write_file", path="notes/todo.md", content="buy milk\nbuy eggs\n")
    assert wrote.ok, wrote
    assert (workspace / "notes" / "todo.md").read_text() == "buy milk\nbuy eggs\n"
    read = await call(registry, "read_file", path="notes/todo.md")
    assert read.content == "buy milk\nbuy eggs\n"
    edited = await call(
        registry, "edit_file", path="notes/todo.md", old_string="milk", new_string="tea"
    )
    assert edited.ok and "1 occurrence" in edited.content
    assert (workspace / "notes" / "todo.md").read_text() == "buy tea\nbuy eggs\n"


async def test_sessions_do_not_see_each_others_files(registry: ToolRegistry) -> None:
    await call(registry, "write_file", path="secret.txt", content="alice's")
    other = CallContext(user="web:bob", session="web:default:c2")
    assert kind(await call(registry, "read_file", other, path="secret.txt")) == "not_found"


async def test_read_a_range_of_lines(registry: ToolRegistry, workspace: Path) -> None:
    (workspace / "lines.txt").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    part = await call(registry, "read_file", path="lines.txt", offset=3, limit=2)
    assert part.content == "line 3\nline 4\n[lines 3-4 of 10; read on with offset 5]"
    tail = await call(registry, "read_file", path="lines.txt", offset=9)
    assert tail.content == "line 9\nline 10\n[lines 9-10 of 10]"
    past = await call(registry, "read_file", path="lines.txt", offset=50)
    assert past.ok and past.content == "[no lines from 50: the text has 10 lines]"
    (workspace / "empty.txt").write_text("")
    assert (await call(registry, "read_file", path="empty.txt")).content == "(empty file)"


async def test_binary_missing_and_oversized_files_are_errors(
    registry: ToolRegistry, workspace: Path
) -> None:
    (workspace / "blob.bin").write_bytes(b"\xff\xfe\x00\x01")
    (workspace / "big.txt").write_text("x" * 5000)
    (workspace / "folder").mkdir()
    assert kind(await call(registry, "read_file", path="blob.bin")) == "failed"
    assert kind(await call(registry, "read_file", path="nope.txt")) == "not_found"
    assert kind(await call(registry, "read_file", path="big.txt")) == "too_large"
    assert kind(await call(registry, "read_file", path="folder")) == "failed"
    assert kind(await call(registry, "write_file", path="x.txt", content="é" * 3000)) == "too_large"


async def test_edit_refuses_ambiguous_and_missing_matches(
    registry: ToolRegistry, workspace: Path
) -> None:
    target = workspace / "a.py"
    target.write_text("x = 1\nx = 1\n")
    ambiguous = await call(
        registry, "edit_file", path="a.py", old_string="x = 1", new_string="x = 2"
    )
    assert kind(ambiguous) == "ambiguous" and "2 times" in (ambiguous.error or "")
    missing = await call(registry, "edit_file", path="a.py", old_string="y = 1", new_string="y")
    assert kind(missing) == "not_found"
    same = await call(registry, "edit_file", path="a.py", old_string="x", new_string="x")
    assert kind(same) == "invalid_arguments"
    assert target.read_text() == "x = 1\nx = 1\n"  # nothing changed by refused edits
    every = await call(
        registry, "edit_file", path="a.py", old_string="x = 1", new_string="x = 2", replace_all=True
    )
    assert every.ok and target.read_text() == "x = 2\nx = 2\n"


async def test_a_failed_write_keeps_the_old_content(
    registry: ToolRegistry, workspace: Path
) -> None:
    (workspace / "keep.txt").write_text("old")
    (workspace / "keep.txt.d").mkdir()
    failed = await call(registry, "write_file", path="keep.txt/child", content="new")
    assert kind(failed) == "failed"
    assert (workspace / "keep.txt").read_text() == "old"
    assert [name for name in os.listdir(workspace) if name.endswith(".tmp")] == []


async def test_a_long_file_comes_a_page_of_whole_lines_at_a_time(
    registry: ToolRegistry, workspace: Path
) -> None:
    lines = [f"{i:03} " + "w" * 95 + "\n" for i in range(1, 41)]  # 100 chars each
    (workspace / "long.txt").write_text("".join(lines))
    pages, offset = [], 1
    while True:
        content = (await call(registry, "read_file", path="long.txt", offset=offset)).content
        assert len(content) <= 2_000 and "chars omitted" not in content
        text, _, footer = content.rpartition("\n[lines ")
        pages.append(text + "\n")
        if "read on with offset" not in footer:
            break
        offset = int(footer.rsplit(" ", 1)[1].rstrip("]"))
    assert "".join(pages) == "".join(lines)
    assert len(pages) == 3  # 18 + 18 + 4 lines in a 1,880-char budget


# -- escapes ---------------------------------------------------------------------------

ESCAPES = [
    pytest.param("/etc/passwd", "absolute", id="absolute"),
    pytest.param("../outside.txt", "'..'", id="dotdot"),
    pytest.param("notes/../../outside.txt", "'..'", id="nested-dotdot"),
    pytest.param("a\x00b", "NUL", id="nul"),
    pytest.param("x" * 300, "over 255 bytes", id="long-name"),
    pytest.param("/".join(["d" * 200] * 6), "bytes long", id="long-path"),
    pytest.param("", "", id="empty"),
    pytest.param(".", "workspace itself", id="dot"),
]


@pytest.mark.parametrize(("path", "reason"), ESCAPES)
@pytest.mark.parametrize("tool", ["read_file", "write_file", "edit_file"])
async def test_paths_out_of_the_workspace_are_refused(
    registry: ToolRegistry, tmp_path: Path, tool: str, path: str, reason: str
) -> None:
    args: dict[str, Any] = {"path": path}
    if tool == "write_file":
        args["content"] = "pwned"
    if tool == "edit_file":
        args.update(old_string="a", new_string="b")
    outcome = await call(registry, tool, **args)
    assert kind(outcome) in {"path_refused", "invalid_arguments"}
    assert reason in (outcome.error or "")
    assert not (tmp_path / "outside.txt").exists()


@pytest.mark.parametrize("tool", ["read_file", "write_file", "edit_file"])
async def test_symlinks_pointing_out_are_refused(
    registry: ToolRegistry, workspace: Path, tmp_path: Path, tool: str
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("server secret a")
    (workspace / "link.txt").symlink_to(secret)
    (workspace / "linkdir").symlink_to(tmp_path)
    args: dict[str, Any] = {"content": "x"} if tool == "write_file" else {}
    if tool == "edit_file":
        args.update(old_string="a", new_string="b")
    for path in ("link.txt", "linkdir/secret.txt"):
        outcome = await call(registry, tool, path=path, **args)
        assert kind(outcome) == "path_refused", outcome
        assert "outside the workspace" in (outcome.error or "")
    assert secret.read_text() == "server secret a"


async def test_a_symlink_inside_the_workspace_is_followed(
    registry: ToolRegistry, workspace: Path
) -> None:
    (workspace / "real.txt").write_text("inside")
    (workspace / "alias.txt").symlink_to(workspace / "real.txt")
    assert (await call(registry, "read_file", path="alias.txt")).content == "inside"


async def test_a_symlink_loop_is_refused(registry: ToolRegistry, workspace: Path) -> None:
    os.symlink("loop-b", workspace / "loop-a")
    os.symlink("loop-a", workspace / "loop-b")
    assert kind(await call(registry, "read_file", path="loop-a")) == "path_refused"


@pytest.mark.parametrize(
    ("text", "offset", "limit", "budget", "expected"),
    [
        ("a\nb\n", 1, None, 100, "a\nb\n"),  # fits: the text itself, no footer
        ("a\nb\nc\n", 1, 2, 100, "a\nb\n[lines 1-2 of 3; read on with offset 3]"),
        ("a\nb\nc\n", 2, None, 100, "b\nc\n[lines 2-3 of 3]"),
        ("aaaa\nbbbb\n", 1, None, 6, "aaaa\n[lines 1-1 of 2; read on with offset 2]"),
        ("x" * 50 + "\ny\n", 1, None, 10, "x" * 50 + "\n[lines 1-1 of 2; read on with offset 2]"),
        ("a\nb", 2, None, 100, "b\n[lines 2-2 of 2]"),
        ("a\n", 5, None, 100, "[no lines from 5: the text has 1 lines]"),
        ("", 1, None, 100, ""),
    ],
)
def test_page(text: str, offset: int, limit: int | None, budget: int, expected: str) -> None:
    assert page(text, offset, limit, budget=budget) == expected
