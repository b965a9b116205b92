"""The canonical content hash of a package: what a version *is*.

Theory of operation
-------------------
Like Go's ``dirhash`` (the ``h1:`` hashes in ``sum.golang.org``), the hash is
taken over a manifest, never over an archive, so archive order, compression,
timestamps and owners cannot change it::

    skillyard-content-v1\\n
    <sha256 hex of content> <size> <x|-> <path>\\n      one line per file,
                                                     sorted by path (UTF-8 order)

and the result is ``"sha256:" + sha256(manifest).hexdigest()``.  Paths are
normalised by :func:`registry.paths.normalise_path` (NFC, ``/``), which also
refuses newlines and control characters, so a manifest line cannot be forged
by a file name.  ``x`` marks an executable file.  The first line names the
format so that a later one can never collide with this one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from registry.files import DEFAULT_LIMITS, ArchiveLimits, PackageFile, read_folder
from registry.paths import check_tree, normalise_path

__all__ = ["HASH_FORMAT", "content_hash", "hash_folder", "manifest_lines"]

HASH_FORMAT = "skillyard-content-v1"


def manifest_lines(files: Iterable[PackageFile]) -> list[str]:
    """The manifest the hash is taken over, one line per file (for audits and tests)."""
    entries = sorted(((normalise_path(f.path), f) for f in files), key=lambda entry: entry[0])
    check_tree(path for path, _ in entries)
    lines = [HASH_FORMAT]
    for path, file in entries:
        digest = hashlib.sha256(file.data).hexdigest()
        lines.append(f"{digest} {len(file.data)} {'x' if file.executable else '-'} {path}")
    return lines


def content_hash(files: Iterable[PackageFile]) -> str:
    """``"sha256:<hex>"`` of ``files``, independent of their order.

    Raises :class:`~registry.errors.UnsafePathError` for names a package
    cannot hold (duplicates and case collisions included).
    """
    manifest = "".join(f"{line}\n" for line in manifest_lines(files))
    return "sha256:" + hashlib.sha256(manifest.encode("utf-8")).hexdigest()


def hash_folder(path: Path, *, limits: ArchiveLimits = DEFAULT_LIMITS) -> str:
    """The content hash of the skill folder ``path``, as :func:`~registry.archive.pack` sees it.

    Excluded clutter (``.git``, ``__pycache__``, ``*.pyc``, ``.DS_Store``) does
    not count, so running a skill's scripts does not change its hash.
    """
    return content_hash(read_folder(path, limits=limits))
