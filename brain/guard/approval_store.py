"""Approval requests in SQLite: the saved turn, the decision, the outcome, an audit trail.

Theory of operation
-------------------
Each request is one row of ``brain_approvals`` in ``<data_dir>/state.db``
moving through :data:`TRANSITIONS`::

    pending ─▶ approved ─▶ running ─▶ done ─▶ closed
       │ └─▶ denied ────────────┴─────────────────▲
       └─▶ withdrawn ◀─ approved

``pending`` waits for a person; ``approved``/``denied`` is the decision;
``running`` is claimed just before the tool starts and ``done`` stores its
outcome; ``closed`` means the turn that used it ended (a person's stop while
the tool runs closes it too), ``withdrawn`` that it ended before the tool
ran.  Every move is one ``UPDATE ... WHERE state IN <sources>``, so of two
racing moves exactly one wins, also across processes: that is what makes a
decision, and a run, happen once.  A row that is not closed or
withdrawn belongs to a turn that can continue (:meth:`ApprovalStore.open_requests`).

Every move also appends to ``brain_approval_audit`` in the same transaction:
who did what to which request, and when (a refused second decision too).
The connection lives in the event-loop thread; statements are short.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from brain.guard.errors import ApprovalStoreError
from brain.models.base import ToolCall
from registry.diskio import open_sqlite

__all__ = [
    "OPEN_STATES",
    "TRANSITIONS",
    "ApprovalState",
    "ApprovalStore",
    "AuditEntry",
    "StoredRequest",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS brain_approvals (
    request_id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    session TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    user TEXT NOT NULL,
    call TEXT NOT NULL,
    summary TEXT NOT NULL,
    continuation TEXT NOT NULL,
    state TEXT NOT NULL,
    decided_by TEXT,
    decided_at REAL,
    outcome TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS brain_approvals_by_state ON brain_approvals(state);
CREATE TABLE IF NOT EXISTS brain_approval_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS brain_approval_audit_by_request ON brain_approval_audit(request_id);
"""


class ApprovalState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    RUNNING = "running"
    DONE = "done"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


_S = ApprovalState
TRANSITIONS: Mapping[ApprovalState, frozenset[ApprovalState]] = {
    _S.PENDING: frozenset({_S.APPROVED, _S.DENIED, _S.WITHDRAWN}),
    _S.APPROVED: frozenset({_S.RUNNING, _S.WITHDRAWN}),
    _S.DENIED: frozenset({_S.CLOSED}),
    _S.RUNNING: frozenset({_S.DONE, _S.CLOSED}),
    _S.DONE: frozenset({_S.CLOSED}),
    _S.WITHDRAWN: frozenset(),
    _S.CLOSED: frozenset(),
}
OPEN_STATES = frozenset(s for s in ApprovalState if s not in {_S.WITHDRAWN, _S.CLOSED})


@dataclass(frozen=True, slots=True)
class StoredRequest:
    request_id: str
    run_id: str
    session: str
    conversation_id: str
    user: str
    call: ToolCall
    summary: str
    continuation: str  # JSON, see brain.guard.checkpoint
    state: ApprovalState
    decided_by: str | None = None
    decided_at: float | None = None
    outcome: str | None = None  # JSON of the tool's outcome once it ran
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class AuditEntry:
    request_id: str
    at: float
    actor: str
    action: str
    detail: str


_SELECT_ONE = (
    "SELECT request_id, run_id, session, conversation_id, user, call, summary, continuation, "
    "state, decided_by, decided_at, outcome, created_at FROM brain_approvals "
    "WHERE request_id = ?"
)
_INSERT = (
    "INSERT INTO brain_approvals(request_id, run_id, session, conversation_id, user, call, "
    "summary, continuation, state, decided_by, decided_at, outcome, created_at, updated_at) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_SELECT_OPEN = (
    "SELECT request_id, run_id, session, conversation_id, user, call, summary, continuation, "
    "state, decided_by, decided_at, outcome, created_at FROM brain_approvals "
    "WHERE state IN (SELECT value FROM json_each(?)) ORDER BY created_at, request_id"
)
# The source states travel as one JSON array parameter (json_each), so no SQL is built.
_MOVE = (
    "UPDATE brain_approvals SET state = ?, updated_at = ?, "
    "decided_by = CASE WHEN ? THEN ? ELSE decided_by END, "
    "decided_at = CASE WHEN ? THEN ? ELSE decided_at END, "
    "outcome = COALESCE(?, outcome) "
    "WHERE request_id = ? AND state IN (SELECT value FROM json_each(?))"
)


class ApprovalStore:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    @classmethod
    def open(cls, path: Path) -> ApprovalStore:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = open_sqlite(path)
            db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ApprovalStoreError(f"cannot open the approval store {path}: {exc}") from exc
        return cls(db)

    def close(self) -> None:
        self._db.close()

    def add(self, request: StoredRequest, *, now: float) -> None:
        """Store a new ``pending`` request (and its audit line)."""
        call = json.dumps(
            {"id": request.call.id, "name": request.call.name, "arguments": request.call.arguments},
            ensure_ascii=False,
            default=str,
        )
        row = (
            *(request.request_id, request.run_id, request.session, request.conversation_id),
            *(request.user, call, request.summary, request.continuation),
            *(ApprovalState.PENDING.value, None, None, None, now, now),
        )
        with self._transaction():
            self._db.execute(_INSERT, row)
            self._audit(request.request_id, now, request.user, "requested", request.summary)

    def move(
        self,
        request_id: str,
        to: ApprovalState,
        *,
        actor: str,
        now: float,
        outcome: str | None = None,
    ) -> bool:
        """Move the request to ``to`` from any state allowed to go there; False if none is.

        A decision (``approved``/``denied``) records ``actor`` as who decided.
        """
        sources = json.dumps([s.value for s, targets in TRANSITIONS.items() if to in targets])
        decided = to in {ApprovalState.APPROVED, ApprovalState.DENIED}
        args = (to.value, now, decided, actor, decided, now, outcome, request_id, sources)
        with self._transaction():
            cursor = self._db.execute(_MOVE, args)
            moved = cursor.rowcount == 1
            action = to.value if moved else f"refused {to.value}"
            if moved or self._exists(request_id):
                self._audit(request_id, now, actor, action, "")
        return moved

    def get(self, request_id: str) -> StoredRequest | None:
        row = self._query(_SELECT_ONE, request_id)
        return _decode(row[0]) if row else None

    def open_requests(self) -> list[StoredRequest]:
        """Requests whose turn can still continue, oldest first."""
        states = json.dumps(sorted(s.value for s in OPEN_STATES))
        rows = self._query(_SELECT_OPEN, states)
        return [_decode(row) for row in rows]

    def audit(self, request_id: str | None = None) -> list[AuditEntry]:
        """The audit trail, oldest first; only ``request_id``'s when given."""
        rows = self._query(
            "SELECT request_id, at, actor, action, detail FROM brain_approval_audit "
            "WHERE ? IS NULL OR request_id = ? ORDER BY id",
            request_id,
            request_id,
        )
        return [
            AuditEntry(str(r[0]), float(str(r[1])), str(r[2]), str(r[3]), str(r[4])) for r in rows
        ]

    # -- plumbing ------------------------------------------------------------

    def _exists(self, request_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM brain_approvals WHERE request_id = ?", request_id))

    def _audit(self, request_id: str, at: float, actor: str, action: str, detail: str) -> None:
        self._db.execute(
            "INSERT INTO brain_approval_audit(request_id, at, actor, action, detail) "
            "VALUES (?,?,?,?,?)",
            (request_id, at, actor, action, detail),
        )

    def _query(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        try:
            return list(self._db.execute(sql, args).fetchall())
        except sqlite3.Error as exc:
            raise ApprovalStoreError(f"cannot read the approval store: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; rolled back on any error, store errors translated."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise ApprovalStoreError(f"cannot write the approval store: {exc}") from exc


def _decode(row: tuple[object, ...]) -> StoredRequest:
    (request_id, run_id, session, conversation_id, user, call, summary, continuation) = row[:8]
    state, decided_by, decided_at, outcome, created_at = row[8:]
    try:
        data = json.loads(str(call))
        tool_call = ToolCall(str(data["id"]), str(data["name"]), dict(data["arguments"]))
        return StoredRequest(
            *(str(request_id), str(run_id), str(session), str(conversation_id), str(user)),
            *(tool_call, str(summary), str(continuation), ApprovalState(str(state))),
            decided_by=None if decided_by is None else str(decided_by),
            decided_at=None if decided_at is None else float(str(decided_at)),
            outcome=None if outcome is None else str(outcome),
            created_at=float(str(created_at)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ApprovalStoreError(f"corrupt approval request {request_id!r}: {exc}") from exc
