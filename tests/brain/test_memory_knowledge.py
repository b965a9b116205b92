"""Tier 3: schema-checked knowledge records: dedup, caps, retrieval, hostile input, concurrency."""

from __future__ import annotations

import asyncio
import json
import math
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from brain.memory import (
    InvalidRecordError,
    KnowledgeRecord,
    Memory,
    MemoryCorruptError,
    MemoryInputError,
    MemoryLimitError,
)
from brain.memory.files import user_folder
from brain.memory.records import schema_errors

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def records_file(data_dir: Path, user: str) -> Path:
    return user_folder(data_dir / "knowledge", user) / "records.json"


def stored(data_dir: Path, user: str) -> list[dict[str, object]]:
    document = json.loads(records_file(data_dir, user).read_text())
    assert document["user"] == user
    records: list[dict[str, object]] = document["records"]
    return records


def test_add_returns_a_complete_record_that_validates(tmp_path: Path) -> None:
    memory = Memory.open(tmp_path, clock=Clock())
    record = memory.knowledge.add(
        "web:alice", kind="preference", content=" Likes green tea. ", tags=["Drinks", "tea time"],
        source="turn 3", confidence=0.8,
    )  # fmt: skip
    assert record == KnowledgeRecord(
        id=record.id, kind="preference", content="Likes green tea.", tags=("drinks", "tea-time"),
        source="turn 3", created=1_001.0, last_used=1_001.0, use_count=0, confidence=0.8,
    )  # fmt: skip
    assert record.id.startswith("k") and len(record.id) == 25
    (on_disk,) = stored(tmp_path, "web:alice")
    assert schema_errors(on_disk) == []
    assert on_disk == record.to_json()


def test_same_content_is_one_record_merged(tmp_path: Path) -> None:
    memory = Memory.open(tmp_path, clock=Clock())
    first = memory.knowledge.add(
        "web:alice", kind="fact", content="Alice lives in Lyon.", tags=["home"]
    )
    again = memory.knowledge.add(
        "web:alice", kind="fact", content="  alice LIVES in   lyon. ", tags=["city"], confidence=0.9
    )
    assert again.id == first.id
    assert again.content == "Alice lives in Lyon."  # the first wording is kept
    assert (again.tags, again.confidence, again.created) == (("city", "home"), 0.9, first.created)
    assert len(memory.knowledge.records("web:alice")) == 1


def test_per_kind_cap_evicts_the_least_recently_used(tmp_path: Path) -> None:
    caps = {"fact": 3, "preference": 1, "procedure": 1, "failure_pattern": 1, "skill_ref": 1}
    memory = Memory.open(tmp_path, clock=Clock(), kind_caps=caps)
    add = memory.knowledge.add
    a, b, c = (add("u:1", kind="fact", content=f"fact number {n}") for n in ("one", "two", "three"))
    memory.knowledge.touch("u:1", [a.id])  # a is now the most recently used
    add("u:1", kind="preference", content="likes jazz")  # another kind: no effect on facts
    d = add("u:1", kind="fact", content="fact number four")
    facts = {r.id for r in memory.knowledge.records("u:1", "fact")}
    assert facts == {a.id, c.id, d.id}  # b was least recently used
    assert b.id not in {r.id for r in memory.knowledge.records("u:1")}
    assert len(memory.knowledge.records("u:1", "preference")) == 1


def test_search_ranks_by_rare_shared_words_and_touches_the_results(tmp_path: Path) -> None:
    memory = Memory.open(tmp_path, clock=Clock())
    add = memory.knowledge.add
    add("u:1", kind="fact", content="The user's cat is called Miso.")
    add("u:1", kind="fact", content="The user works as a nurse in Leeds.")
    add("u:1", kind="procedure", content="To deploy, run make release then tag the commit.")
    found = memory.knowledge.search("u:1", "what is my cat called?", k=5)
    assert [r.content for r in found] == ["The user's cat is called Miso."]
    assert found[0].use_count == 1
    pure = memory.knowledge.search("u:1", "how do I deploy a release", touch=False)
    assert pure[0].content.startswith("To deploy") and pure[0].use_count == 0
    assert memory.knowledge.search("u:1", "hello", k=5) == []
    assert memory.knowledge.search("u:1", "cat", k=0) == []


def test_forget_removes_only_that_users_record(tmp_path: Path) -> None:
    memory = Memory.open(tmp_path)
    alice = memory.knowledge.add("web:alice", kind="fact", content="Alice is allergic to nuts.")
    memory.knowledge.add("web:bob", kind="fact", content="Alice is allergic to nuts.")
    assert memory.knowledge.forget("web:bob", alice.id) is True  # same content, Bob's own copy
    assert memory.knowledge.forget("web:bob", alice.id) is False
    assert memory.knowledge.get("web:alice", alice.id) is not None


def test_users_never_see_each_others_knowledge(tmp_path: Path) -> None:
    memory = Memory.open(tmp_path)
    memory.knowledge.add("telegram:1", kind="fact", content="My PIN is 4321.")
    assert memory.knowledge.search("telegram:2", "what is my PIN", k=5) == []
    assert memory.knowledge.records("telegram:2") == []


@pytest.mark.parametrize(
    ("fields", "error", "match"),
    [
        ({"kind": "rumour"}, InvalidRecordError, "kind: 'rumour' is not one of"),
        ({"content": ""}, InvalidRecordError, "content: '' should be non-empty"),
        (
            {"content": "x" * 4_001},
            MemoryLimitError,
            "content is 4001 characters; the limit is 4000",
        ),
        ({"content": "bad \ud800 char"}, InvalidRecordError, "content holds an invalid character"),
        ({"content": 42}, InvalidRecordError, "content must be text, not int"),
        ({"tags": "one-string"}, InvalidRecordError, "tags must be a list"),
        (
            {"tags": [f"t{n}" for n in range(17)]},
            MemoryLimitError,
            "tags is 17 tags; the limit is 16",
        ),
        ({"tags": ["ok", "no/slash"]}, InvalidRecordError, "tags.0: 'no/slash' does not match"),
        ({"tags": ["x" * 41]}, InvalidRecordError, "tags.0"),
        (
            {"confidence": 1.5},
            InvalidRecordError,
            "confidence: 1.5 is greater than the maximum of 1",
        ),
        ({"confidence": -0.1}, InvalidRecordError, "confidence"),
        ({"confidence": math.nan}, InvalidRecordError, "confidence: nan is not a number"),
        ({"confidence": "high"}, InvalidRecordError, "confidence must be a number"),
        ({"source": "s" * 201}, InvalidRecordError, "source: 'sss"),
    ],
)
def test_bad_input_is_a_clear_error_and_stores_nothing(
    tmp_path: Path, fields: dict[str, object], error: type[Exception], match: str
) -> None:
    memory = Memory.open(tmp_path)
    memory.knowledge.add("u:1", kind="fact", content="Kept before the bad write.")
    before = records_file(tmp_path, "u:1").read_bytes()
    arguments: dict[str, object] = {"kind": "fact", "content": "A valid sentence."} | fields
    with pytest.raises(error, match=match) as caught:
        memory.knowledge.add("u:1", **arguments)  # type: ignore[arg-type]
    assert isinstance(caught.value, MemoryInputError)
    assert len(str(caught.value)) < 400  # a huge value is not echoed back whole
    assert records_file(tmp_path, "u:1").read_bytes() == before


@pytest.mark.parametrize(
    "content",
    [
        b"{truncated",
        b'{"version": 1, "user": "u:1", "records": [{"id": "k1"}]}',
        b'{"version": 1, "user": "u:1", "records": {}}',
        b'{"version": 1, "user": "u:other", "records": []}',
    ],
)
def test_corrupt_file_is_reported_and_left_untouched(tmp_path: Path, content: bytes) -> None:
    path = records_file(tmp_path, "u:1")
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    memory = Memory.open(tmp_path)
    with pytest.raises(MemoryCorruptError, match="left untouched"):
        memory.knowledge.search("u:1", "anything at all")
    with pytest.raises(MemoryCorruptError):
        memory.knowledge.add("u:1", kind="fact", content="new fact")
    assert path.read_bytes() == content


def test_a_write_by_another_process_is_seen(tmp_path: Path) -> None:
    first, second = Memory.open(tmp_path), Memory.open(tmp_path)
    assert first.knowledge.search("u:1", "violin", touch=False) == []  # cached: empty
    second.knowledge.add("u:1", kind="fact", content="Plays the violin.")
    assert [r.content for r in first.knowledge.search("u:1", "violin", touch=False)] == [
        "Plays the violin."
    ]


# -- concurrency: 50 writers at once, threads, asyncio tasks and another process ----------

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from brain.memory import Memory
    memory = Memory.open(Path(sys.argv[1]))
    for n in range(int(sys.argv[2]), int(sys.argv[3])):
        memory.knowledge.add("web:alice", kind="fact", content=f"concurrent fact {n}", tags=["w"])
    memory.knowledge.add("web:alice", kind="fact", content="shared fact", tags=["process"])
    """
)


async def test_fifty_concurrent_writes_lose_nothing_and_corrupt_nothing(tmp_path: Path) -> None:
    memory, other = Memory.open(tmp_path), Memory.open(tmp_path)
    barrier = threading.Barrier(20)

    def thread_writer(n: int) -> None:
        barrier.wait()
        memory.knowledge.add("web:alice", kind="fact", content=f"concurrent fact {n}")
        other.knowledge.add("web:alice", kind="fact", content="shared fact", tags=[f"t{n % 5}"])

    threads = [threading.Thread(target=thread_writer, args=(n,)) for n in range(20)]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(tmp_path), "40", "50", cwd=ROOT
    )
    for thread in threads:
        thread.start()
    async with asyncio.TaskGroup() as group:
        for n in range(20, 40):
            store = memory if n % 2 else other
            group.create_task(
                asyncio.to_thread(
                    store.knowledge.add, "web:alice", kind="fact", content=f"concurrent fact {n}"
                )
            )
    for thread in threads:
        await asyncio.to_thread(thread.join)
    assert await process.wait() == 0

    records = stored(tmp_path, "web:alice")
    assert all(schema_errors(r) == [] for r in records)
    contents = sorted(str(r["content"]) for r in records)
    assert contents == sorted([f"concurrent fact {n}" for n in range(50)] + ["shared fact"])
    shared = next(r for r in records if r["content"] == "shared fact")
    assert set(shared["tags"]) == {"t0", "t1", "t2", "t3", "t4", "process"}  # type: ignore[arg-type]
    leftovers = [p.name for p in records_file(tmp_path, "web:alice").parent.iterdir()]
    assert sorted(leftovers) == [".lock", "records.json"]  # no temporary files left behind
