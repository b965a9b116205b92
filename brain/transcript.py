"""Per-conversation message history in SQLite (``<data_dir>/state.db``, table ``brain_messages``).

The file is shared with the gateway's own tables, so the connection runs in
WAL mode with a busy timeout, and every write is one short ``BEGIN IMMEDIATE``
transaction.  The connection is used from the event-loop thread only; calls
are small enough (one indexed range read, one batched insert per turn) not to
need a worker thread.

Only complete turns are appended (see ``brain.loop``), so history never holds
a tool call without its result.  :meth:`Transcript.recent` still starts the
window at a user message, so trimming cannot split a tool chain either.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from brain.errors import TranscriptError
from brain.models.base import Message, Role, ToolCall

__all__ = ["Transcript"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS brain_messages (
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

_Row = tuple[str, str, str | None, str | None]


class Transcript:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        # This process is the table's only writer: remember each conversation's last seq.
        self._last_seq: dict[str, int] = {}

    @classmethod
    def open(cls, path: Path) -> Transcript:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=5000")
            db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise TranscriptError(f"cannot open transcript store {path}: {exc}") from exc
        return cls(db)

    def close(self) -> None:
        self._db.close()

    def recent(self, conversation_id: str, limit: int) -> tuple[Message, ...]:
        """The last ``limit`` messages or fewer, oldest first, starting at a user message."""
        try:
            rows: list[_Row] = self._db.execute(
                "SELECT role, content, tool_calls, tool_call_id FROM brain_messages"
                " WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?",
                (conversation_id, limit),
            ).fetchall()
        except sqlite3.Error as exc:
            raise TranscriptError(f"cannot read transcript: {exc}") from exc
        messages = [_decode(row) for row in reversed(rows)]
        while messages and messages[0].role is not Role.USER:
            messages.pop(0)
        return tuple(messages)

    def append(self, conversation_id: str, messages: Sequence[Message], *, now: float) -> None:
        rows = [(conversation_id, *_encode(m), now) for m in messages]
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                last = self._last_seq.get(conversation_id)
                if last is None:
                    (last,) = self._db.execute(
                        "SELECT COALESCE(MAX(seq), 0) FROM brain_messages "
                        "WHERE conversation_id = ?",
                        (conversation_id,),
                    ).fetchone()
                self._db.executemany(
                    "INSERT INTO brain_messages VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(r[0], last + i, *r[1:]) for i, r in enumerate(rows, start=1)],
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._last_seq.pop(conversation_id, None)
            raise TranscriptError(f"cannot write transcript: {exc}") from exc
        self._last_seq[conversation_id] = last + len(rows)

    def count(self, conversation_id: str) -> int:
        (n,) = self._db.execute(
            "SELECT COUNT(*) FROM brain_messages WHERE conversation_id = ?", (conversation_id,)
        ).fetchone()
        return int(n)


def _encode(message: Message) -> tuple[str, str, str | None, str | None]:
    calls = None
    if message.tool_calls:
        calls = json.dumps(
            [
                {"id": c.id, "name": c.name, "arguments": dict(c.arguments)}
                for c in message.tool_calls
            ]
        )
    return message.role.value, message.content, calls, message.tool_call_id


def _decode(row: _Row) -> Message:
    role, content, calls, tool_call_id = row
    try:
        if calls is None:  # most rows: skip the JSON parser
            return Message(Role(role), content, (), tool_call_id)
        tool_calls = tuple(ToolCall(c["id"], c["name"], c["arguments"]) for c in json.loads(calls))
        return Message(Role(role), content, tool_calls, tool_call_id)
    except (ValueError, KeyError, TypeError) as exc:
        raise TranscriptError(f"corrupt transcript row: {exc}") from exc
