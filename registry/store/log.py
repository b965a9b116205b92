"""The transparency log kept in the registry's database (see :mod:`registry.translog`).

Entries go in ``log_entries``, perfect-subtree hashes in ``log_nodes``, and a
checkpoint signed with the registry's key in ``checkpoints`` after every
append.  :meth:`LogStore.append` runs inside the caller's write transaction,
so a version and its log entry are committed together or not at all.
"""

from __future__ import annotations

import sqlite3

from registry.signing import SigningKey
from registry.store.db import Database
from registry.store.errors import NotFound
from registry.translog import (
    Checkpoint,
    LogEntry,
    ProofError,
    SignedCheckpoint,
    append_nodes,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
)

__all__ = ["MAX_ENTRIES_PER_PAGE", "LogStore"]

MAX_ENTRIES_PER_PAGE = 1000


class _Nodes:
    """:class:`~registry.translog.NodeReader` over one connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def node(self, level: int, index: int) -> bytes:
        row = self._conn.execute(
            "SELECT hash FROM log_nodes WHERE level = ? AND idx = ?", (level, index)
        ).fetchone()
        if row is None:  # the schema's invariant is broken: never hide that
            raise ProofError(f"the log has no node ({level}, {index})")
        digest: bytes = row[0]
        return digest


class LogStore:
    def __init__(self, db: Database, key: SigningKey, origin: str) -> None:
        self._db = db
        self._key = key
        self.origin = origin

    def size(self) -> int:
        with self._db.read() as conn:
            return _size(conn)

    def append(self, conn: sqlite3.Connection, entry: LogEntry, now: float) -> int:
        """Append ``entry`` within the caller's transaction on ``conn``; return its index."""
        index = _size(conn)
        encoded = entry.encode()
        leaf = leaf_hash(encoded)
        conn.execute(
            "INSERT INTO log_entries (idx, entry, leaf) VALUES (?, ?, ?)", (index, encoded, leaf)
        )
        nodes = _Nodes(conn)
        conn.executemany(
            "INSERT INTO log_nodes (level, idx, hash) VALUES (?, ?, ?)",
            append_nodes(nodes, index, leaf),
        )
        signed = Checkpoint(self.origin, index + 1, root_hash(nodes, index + 1)).sign(self._key)
        conn.execute(
            "INSERT INTO checkpoints (size, root, key_id, signature, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (index + 1, signed.checkpoint.root, signed.key_id, signed.signature, now),
        )
        return index

    def checkpoint(self, size: int | None = None) -> SignedCheckpoint:
        """The signed checkpoint at ``size`` (default: the latest)."""
        with self._db.read() as conn:
            if size is None:
                size = _size(conn)
            if size == 0:
                return self._empty()
            row = conn.execute(
                "SELECT size, root, key_id, signature FROM checkpoints WHERE size = ?", (size,)
            ).fetchone()
        if row is None:
            raise NotFound(f"the log has no checkpoint of size {size}")
        size, root, key_id, signature = row
        return SignedCheckpoint(Checkpoint(self.origin, size, root), key_id, signature)

    def _empty(self) -> SignedCheckpoint:
        with self._db.read() as conn:
            return Checkpoint(self.origin, 0, root_hash(_Nodes(conn), 0)).sign(self._key)

    def entry(self, index: int) -> tuple[bytes, bytes]:
        """``(entry bytes, leaf hash)`` of entry ``index``."""
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT entry, leaf FROM log_entries WHERE idx = ?", (index,)
            ).fetchone()
        if row is None:
            raise NotFound(f"the log has no entry {index}")
        return bytes(row[0]), bytes(row[1])

    def entries(self, start: int, limit: int) -> list[tuple[int, bytes, bytes]]:
        """``(index, entry bytes, leaf hash)`` from ``start``, at most ``limit`` (≤ 1000)."""
        limit = min(limit, MAX_ENTRIES_PER_PAGE)
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT idx, entry, leaf FROM log_entries WHERE idx >= ? ORDER BY idx LIMIT ?",
                (start, limit),
            ).fetchall()
        return [(index, bytes(entry), bytes(leaf)) for index, entry, leaf in rows]

    def inclusion(self, index: int, size: int) -> list[bytes]:
        """The proof that entry ``index`` is in the tree of ``size`` entries."""
        with self._db.read() as conn:
            self._check_size(conn, size)
            return inclusion_proof(_Nodes(conn), index, size)

    def consistency(self, old_size: int, new_size: int) -> list[bytes]:
        with self._db.read() as conn:
            self._check_size(conn, new_size)
            return consistency_proof(_Nodes(conn), old_size, new_size)

    @staticmethod
    def _check_size(conn: sqlite3.Connection, size: int) -> None:
        current = _size(conn)
        if size > current:
            raise NotFound(f"the log has {current} entries, not {size}")


def _size(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries").fetchone()
    return int(row[0])
