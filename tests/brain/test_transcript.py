"""The SQLite transcript store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from brain.errors import TranscriptError
from brain.models import Message, Role, ToolCall
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
