"""Small file primitives the memory tiers share: atomic replace, an exclusive lock, safe names.

Atomic replace (:func:`write_atomic`): the new content goes to a temporary
file in the same folder, is flushed and fsynced, then ``os.replace``-d over the
target and the folder is fsynced, so a reader or a crash sees either the old
file or the new one, never a mix.

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
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["locked", "safe_name", "stat_key", "user_folder", "write_atomic"]

_PLAIN = re.compile(r"[A-Za-z0-9._-]")
_MAX_STEM = 60


def user_folder(root: Path, user: str) -> Path:
    """``root/<sha256(user)[:32]>``: a user key (``channel:sender``) never becomes a path part."""
    return root / hashlib.sha256(user.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def safe_name(key: str) -> str:
    """A readable, collision-free file stem for ``key``: its plain characters plus a hash."""
    stem = "".join(c if _PLAIN.fullmatch(c) else "_" for c in key)[:_MAX_STEM].lstrip(".")
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{stem}-{digest}" if stem else digest


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically (see the module docstring).

    ``durable=False`` skips the two fsyncs (about 2.5 ms here): still atomic
    for readers, but a power cut may keep the old content.  Only for data
    whose loss is harmless, such as usage counters.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            if durable:
                os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    if durable:
        _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
