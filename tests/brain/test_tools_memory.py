"""The memory tools through the real ``brain.memory.Memory``, keyed by the calling user."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from brain.memory import Memory
from brain.models.base import ToolCall
from brain.steps import ToolOutcome
from brain.tools import CallContext, Risk, ToolRegistry
from brain.tools.memory_tools import MemoryTools

ALICE = CallContext(user="web:alice", session="web:default:c1")
BOB = CallContext(user="web:bob", session="web:default:c1")  # same group chat, another user


@pytest.fixture
def memory(tmp_path: Path) -> Memory:
    return Memory.open(tmp_path / "data", clock=lambda: 1_700_000_000.0)


@pytest.fixture
def registry(memory: Memory) -> ToolRegistry:
    return ToolRegistry(MemoryTools(memory).tools())


async def call(
    registry: ToolRegistry, name: str, context: CallContext = ALICE, **args: Any
) -> ToolOutcome:
    return await registry.execute(ToolCall("m1", name, args), context)


def body(outcome: ToolOutcome) -> Any:
    assert outcome.ok, outcome
    return json.loads(outcome.content)


def error_kind(outcome: ToolOutcome) -> str:
    assert not outcome.ok, outcome
    return str(json.loads(outcome.content)["kind"])


async def test_blocks_read_and_set(registry: ToolRegistry, memory: Memory) -> None:
    blocks = body(await call(registry, "memory_get_blocks"))
    assert list(blocks) == ["persona", "user", "task"]
    assert blocks["user"] == {"value": "", "chars": 0, "limit": 2000}
    done = await call(registry, "memory_set_block", label="user", value="Prefers metric units.")
    assert done.ok and done.content == "block user is now 21 of 2000 chars"
    assert memory.blocks("web:alice")["user"].value == "Prefers metric units."
    assert body(await call(registry, "memory_get_blocks"))["user"]["chars"] == 21


async def test_a_block_over_its_limit_is_refused_and_nothing_changes(
    registry: ToolRegistry, memory: Memory
) -> None:
    await call(registry, "memory_set_block", label="persona", value="Kind.")
    outcome = await call(registry, "memory_set_block", label="persona", value="x" * 2001)
    assert error_kind(outcome) == "too_large"
    assert "2000" in (outcome.error or "")
    assert memory.blocks("web:alice")["persona"].value == "Kind."
    unknown = await call(registry, "memory_set_block", label="secrets", value="x")
    assert error_kind(unknown) == "invalid_arguments"


async def test_remember_search_forget(registry: ToolRegistry, memory: Memory) -> None:
    stored = body(
        await call(
            registry,
            "memory_remember",
            kind="fact",
            content="Alice lives in Lyon.",
            tags=["home", "City"],
            confidence=0.9,
        )
    )["remembered"]
    assert stored["tags"] == ["city", "home"] and stored["confidence"] == 0.9
    record = memory.knowledge.get("web:alice", stored["id"])
    assert record is not None and record.source == "session:web:default:c1"
    found = body(await call(registry, "memory_search", query="where does alice live"))
    assert [r["id"] for r in found["records"]] == [stored["id"]]
    gone = await call(registry, "memory_forget", id=stored["id"])
    assert gone.ok
    assert memory.knowledge.get("web:alice", stored["id"]) is None
    assert error_kind(await call(registry, "memory_forget", id=stored["id"])) == "not_found"


async def test_bad_records_name_the_problem(registry: ToolRegistry) -> None:
    long = await call(registry, "memory_remember", kind="fact", content="x" * 5000)
    assert error_kind(long) == "too_large" and "4000" in (long.error or "")
    bad_tag = await call(registry, "memory_remember", kind="fact", content="ok", tags=["!!"])
    assert error_kind(bad_tag) == "invalid_arguments"
    bad_kind = await call(registry, "memory_remember", kind="gossip", content="x")
    assert error_kind(bad_kind) == "invalid_arguments"


async def test_users_never_see_each_others_memory(registry: ToolRegistry) -> None:
    await call(registry, "memory_set_block", label="user", value="Alice's private note")
    await call(registry, "memory_remember", kind="preference", content="Alice likes green tea")
    bob_blocks = body(await call(registry, "memory_get_blocks", BOB))
    assert all(block["value"] == "" for block in bob_blocks.values())
    bob_search = body(await call(registry, "memory_search", BOB, query="alice green tea"))
    assert bob_search == {"records": []}
    alice_id = body(await call(registry, "memory_search", query="green tea"))["records"][0]["id"]
    assert error_kind(await call(registry, "memory_forget", BOB, id=alice_id)) == "not_found"
    still = body(await call(registry, "memory_search", query="green tea"))["records"]
    assert [r["id"] for r in still] == [alice_id]


async def test_a_damaged_store_is_reported_without_its_path(
    registry: ToolRegistry, memory: Memory, tmp_path: Path
) -> None:
    await call(registry, "memory_set_block", label="user", value="x")
    for path in (tmp_path / "data" / "knowledge").rglob("blocks.json"):
        path.write_text("{not json")
    outcome = await call(registry, "memory_get_blocks")
    assert error_kind(outcome) == "failed"
    assert str(tmp_path) not in outcome.content


def test_risk_levels(registry: ToolRegistry) -> None:
    risks = {name: registry.risk_of(ToolCall("m1", name, {})) for name in registry.names}
    assert risks == {
        "memory_get_blocks": Risk.READ,
        "memory_set_block": Risk.WRITE,
        "memory_remember": Risk.WRITE,
        "memory_search": Risk.READ,
        "memory_forget": Risk.WRITE,
    }
