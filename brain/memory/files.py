"""Small file primitives the memory tiers share: an exclusive lock, safe names.

The tiers replace files with ``registry.diskio.write_atomic`` (the one atomic
replace every package uses): a reader or a crash sees the old file or the new one.

Locking (:func:`locked`): ``fcntl.flock`` on a separate lock file.  A flock
belongs to an open file description, so it excludes other processes *and*
other threads of this one (each ``locked`` call opens its own description).
Callers hold it for one read-modify-write, never across an ``await``.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

__all__ = ["locked", "safe_name", "stat_key", "user_file", "user_folder"]

_PLAIN = re.compile(r"[A-Za-z0-9._-]")
_MAX_STEM = 60
# The stores ask for these names on every turn (a SHA-256, a regex match per
# character, pathlib joins): computed once per key while it is in use.
_CACHED_NAMES = 1024


def user_folder(root: Path, user: str) -> Path:
    """``root/<sha256(user)[:32]>``: a user key (``channel:sender``) never becomes a path part."""
    return root / hashlib.sha256(user.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@lru_cache(maxsize=_CACHED_NAMES)
def user_file(root: Path, user: str, name: str) -> Path:
    """``user_folder(root, user) / name``."""
    return user_folder(root, user) / name


@lru_cache(maxsize=_CACHED_NAMES)
def safe_name(key: str) -> str:
    """A readable, collision-free file stem for ``key``: its plain characters plus a hash."""
    stem = "".join(c if _PLAIN.fullmatch(c) else "_" for c in key)[:_MAX_STEM].lstrip(".")
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{stem}-{digest}" if stem else digest


@contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive flock on ``lock_path`` (created if missing) for the block."""
    lock_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # a user's folder is private
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the description releases the lock


def stat_key(path: Path) -> tuple[int, int, int] | None:
    """What changes whenever ``path`` is replaced or rewritten; None when it is missing."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)
