"""Pairing codes: how a stranger in a direct message becomes a known sender.

A code is 8 characters from an alphabet without look-alikes (no 0/O, 1/I),
valid for one hour; a channel account has at most 3 codes pending, so a
flood of strangers cannot fill the table.  A sender who asks again while
their code is pending gets the same code.  The owner approves a code from
the command line (``skillyard pairing approve telegram K7QX2M9A``), possibly
while the server runs: both use the same SQLite file, so nothing is cached.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import StoreError
from registry.diskio import open_sqlite

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "CODE_TTL_S",
    "MAX_PENDING",
    "PairingRequest",
    "PairingStore",
]

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_TTL_S = 3600.0
MAX_PENDING = 3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS gw_pairing_requests (
    channel TEXT NOT NULL,
    account TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    sender_name TEXT,
    code TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (channel, account, sender_id)
);
CREATE TABLE IF NOT EXISTS gw_known_senders (
    channel TEXT NOT NULL,
    account TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    sender_name TEXT,
    approved_at REAL NOT NULL,
    PRIMARY KEY (channel, account, sender_id)
);
"""


@dataclass(frozen=True, slots=True)
class PairingRequest:
    channel: str
    account: str
    sender_id: str
    sender_name: str | None
    code: str
    expires_at: float


class PairingStore:
    def __init__(self, db: sqlite3.Connection, *, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    @classmethod
    def open(cls, path: Path, *, clock: Callable[[], float]) -> PairingStore:
        try:
            # SQLite's default (FULL) durability, unlike the other tables in state.db.
            db = open_sqlite(path, synchronous="FULL")
            db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the pairing tables in {path}: {exc}") from exc
        return cls(db, clock=clock)

    def close(self) -> None:
        self._db.close()

    def is_known(self, channel: str, account: str, sender_id: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM gw_known_senders WHERE channel = ? AND account = ? AND sender_id = ?",
            (channel, account, sender_id),
        ).fetchone()
        return row is not None

    def request(
        self, channel: str, account: str, sender_id: str, sender_name: str | None
    ) -> PairingRequest | None:
        """The sender's pending code (a new one if needed), or None when the
        account already has ``MAX_PENDING`` codes waiting."""
        now = self._clock()
        self._db.execute("DELETE FROM gw_pairing_requests WHERE expires_at <= ?", (now,))
        existing = self._find(channel, account, sender_id)
        if existing is not None:
            return existing
        (pending,) = self._db.execute(
            "SELECT COUNT(*) FROM gw_pairing_requests WHERE channel = ? AND account = ?",
            (channel, account),
        ).fetchone()
        if pending >= MAX_PENDING:
            return None
        request = PairingRequest(
            channel, account, sender_id, sender_name, _new_code(), now + CODE_TTL_S
        )
        self._db.execute(
            "INSERT INTO gw_pairing_requests VALUES (?,?,?,?,?,?)",
            (channel, account, sender_id, sender_name, request.code, request.expires_at),
        )
        return request

    def approve(self, channel: str, code: str) -> PairingRequest | None:
        """Make the sender behind ``code`` known; None if no such live code."""
        now = self._clock()
        row = self._db.execute(
            "DELETE FROM gw_pairing_requests WHERE channel = ? AND code = ? AND expires_at > ? "
            "RETURNING channel, account, sender_id, sender_name, code, expires_at",
            (channel, code.strip().upper(), now),
        ).fetchone()
        if row is None:
            return None
        request = PairingRequest(*row)
        self._db.execute(
            "INSERT OR REPLACE INTO gw_known_senders VALUES (?,?,?,?,?)",
            (request.channel, request.account, request.sender_id, request.sender_name, now),
        )
        return request

    def pending(self) -> list[PairingRequest]:
        rows = self._db.execute(
            "SELECT channel, account, sender_id, sender_name, code, expires_at "
            "FROM gw_pairing_requests WHERE expires_at > ? ORDER BY expires_at",
            (self._clock(),),
        ).fetchall()
        return [PairingRequest(*row) for row in rows]

    def revoke(self, channel: str, sender_id: str) -> bool:
        cursor = self._db.execute(
            "DELETE FROM gw_known_senders WHERE channel = ? AND sender_id = ?",
            (channel, sender_id),
        )
        return cursor.rowcount > 0

    def _find(self, channel: str, account: str, sender_id: str) -> PairingRequest | None:
        row = self._db.execute(
            "SELECT channel, account, sender_id, sender_name, code, expires_at "
            "FROM gw_pairing_requests WHERE channel = ? AND account = ? AND sender_id = ?",
            (channel, account, sender_id),
        ).fetchone()
        return PairingRequest(*row) if row else None


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
