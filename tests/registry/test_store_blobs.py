"""The content-addressed blob store: atomic writes, verified reads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from registry.store import BlobCorrupt, BlobMissing
from registry.store.blobs import BlobStore


def test_blobs_are_stored_by_their_hash_once(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    digest = blobs.put(b"package bytes")
    assert digest == hashlib.sha256(b"package bytes").hexdigest()
    assert blobs.path_of(digest) == tmp_path / "blobs" / "sha256" / digest[:2] / digest[2:]
    assert blobs.put(b"package bytes") == digest
    assert blobs.get(digest) == b"package bytes"
    assert [p.name for p in blobs.path_of(digest).parent.iterdir()] == [digest[2:]]  # no temp files


def test_a_changed_blob_is_refused_and_a_missing_one_named(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    digest = blobs.put(b"original")
    blobs.path_of(digest).write_bytes(b"tampered")
    with pytest.raises(BlobCorrupt, match=digest):
        blobs.get(digest)
    blobs.delete(digest)
    with pytest.raises(BlobMissing, match="missing"):
        blobs.get(digest)


@pytest.mark.parametrize("digest", ["../../etc/passwd", "AB" * 32, "a" * 63, ""])
def test_only_hex_digests_name_blobs(tmp_path: Path, digest: str) -> None:
    with pytest.raises(ValueError, match="not a SHA-256"):
        BlobStore(tmp_path).path_of(digest)
