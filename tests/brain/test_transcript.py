"""The SQLite transcript store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from brain.errors import TranscriptError
from brain.models import Message, NativePayload, Role, ToolCall
from brain.transcript import Transcript


def user(text: str) -> Message:
    return Message(Role.USER, text)


def assistant(text: str) -> Message:
    return Message(Role.ASSISTANT, text)


CHAIN = (
    user("2*3?"),
    Message(Role.ASSISTANT, "", (ToolCall("c1", "calc__evaluate", {"expression": "2*3"}),)),
    Message(Role.TOOL, '{"text":"6"}', tool_call_id="c1"),
    assistant("6"),
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Transcript]:
    store = Transcript.open(tmp_path / "deep" / "state.db")
    yield store
    store.close()


def test_round_trip_keeps_tool_calls(store: Transcript) -> None:
    store.append("conv", CHAIN, now=1.0)
    assert store.recent("conv", 10) == CHAIN
    assert store.count("conv") == 4


def test_a_known_count_follows_every_append(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = Transcript.open(path)
    first.append("conv", (user("a"), assistant("A")), now=1.0)
    first.close()
    store = Transcript.open(path)
    assert store.count("conv") == 2  # counted once, then kept
    store.append("conv", CHAIN, now=2.0)
    assert store.count("conv") == 6
    store.append("other", (user("b"),), now=3.0)
    assert (store.count("conv"), store.count("other"), store.count("none")) == (6, 1, 0)
    store.close()


def test_recent_is_bounded_and_starts_at_a_user_message(store: Transcript) -> None:
    store.append("conv", (user("a"), assistant("A")), now=1.0)
    store.append("conv", CHAIN, now=2.0)
    assert store.recent("conv", 4) == CHAIN
    # A window of 3 would start at the tool call's assistant message: cut to a user turn.
    assert store.recent("conv", 3) == ()
    assert store.recent("conv", 6) == (user("a"), assistant("A"), *CHAIN)


def test_conversations_are_separate_and_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = Transcript.open(path)
    first.append("a", (user("in a"),), now=1.0)
    first.append("b", (user("in b"),), now=1.0)
    first.close()
    again = Transcript.open(path)
    try:
        assert again.recent("a", 10) == (user("in a"),)
        assert again.recent("b", 10) == (user("in b"),)
    finally:
        again.close()
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_hostile_text_is_stored_verbatim(store: Transcript) -> None:
    text = "'); DROP TABLE brain_messages; --\x00\u202e" + "x" * 100_000
    store.append("conv'--", (user(text),), now=1.0)
    assert store.recent("conv'--", 1) == (user(text),)


def test_corrupt_rows_raise_a_transcript_error(store: Transcript, tmp_path: Path) -> None:
    store.append("conv", (user("ok"),), now=1.0)
    db = sqlite3.connect(tmp_path / "deep" / "state.db")
    db.execute("UPDATE brain_messages SET tool_calls = 'not json'")
    db.commit()
    db.close()
    with pytest.raises(TranscriptError, match="corrupt"):
        store.recent("conv", 10)


def test_unopenable_store_raises(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(TranscriptError, match="cannot open"):
        Transcript.open(tmp_path / "file" / "state.db")


def test_native_payloads_round_trip_byte_for_byte(store: Transcript) -> None:
    body = '{"role": "assistant", "content": "<think>\\nplan é\\u2028\\n</think>\\n\\nHi", "x": 1}'
    reply = Message(Role.ASSISTANT, "Hi", native=NativePayload("minimax:MiniMax-M2.7", body))
    store.append("conv", (user("hi"), reply), now=1.0)
    (_, again) = store.recent("conv", 10)
    assert again == reply
    assert again.native is not None and again.native.body == body


OLD_SCHEMA = """
CREATE TABLE brain_messages (
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    tool_calls TEXT,
    tool_call_id TEXT,
    created_at REAL NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID
"""


def test_an_old_database_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    db = sqlite3.connect(path)
    db.execute(OLD_SCHEMA)
    db.execute("INSERT INTO brain_messages VALUES ('conv', 1, 'user', 'before', NULL, NULL, 1.0)")
    db.commit()
    db.close()
    for _ in range(2):  # opening twice migrates once
        store = Transcript.open(path)
        try:
            reply = Message(Role.ASSISTANT, "after", native=NativePayload("p", "[]"))
            store.append("conv", (user("next"), reply), now=2.0)
            messages = store.recent("conv", 10)
        finally:
            store.close()
    assert messages[:3] == (user("before"), user("next"), reply)
    columns = [row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(brain_messages)")]
    assert columns[-1] == "native"


def test_a_corrupt_native_payload_is_a_transcript_error(store: Transcript, tmp_path: Path) -> None:
    store.append("conv", (user("ok"),), now=1.0)
    db = sqlite3.connect(tmp_path / "deep" / "state.db")
    db.execute("UPDATE brain_messages SET native = '{\"producer\": 1}'")
    db.commit()
    db.close()
    with pytest.raises(TranscriptError, match="corrupt"):
        store.recent("conv", 10)
