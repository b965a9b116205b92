"""A content-addressed blob store: ``<root>/sha256/ab/cdef…`` holds bytes hashing to ``abcdef…``.

Writes are atomic (a temporary file in the same folder, fsync'd, then
renamed into place), so a crash leaves either the whole blob or none.
Reads are verified: a blob whose bytes no longer hash to its name (disk
corruption, tampering) is refused with :class:`BlobCorrupt`, never served.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from registry.diskio import write_atomic
from registry.store.errors import BlobCorrupt, BlobMissing

__all__ = ["BlobStore"]

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class BlobStore:
    """Blobs under ``root``; the caller owns ``root`` (created on first write)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, digest: str) -> Path:
        """Where blob ``digest`` (64 lowercase hex characters) lives."""
        if not _DIGEST.match(digest):
            raise ValueError(f"not a SHA-256 hex digest: {digest!r}")
        return self.root / "sha256" / digest[:2] / digest[2:]

    def put(self, data: bytes) -> str:
        """Store ``data``; return its SHA-256 hex digest.  Storing it twice is harmless."""
        digest = hashlib.sha256(data).hexdigest()
        path = self.path_of(digest)
        if path.exists():
            return digest
        write_atomic(path, data, mode=0o644)
        return digest

    def get(self, digest: str) -> bytes:
        """The bytes of blob ``digest``, checked against it.

        Raises :class:`BlobMissing` or :class:`BlobCorrupt`.
        """
        try:
            data = self.path_of(digest).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(digest) from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise BlobCorrupt(digest)
        return data

    def delete(self, digest: str) -> None:
        self.path_of(digest).unlink(missing_ok=True)
