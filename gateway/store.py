"""The gateway's durable state in SQLite: sessions, numbered events, dedupe keys, runs.

Every event of a session gets the next ``seq`` of that session, so ``seq`` is
gap-free per session, survives restarts, and a client can ask for everything
after the last ``seq`` it saw.  This process is the only writer of its
database, so the next ``seq`` is kept in memory (read from the table once per
session) and storing an event is a single ``INSERT``.

The database runs in WAL mode with ``synchronous=NORMAL``: a commit is durable
against a process crash (what a gateway restart is) and costs no fsync.
Calls are short and made from the event loop's thread only; the connection is
not shared with other threads.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.errors import StoreError
from registry.diskio import open_sqlite

__all__ = ["Claim", "GatewayStore", "SessionRecord", "StoredEvent"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS gw_sessions (
    key TEXT PRIMARY KEY,
    principal TEXT NOT NULL,
    epoch INTEGER NOT NULL DEFAULT 0,
    title TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS gw_sessions_by_principal ON gw_sessions(principal);
CREATE TABLE IF NOT EXISTS gw_events (
    session TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    ts REAL NOT NULL,
    PRIMARY KEY (session, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gw_dedupe (
    key TEXT PRIMARY KEY,
    session TEXT NOT NULL,
    run_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    ts REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS gw_runs (
    run_id TEXT PRIMARY KEY,
    session TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS gw_runs_by_state ON gw_runs(state);
-- last_seq and updated_at come from the session's newest event.
CREATE VIEW IF NOT EXISTS gw_session_view AS
SELECT s.key, s.principal, s.epoch,
    COALESCE((SELECT MAX(seq) FROM gw_events e WHERE e.session = s.key), 0) AS last_seq,
    s.title,
    COALESCE((SELECT ts FROM gw_events e WHERE e.session = s.key ORDER BY seq DESC LIMIT 1),
             s.created_at) AS updated_at
FROM gw_sessions s;
"""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    session: str
    seq: int
    event: str
    payload: Mapping[str, Any]
    ts: float


@dataclass(frozen=True, slots=True)
class SessionRecord:
    key: str
    principal: str
    epoch: int
    last_seq: int
    title: str | None
    updated_at: float

    @property
    def conversation_id(self) -> str:
        """The brain's transcript key: changes when the user starts afresh."""
        return f"{self.key}#{self.epoch}"


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of claiming a dedupe key: ``duplicate`` means seen before;
    ``same_content`` says whether the earlier message had the same digest."""

    session: str
    run_id: str
    duplicate: bool
    same_content: bool = True


class GatewayStore:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        self._last_seq: dict[str, int] = {}

    @classmethod
    def open(cls, path: Path) -> GatewayStore:
        """Open (creating if needed) the database at ``path``."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = open_sqlite(path)
            db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the state database {path}: {exc}") from exc
        return cls(db)

    def close(self) -> None:
        self._db.close()

    def check(self) -> str:
        """``"ok"``, or what is wrong with the database (for ``/readyz``)."""
        try:
            self._db.execute("SELECT 1 FROM gw_sessions LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            return f"failing: {exc}"
        return "ok"

    # -- sessions ---------------------------------------------------------

    def ensure_session(self, key: str, principal: str, now: float) -> SessionRecord:
        self._db.execute(
            "INSERT INTO gw_sessions(key, principal, created_at) VALUES (?,?,?) "
            "ON CONFLICT(key) DO NOTHING",
            (key, principal, now),
        )
        record = self.get_session(key)
        assert record is not None
        return record

    def get_session(self, key: str) -> SessionRecord | None:
        row = self._db.execute(
            "SELECT key, principal, epoch, last_seq, title, updated_at FROM gw_session_view "
            "WHERE key = ?",
            (key,),
        ).fetchone()
        return SessionRecord(*row) if row else None

    def list_sessions(self, principal: str, limit: int) -> list[SessionRecord]:
        rows = self._db.execute(
            "SELECT key, principal, epoch, last_seq, title, updated_at FROM gw_session_view "
            "WHERE principal = ? ORDER BY updated_at DESC LIMIT ?",
            (principal, limit),
        ).fetchall()
        return [SessionRecord(*row) for row in rows]

    def start_new_epoch(self, key: str, now: float) -> SessionRecord:
        self._db.execute("UPDATE gw_sessions SET epoch = epoch + 1 WHERE key = ?", (key,))
        record = self.get_session(key)
        if record is None:
            raise StoreError(f"no session {key!r}")
        return record

    def set_title_if_missing(self, key: str, title: str) -> None:
        self._db.execute(
            "UPDATE gw_sessions SET title = ? WHERE key = ? AND title IS NULL", (title, key)
        )

    # -- events -----------------------------------------------------------

    def append_event(self, session: str, event: str, payload: Mapping[str, Any], now: float) -> int:
        """Store one event and return its ``seq``; the session must exist."""
        seq = self._next_seq(session)
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        self._db.execute(
            "INSERT INTO gw_events(session, seq, event, payload, ts) VALUES (?,?,?,?,?)",
            (session, seq, event, body, now),
        )
        self._last_seq[session] = seq
        return seq

    def _next_seq(self, session: str) -> int:
        last = self._last_seq.get(session)
        if last is None:
            record = self.get_session(session)
            if record is None:
                raise StoreError(f"cannot store an event for unknown session {session!r}")
            last = record.last_seq
        return last + 1

    def events_after(self, session: str, after_seq: int, limit: int) -> list[StoredEvent]:
        rows = self._db.execute(
            "SELECT seq, event, payload, ts FROM gw_events WHERE session = ? AND seq > ? "
            "ORDER BY seq LIMIT ?",
            (session, after_seq, limit),
        ).fetchall()
        return [StoredEvent(session, seq, ev, json.loads(body), ts) for seq, ev, body, ts in rows]

    def history(self, session: str, before_seq: int | None, limit: int) -> list[StoredEvent]:
        """The last ``limit`` user messages, final replies and failed runs' errors before
        ``before_seq``, oldest first."""
        rows = self._db.execute(
            "SELECT seq, event, payload, ts FROM gw_events WHERE session = ? "
            "AND event IN ('chat.message', 'chat.final', 'chat.error') AND seq < ? "
            "ORDER BY seq DESC LIMIT ?",
            (session, before_seq if before_seq is not None else 1 << 62, limit),
        ).fetchall()
        rows.reverse()
        return [StoredEvent(session, seq, ev, json.loads(body), ts) for seq, ev, body, ts in rows]

    def files_between(
        self, session: str, first_seq: int, before_seq: int | None, limit: int
    ) -> list[StoredEvent]:
        """The last ``limit`` ``chat.file`` events with ``first_seq <= seq < before_seq``,
        oldest first."""
        rows = self._db.execute(
            "SELECT seq, event, payload, ts FROM gw_events WHERE session = ? "
            "AND event = 'chat.file' AND seq >= ? AND seq < ? ORDER BY seq DESC LIMIT ?",
            (session, first_seq, before_seq if before_seq is not None else 1 << 62, limit),
        ).fetchall()
        rows.reverse()
        return [StoredEvent(session, seq, ev, json.loads(body), ts) for seq, ev, body, ts in rows]

    def sent_file(self, session: str, file_id: str) -> bool:
        """Whether ``session`` was sent the file ``file_id`` (a ``chat.file`` event names it)."""
        row = self._db.execute(
            "SELECT 1 FROM gw_events WHERE session = ? AND event = 'chat.file' "
            "AND json_extract(payload, '$.file_id') = ? LIMIT 1",
            (session, file_id),
        ).fetchone()
        return row is not None

    # -- dedupe -----------------------------------------------------------

    def claim(self, key: str, session: str, run_id: str, digest: str, now: float) -> Claim:
        """Record ``key`` as answered by ``run_id``, unless it was seen before."""
        row = self._db.execute(
            "INSERT INTO gw_dedupe(key, session, run_id, digest, ts) VALUES (?,?,?,?,?) "
            "ON CONFLICT(key) DO NOTHING RETURNING run_id",
            (key, session, run_id, digest, now),
        ).fetchone()
        if row is not None:
            return Claim(session, run_id, duplicate=False)
        old = self._db.execute(
            "SELECT session, run_id, digest FROM gw_dedupe WHERE key = ?", (key,)
        ).fetchone()
        return Claim(old[0], old[1], duplicate=True, same_content=old[2] == digest)

    def rebind_claim(self, key: str, run_id: str) -> None:
        """Point ``key`` at the run that really answers it (a collected run)."""
        self._db.execute("UPDATE gw_dedupe SET run_id = ? WHERE key = ?", (run_id, key))

    def release_claim(self, key: str) -> None:
        """Forget ``key``: the message was refused, so a retry must be processed."""
        self._db.execute("DELETE FROM gw_dedupe WHERE key = ?", (key,))

    def forget_dedupe_before(self, cutoff: float) -> int:
        cursor = self._db.execute("DELETE FROM gw_dedupe WHERE ts < ?", (cutoff,))
        return cursor.rowcount

    # -- runs -------------------------------------------------------------

    def record_run(self, run_id: str, session: str, state: str, now: float) -> None:
        self._db.execute(
            "INSERT INTO gw_runs(run_id, session, state, created_at, updated_at) "
            "VALUES (?,?,?,?,?) ON CONFLICT(run_id) DO UPDATE SET state = excluded.state, "
            "updated_at = excluded.updated_at",
            (run_id, session, state, now, now),
        )

    def unfinished_runs(self) -> list[tuple[str, str, str]]:
        """Runs a previous process left queued or running: (run_id, session, state)."""
        rows = self._db.execute(
            "SELECT run_id, session, state FROM gw_runs "
            "WHERE state IN ('queued', 'running', 'awaiting_approval')"
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]
