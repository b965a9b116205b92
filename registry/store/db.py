"""The registry's SQLite database: schema, pragmas, one connection behind one lock.

WAL mode lets readers run while a publish writes.  The connection is shared
by the event loop's thread and the worker threads that run publishes, so
every use goes through :meth:`Database.read` or :meth:`Database.write`,
which hold a lock; ``write`` is one transaction (``BEGIN IMMEDIATE``),
committed when the block ends and rolled back if it raises.

Search uses an FTS5 table (``skills_fts``, rowid = ``skills.id``) kept by
the index module (see :mod:`registry.store.search` for how it is queried).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from registry.diskio import open_sqlite

__all__ = ["SCHEMA_VERSION", "Database"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS publishers (
    name TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_id TEXT PRIMARY KEY,
    publisher TEXT NOT NULL REFERENCES publishers(name),
    digest BLOB NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL,
    revoked_at REAL,
    last_used_at REAL
);
CREATE TABLE IF NOT EXISTS keys (
    key_id TEXT PRIMARY KEY,
    publisher TEXT NOT NULL REFERENCES publishers(name),
    public_key BLOB NOT NULL,
    created_at REAL NOT NULL,
    revoked_at REAL
);
CREATE TABLE IF NOT EXISTS skills (
    id INTEGER PRIMARY KEY,
    owner TEXT NOT NULL REFERENCES publishers(name),
    name TEXT NOT NULL,
    skeleton TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    downloads INTEGER NOT NULL DEFAULT 0,
    held INTEGER NOT NULL DEFAULT 0,
    hold_reason TEXT NOT NULL DEFAULT '',
    current_version TEXT,
    description TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '',
    verdict TEXT NOT NULL DEFAULT 'pass',
    has_tools INTEGER NOT NULL DEFAULT 0,
    UNIQUE (owner, name)
);
CREATE INDEX IF NOT EXISTS skills_skeleton ON skills (skeleton);
CREATE INDEX IF NOT EXISTS skills_downloads ON skills (downloads DESC);
CREATE INDEX IF NOT EXISTS skills_updated ON skills (updated_at DESC);
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY,
    skill_id INTEGER NOT NULL REFERENCES skills(id),
    version TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    archive_sha256 TEXT NOT NULL,
    archive_size INTEGER NOT NULL,
    published_at REAL NOT NULL,
    publisher_key_id TEXT NOT NULL,
    publisher_signature BLOB NOT NULL,
    registry_key_id TEXT NOT NULL,
    registry_signature BLOB NOT NULL,
    log_index INTEGER NOT NULL,
    verdict TEXT NOT NULL,
    scan TEXT NOT NULL,
    ruleset TEXT NOT NULL,
    manifest TEXT NOT NULL,
    skill_md TEXT NOT NULL,
    warnings TEXT NOT NULL,
    yanked_at REAL,
    yank_reason TEXT NOT NULL DEFAULT '',
    deleted_at REAL,
    UNIQUE (skill_id, version)
);
CREATE TABLE IF NOT EXISTS files (
    version_id INTEGER NOT NULL REFERENCES versions(id),
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    executable INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (version_id, path)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS skills_fts USING fts5 (
    name, description, tags, body,
    tokenize = 'porter unicode61 remove_diacritics 2',
    prefix = '2 3'
);
CREATE TABLE IF NOT EXISTS log_entries (
    idx INTEGER PRIMARY KEY,
    entry BLOB NOT NULL,
    leaf BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS log_nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
    size INTEGER PRIMARY KEY,
    root BLOB NOT NULL,
    key_id TEXT NOT NULL,
    signature BLOB NOT NULL,
    created_at REAL NOT NULL
);
"""


class Database:
    """One SQLite connection, serialised by a lock; close it with :meth:`close`."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: Path) -> Database:
        """Open (creating if needed) the database at ``path``; ``:memory:`` works for tests."""
        conn = open_sqlite(path, timeout=30.0, check_same_thread=False)
        conn.execute("PRAGMA foreign_keys=ON")
        # executescript commits as it goes: run it before anyone else holds the connection.
        conn.executescript(_SCHEMA)
        conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
        return cls(conn)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction: committed at the end of the block, rolled back if it raises."""
        with self._lock:
            if self._conn.in_transaction:  # nested: part of the caller's transaction
                yield self._conn
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
