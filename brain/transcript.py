"""Per-conversation message history in SQLite (``<data_dir>/state.db``, table ``brain_messages``).

The file is shared with the gateway's own tables, so the connection runs in
WAL mode with a busy timeout, and every write is one short ``BEGIN IMMEDIATE``
transaction.  The connection is used from the event-loop thread only; calls
are small enough (one indexed range read, one batched insert per turn) not to
need a worker thread.

Only complete turns are appended (see ``brain.loop``), so history never holds
a tool call without its result.  :meth:`Transcript.recent` still starts the
window at a user message, so trimming cannot split a tool chain either.

An assistant message's provider-native copy (``Message.native``: MiniMax's
``<think>`` content or ``reasoning_details``, Anthropic thinking blocks with
their signatures) is kept in the ``native`` column, as the exact text the
provider produced, so that the next turn replays it unchanged.  Databases
written before that column existed get it on open (``_MIGRATIONS``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from brain.errors import TranscriptError
from brain.models.base import Message, NativePayload, Role, ToolCall
from registry.diskio import open_sqlite

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
    native TEXT,
    PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID
"""

# Columns added after the first release: (name, ALTER statement), applied in order.
_MIGRATIONS = (("native", "ALTER TABLE brain_messages ADD COLUMN native TEXT"),)
_INSERT = (
    "INSERT INTO brain_messages (conversation_id, seq, role, content, tool_calls,"
    " tool_call_id, created_at, native) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)

_Row = tuple[str, str, str | None, str | None, str | None]


class Transcript:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        # This process is the table's only writer: remember each conversation's last
        # seq and, once counted, its number of messages.
        self._last_seq: dict[str, int] = {}
        self._counts: dict[str, int] = {}

    @classmethod
    def open(cls, path: Path) -> Transcript:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = open_sqlite(path)
            db.execute(_SCHEMA)
            _migrate(db)
        except (OSError, sqlite3.Error) as exc:
            raise TranscriptError(f"cannot open transcript store {path}: {exc}") from exc
        return cls(db)

    def close(self) -> None:
        self._db.close()

    def recent(self, conversation_id: str, limit: int) -> tuple[Message, ...]:
        """The last ``limit`` messages or fewer, oldest first, starting at a user message."""
        try:
            rows: list[_Row] = self._db.execute(
                "SELECT role, content, tool_calls, tool_call_id, native FROM brain_messages"
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
        rows = [(conversation_id, *_encode(m), now, _encode_native(m.native)) for m in messages]
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
                    _INSERT,
                    [(r[0], last + i, *r[1:]) for i, r in enumerate(rows, start=1)],
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._last_seq.pop(conversation_id, None)
            self._counts.pop(conversation_id, None)
            raise TranscriptError(f"cannot write transcript: {exc}") from exc
        self._last_seq[conversation_id] = last + len(rows)
        if conversation_id in self._counts:
            self._counts[conversation_id] += len(rows)

    def count(self, conversation_id: str) -> int:
        known = self._counts.get(conversation_id)
        if known is not None:
            return known
        (n,) = self._db.execute(
            "SELECT COUNT(*) FROM brain_messages WHERE conversation_id = ?", (conversation_id,)
        ).fetchone()
        self._counts[conversation_id] = int(n)
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


def _encode_native(native: NativePayload | None) -> str | None:
    if native is None:
        return None
    return json.dumps({"producer": native.producer, "body": native.body}, ensure_ascii=False)


def _decode(row: _Row) -> Message:
    role, content, calls, tool_call_id, native = row
    try:
        tool_calls: tuple[ToolCall, ...] = ()
        if calls is not None:  # most rows have none: skip the JSON parser
            tool_calls = tuple(
                ToolCall(c["id"], c["name"], c["arguments"]) for c in json.loads(calls)
            )
        return Message(Role(role), content, tool_calls, tool_call_id, _decode_native(native))
    except (ValueError, KeyError, TypeError) as exc:
        raise TranscriptError(f"corrupt transcript row: {exc}") from exc


def _decode_native(text: str | None) -> NativePayload | None:
    if text is None:
        return None
    value = json.loads(text)
    producer, body = value["producer"], value["body"]
    if not isinstance(producer, str) or not isinstance(body, str):
        raise TypeError("native payload needs a producer and a body text")
    return NativePayload(producer, body)


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a table created by an older release up to :data:`_SCHEMA`.

    Each step is idempotent and races safely with another process doing the
    same: a column that appeared meanwhile is taken as done.
    """
    present = {row[1] for row in db.execute("PRAGMA table_info(brain_messages)")}
    for column, statement in _MIGRATIONS:
        if column in present:
            continue
        try:
            db.execute(statement)
        except sqlite3.OperationalError as exc:
            if "duplicate column" not in str(exc):
                raise
