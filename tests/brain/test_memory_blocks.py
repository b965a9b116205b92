"""Tier 1: pinned blocks per user, with limits, edited atomically."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from brain.memory import (
    BLOCK_LABELS,
    Block,
    Memory,
    MemoryCorruptError,
    MemoryLimitError,
    UnknownBlockError,
)
from brain.memory.files import user_folder


def test_fresh_user_has_three_empty_blocks_with_default_limits(tmp_path: Path) -> None:
    blocks = Memory.open(tmp_path).blocks("web:alice")
    assert list(blocks) == list(BLOCK_LABELS) == ["persona", "user", "task"]
    assert blocks["persona"] == Block("persona", "", 2_000)
    assert blocks["task"] == Block("task", "", 5_000)
    assert not (tmp_path / "knowledge").exists()  # reading creates nothing


def test_set_block_persists_across_instances(tmp_path: Path) -> None:
    Memory.open(tmp_path).set_block("web:alice", "user", "Prefers metric units.")
    assert Memory.open(tmp_path).blocks("web:alice")["user"].value == "Prefers metric units."


def test_over_the_limit_raises_naming_the_limit_and_keeps_the_old_value(tmp_path: Path) -> None:
    memory = Memory.open(tmp_path, block_limits={"persona": 100, "user": 120, "task": 500})
    memory.set_block("web:alice", "user", "short")
    with pytest.raises(
        MemoryLimitError, match=r"block 'user' is 121 characters; the limit is 120"
    ) as caught:
        memory.set_block("web:alice", "user", "x" * 121)
    assert (caught.value.size, caught.value.limit) == (121, 120)
    assert memory.blocks("web:alice")["user"].value == "short"
    assert memory.set_block("web:alice", "user", "y" * 120).value == "y" * 120  # exactly the limit


def test_unknown_label_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(UnknownBlockError, match="no memory block 'mood'; the blocks are persona"):
        Memory.open(tmp_path).set_block("web:alice", "mood", "happy")


def test_blocks_are_per_user_and_the_user_key_is_not_a_path(tmp_path: Path) -> None:
    memory = Memory.open(tmp_path)
    memory.set_block("web:../../etc", "user", "hostile key")
    memory.set_block("web:bob", "user", "Bob")
    assert memory.blocks("web:alice")["user"].value == ""
    assert memory.blocks("web:bob")["user"].value == "Bob"
    folders = sorted(p.name for p in (tmp_path / "knowledge").iterdir())
    assert all(len(name) == 32 and name.isalnum() for name in folders)
    assert (user_folder(tmp_path / "knowledge", "web:bob")).stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b'{"version": 2, "user": "web:alice", "blocks": {}}',
        b'{"version": 1, "user": "web:alice", "blocks": {"mood": "x"}}',
        b"[]",
    ],
)
def test_corrupt_file_raises_and_is_never_overwritten(tmp_path: Path, content: bytes) -> None:
    path = user_folder(tmp_path / "knowledge", "web:alice") / "blocks.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    memory = Memory.open(tmp_path)
    with pytest.raises(MemoryCorruptError, match="left untouched"):
        memory.blocks("web:alice")
    with pytest.raises(MemoryCorruptError):
        memory.set_block("web:alice", "user", "new")
    assert path.read_bytes() == content


def test_a_file_moved_to_another_users_folder_is_refused(tmp_path: Path) -> None:
    memory = Memory.open(tmp_path)
    memory.set_block("web:alice", "user", "Alice's secret")
    root = tmp_path / "knowledge"
    target = user_folder(root, "web:mallory") / "blocks.json"
    target.parent.mkdir(parents=True)
    target.write_bytes((user_folder(root, "web:alice") / "blocks.json").read_bytes())
    with pytest.raises(MemoryCorruptError, match="belongs to another user"):
        memory.blocks("web:mallory")


def test_file_format_is_stable_json(tmp_path: Path) -> None:
    memory = Memory.open(tmp_path)
    memory.set_block("web:alice", "persona", "Terse.")
    path = user_folder(tmp_path / "knowledge", "web:alice") / "blocks.json"
    assert json.loads(path.read_text()) == {
        "version": 1,
        "user": "web:alice",
        "blocks": {"persona": "Terse."},
    }


def test_a_cached_read_sees_every_later_write_and_only_its_own_user(tmp_path: Path) -> None:
    memory = Memory.open(tmp_path)
    memory.set_block("web:alice", "user", "first")
    assert memory.blocks("web:alice")["user"].value == "first"  # now cached
    memory.set_block("web:alice", "user", "second")
    assert memory.blocks("web:alice")["user"].value == "second"
    assert memory.blocks("web:bob")["user"].value == ""
    Memory.open(tmp_path).set_block("web:alice", "user", "third, from another writer")
    assert memory.blocks("web:alice")["user"].value == "third, from another writer"
    (user_folder(tmp_path / "knowledge", "web:alice") / "blocks.json").unlink()
    assert memory.blocks("web:alice")["user"].value == ""


def test_a_file_that_turns_corrupt_after_a_cached_read_is_reported(tmp_path: Path) -> None:
    memory = Memory.open(tmp_path)
    memory.set_block("web:alice", "user", "fine")
    assert memory.blocks("web:alice")["user"].value == "fine"
    (user_folder(tmp_path / "knowledge", "web:alice") / "blocks.json").write_text("{")
    with pytest.raises(MemoryCorruptError):
        memory.blocks("web:alice")
