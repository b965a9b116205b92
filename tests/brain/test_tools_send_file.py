"""send_file: a workspace file goes to the outbox, and every way out of the workspace is refused."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from brain.models.base import ToolCall
from brain.steps import OutgoingFile, ToolOutcome
from brain.tools import CallContext, ToolRegistry, workspace_dir
from brain.tools.send_file import SendFileTool, display_name, outbox_dir
from gateway.files import FileStore

SESSION = "telegram:7:42"
ALICE = CallContext(user="telegram:42", session=SESSION)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def registry(data_dir: Path) -> ToolRegistry:
    return ToolRegistry([SendFileTool(data_dir, max_bytes=1024).tool()])


@pytest.fixture
def workspace(data_dir: Path) -> Path:
    return workspace_dir(data_dir, SESSION)


async def send(registry: ToolRegistry, context: CallContext = ALICE, **args: Any) -> ToolOutcome:
    return await registry.execute(ToolCall("c1", "send_file", args), context)


def refused(outcome: ToolOutcome) -> str:
    assert not outcome.ok and not outcome.files, outcome
    return str(json.loads(outcome.content)["kind"])


def outbox(data_dir: Path) -> list[str]:
    folder = outbox_dir(data_dir)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def test_a_file_is_copied_to_the_outbox_and_reported_with_its_caption(
    registry: ToolRegistry, workspace: Path, data_dir: Path
) -> None:
    (workspace / "out").mkdir()
    (workspace / "out" / "report.csv").write_bytes(b"a,b\n1,2\n")
    outcome = await send(registry, path="out/report.csv", caption="Here you are")
    assert outcome.ok, outcome
    (sent,) = outcome.files
    assert sent == OutgoingFile(sent.file_id, "report.csv", "text/csv", 8, "Here you are")
    assert json.loads(outcome.content) == {
        "sent": "report.csv",
        "bytes": 8,
        "media_type": "text/csv",
    }
    assert outbox(data_dir) == sorted([sent.file_id, f"{sent.file_id}.json"])
    (workspace / "out" / "report.csv").write_bytes(b"changed later")  # the copy is what was sent
    found = FileStore(outbox_dir(data_dir)).find(SESSION, sent.file_id)
    assert found is not None and found.path.read_bytes() == b"a,b\n1,2\n"
    assert (found.name, found.media_type, found.size) == ("report.csv", "text/csv", 8)
    assert os.stat(found.path).st_mode & 0o077 == 0  # private
    assert FileStore(outbox_dir(data_dir)).find("telegram:7:43", sent.file_id) is None


async def test_every_send_gets_its_own_id(registry: ToolRegistry, workspace: Path) -> None:
    (workspace / "a.txt").write_text("hi")
    first, second = await send(registry, path="a.txt"), await send(registry, path="a.txt")
    assert first.files[0].file_id != second.files[0].file_id
    assert first.files[0].caption is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("../outside.txt", "path_refused"),
        ("/etc/passwd", "path_refused"),
        ("missing.txt", "not_found"),
        ("sub", "failed"),  # a directory
        ("", "invalid_arguments"),
    ],
)
async def test_paths_that_are_not_a_workspace_file_are_refused(
    registry: ToolRegistry, workspace: Path, data_dir: Path, path: str, expected: str
) -> None:
    (workspace / "sub").mkdir()
    (workspace.parent / "outside.txt").write_text("secret")
    assert refused(await send(registry, path=path)) == expected
    assert outbox(data_dir) == []


async def test_a_symlink_out_of_the_workspace_is_refused(
    registry: ToolRegistry, workspace: Path, tmp_path: Path, data_dir: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the server's secrets")
    (workspace / "innocent.txt").symlink_to(secret)
    (workspace / "dir").symlink_to(tmp_path)
    assert refused(await send(registry, path="innocent.txt")) == "path_refused"
    assert refused(await send(registry, path="dir/secret.txt")) == "path_refused"
    assert outbox(data_dir) == []


async def test_a_symlink_inside_the_workspace_sends_its_target(
    registry: ToolRegistry, workspace: Path
) -> None:
    (workspace / "real.txt").write_text("real")
    (workspace / "alias.txt").symlink_to(workspace / "real.txt")
    outcome = await send(registry, path="alias.txt")
    assert outcome.ok and outcome.files[0].name == "real.txt"


async def test_a_file_over_the_limit_or_empty_is_refused(
    registry: ToolRegistry, workspace: Path, data_dir: Path
) -> None:
    (workspace / "big.bin").write_bytes(b"x" * 1025)
    (workspace / "empty.txt").write_bytes(b"")
    assert refused(await send(registry, path="big.bin")) == "too_large"
    assert refused(await send(registry, path="empty.txt")) == "failed"
    (workspace / "edge.bin").write_bytes(b"x" * 1024)
    assert (await send(registry, path="edge.bin")).ok
    assert len(outbox(data_dir)) == 2


async def test_a_caption_over_telegrams_limit_is_invalid(
    registry: ToolRegistry, workspace: Path
) -> None:
    (workspace / "a.txt").write_text("hi")
    assert refused(await send(registry, path="a.txt", caption="x" * 1025)) == "invalid_arguments"


def test_names_are_shown_without_control_characters_and_within_255() -> None:
    assert display_name("re\u202eport\x00.csv") == "report.csv"
    long = display_name("a" * 300 + ".pdf")
    assert len(long) == 255 and long.endswith(".pdf")
    assert display_name("\x07") == "file"


def test_the_store_finds_nothing_for_ids_of_another_shape(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("x")
    store = FileStore(tmp_path)
    for file_id in ("../secret", "secret", "a" * 65, "abc/defghijklmnopq", ""):
        assert store.find(SESSION, file_id) is None
