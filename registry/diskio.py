"""Local-disk primitives every package shares: atomic file replace and SQLite connections.

They live here because ``registry`` imports nothing else of ours, so the brain
and the gateway may use them too (DESIGN.md §2).

Atomic replace (:func:`replacing`, :func:`write_atomic`): the new content goes
to a temporary file in the same folder, is flushed and fsynced, then
``os.replace``-d over the target and the folder is fsynced, so a reader or a
crash sees either the old file or the new one, never a mix.

SQLite (:func:`open_sqlite`): one connection in autocommit mode
(``isolation_level=None``: callers write ``BEGIN`` themselves) with the WAL
journal, so readers never block the writer.  ``synchronous=NORMAL`` makes a
commit durable against a process crash (not a power cut) and costs no fsync.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Literal

__all__ = ["open_sqlite", "replacing", "write_atomic"]


@contextmanager
def replacing(path: Path, *, mode: int = 0o600, durable: bool = True) -> Iterator[BinaryIO]:
    """A binary file to write the new content of ``path`` into; it replaces ``path`` on exit.

    The folder is created if missing.  The file has permission bits ``mode``
    from its creation on (the umask does not narrow them).  If the block
    raises, ``path`` is left as it was and the temporary file is removed.
    ``durable=False`` skips the two fsyncs (about 2.5 ms here): still atomic
    for readers, but a power cut may keep the old content.  Only for data
    whose loss is harmless, such as caches and usage counters.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), mode)
            yield file
            file.flush()
            if durable:
                os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    if durable:
        _fsync_dir(path.parent)


def write_atomic(path: Path, data: bytes, *, mode: int = 0o600, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically (see :func:`replacing`)."""
    with replacing(path, mode=mode, durable=durable) as file:
        file.write(data)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_sqlite(
    path: Path,
    *,
    timeout: float = 5.0,
    synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
    check_same_thread: bool = True,
) -> sqlite3.Connection:
    """A connection to ``path`` (``:memory:`` works) in autocommit mode with the WAL journal.

    ``timeout`` is SQLite's busy timeout in seconds: how long a statement
    waits for another connection's lock before failing.  Raises
    :class:`sqlite3.Error`; the caller creates the folder and translates errors.
    """
    db = sqlite3.connect(
        path, isolation_level=None, timeout=timeout, check_same_thread=check_same_thread
    )
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    return db
