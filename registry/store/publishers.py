"""Publishers, their API tokens and their signing keys.

A token is ``syr_<id>_<secret>``: the id names it in listings, the secret is
32 random bytes.  Only SHA-256 of the whole token is stored, so a copy of
the database cannot be used to publish; lookups hash what was presented
and find the row by that digest (a unique index), then compare in constant
time.  A token belongs to one publisher and acts only for its namespace;
it expires (``expires_at``) and can be revoked.

Signing keys are Ed25519 public keys registered per publisher.  Rotation is
adding the new key and revoking the old one: a revoked key signs nothing
new, while versions it signed before stay valid (the log shows when).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from collections.abc import Callable

from registry.signing import PublicKey
from registry.store.db import Database
from registry.store.errors import Conflict, NotFound, Unauthenticated
from registry.store.records import IssuedToken, KeyRecord, Principal, Publisher, TokenRecord

__all__ = ["TOKEN_PREFIX", "PublisherStore"]

TOKEN_PREFIX = "syr_"  # noqa: S105 - a prefix, not a secret
_TOKEN = re.compile(r"^syr_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$")
_SELECT_TOKENS = (
    "SELECT token_id, publisher, label, created_at, expires_at, revoked_at, last_used_at"
    " FROM tokens"
)
# "Last used" is shown to a minute: no write on every authenticated request.
_LAST_USED_RESOLUTION_S = 60.0
_SELECT_KEYS = "SELECT key_id, publisher, public_key, created_at, revoked_at FROM keys"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


class PublisherStore:
    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    def create(self, name: str, display_name: str) -> Publisher:
        """A new publisher; the caller has checked ``name`` is a valid namespace."""
        publisher = Publisher(name, display_name or name, self._clock())
        try:
            with self._db.write() as conn:
                conn.execute(
                    "INSERT INTO publishers (name, display_name, created_at) VALUES (?, ?, ?)",
                    (publisher.name, publisher.display_name, publisher.created_at),
                )
        except sqlite3.IntegrityError:
            raise Conflict(f"publisher {name!r} exists already") from None
        return publisher

    def get(self, name: str) -> Publisher:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT name, display_name, created_at FROM publishers WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            raise NotFound(f"no publisher {name!r}")
        return Publisher(*row)

    def issue_token(self, publisher: str, label: str, ttl_s: float | None) -> IssuedToken:
        """A new token for ``publisher`` valid ``ttl_s`` seconds (``None``: until revoked)."""
        self.get(publisher)
        token_id = secrets.token_hex(8)
        secret = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        now = self._clock()
        record = TokenRecord(
            token_id, publisher, label, now, None if ttl_s is None else now + ttl_s, None, None
        )
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO tokens (token_id, publisher, label, created_at, expires_at,"
                " revoked_at, last_used_at, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*_token_row(record), _digest(secret)),
            )
        return IssuedToken(record, secret)

    def tokens(self, publisher: str) -> list[TokenRecord]:
        self.get(publisher)
        with self._db.read() as conn:
            rows = conn.execute(
                _SELECT_TOKENS + " WHERE publisher = ? ORDER BY created_at",
                (publisher,),
            ).fetchall()
        return [TokenRecord(*row) for row in rows]

    def revoke_token(self, publisher: str, token_id: str) -> TokenRecord:
        with self._db.write() as conn:
            conn.execute(
                "UPDATE tokens SET revoked_at = ? WHERE publisher = ? AND token_id = ? "
                "AND revoked_at IS NULL",
                (self._clock(), publisher, token_id),
            )
            row = conn.execute(
                _SELECT_TOKENS + " WHERE publisher = ? AND token_id = ?",
                (publisher, token_id),
            ).fetchone()
        if row is None:
            raise NotFound(f"publisher {publisher!r} has no token {token_id!r}")
        return TokenRecord(*row)

    def authenticate(self, token: str) -> Principal:
        """The publisher ``token`` acts for; raises :class:`Unauthenticated` with the reason."""
        if _TOKEN.match(token) is None:
            raise Unauthenticated("not a registry token (expected syr_<id>_<secret>)")
        digest = _digest(token)
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT token_id, publisher, digest, expires_at, revoked_at, last_used_at"
                " FROM tokens WHERE digest = ?",
                (digest,),
            ).fetchone()
        if row is None or not hmac.compare_digest(row[2], digest):
            raise Unauthenticated("unknown token")
        token_id, publisher, _, expires_at, revoked_at, last_used_at = row
        now = self._clock()
        if revoked_at is not None:
            raise Unauthenticated(f"token {token_id} was revoked")
        if expires_at is not None and now >= expires_at:
            raise Unauthenticated(f"token {token_id} has expired")
        if last_used_at is None or now - last_used_at >= _LAST_USED_RESOLUTION_S:
            with self._db.write() as conn:
                conn.execute(
                    "UPDATE tokens SET last_used_at = ? WHERE token_id = ?", (now, token_id)
                )
        return Principal(publisher=publisher, token_id=token_id)

    def add_key(self, publisher: str, key: PublicKey) -> KeyRecord:
        self.get(publisher)
        record = KeyRecord(key.key_id, publisher, key, self._clock(), None)
        try:
            with self._db.write() as conn:
                conn.execute(
                    "INSERT INTO keys (key_id, publisher, public_key, created_at, revoked_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (record.key_id, publisher, key.raw, record.created_at, None),
                )
        except sqlite3.IntegrityError:
            raise Conflict(f"key {key.key_id} is registered already") from None
        return record

    def keys(self, publisher: str) -> list[KeyRecord]:
        self.get(publisher)
        with self._db.read() as conn:
            rows = conn.execute(
                _SELECT_KEYS + " WHERE publisher = ? ORDER BY created_at",
                (publisher,),
            ).fetchall()
        return [_key(row) for row in rows]

    def key(self, key_id: str) -> KeyRecord:
        with self._db.read() as conn:
            row = conn.execute(
                _SELECT_KEYS + " WHERE key_id = ?",
                (key_id,),
            ).fetchone()
        if row is None:
            raise NotFound(f"no signing key {key_id!r}")
        return _key(row)

    def revoke_key(self, publisher: str, key_id: str) -> KeyRecord:
        with self._db.write() as conn:
            conn.execute(
                "UPDATE keys SET revoked_at = ? WHERE publisher = ? AND key_id = ? "
                "AND revoked_at IS NULL",
                (self._clock(), publisher, key_id),
            )
            row = conn.execute(
                _SELECT_KEYS + " WHERE publisher = ? AND key_id = ?",
                (publisher, key_id),
            ).fetchone()
        if row is None:
            raise NotFound(f"publisher {publisher!r} has no key {key_id!r}")
        return _key(row)


def _token_row(record: TokenRecord) -> tuple[object, ...]:
    return (
        record.token_id,
        record.publisher,
        record.label,
        record.created_at,
        record.expires_at,
        record.revoked_at,
        record.last_used_at,
    )


def _key(row: tuple[str, str, bytes, float, float | None]) -> KeyRecord:
    key_id, publisher, raw, created_at, revoked_at = row
    return KeyRecord(key_id, publisher, PublicKey(raw), created_at, revoked_at)
