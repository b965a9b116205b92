"""registry.diskio: atomic replace (mode, failure, folder) and the SQLite connection settings."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from registry.diskio import open_sqlite, replacing, write_atomic


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_atomic_creates_the_folder_and_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "file.json"
    write_atomic(path, b"{}")
    assert path.read_bytes() == b"{}"
    assert mode_of(path) == 0o600
    assert os.listdir(path.parent) == ["file.json"]  # no temporary left behind


@pytest.mark.parametrize("mode", [0o600, 0o644])
def test_the_mode_is_exact_whatever_the_umask(tmp_path: Path, mode: int) -> None:
    old = os.umask(0o077)
    try:
        write_atomic(tmp_path / "f", b"x", mode=mode)
    finally:
        os.umask(old)
    assert mode_of(tmp_path / "f") == mode


def test_replacing_changes_the_mode_of_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "f"
    write_atomic(path, b"old", mode=0o644)
    write_atomic(path, b"new", mode=0o600, durable=False)
    assert (path.read_bytes(), mode_of(path)) == (b"new", 0o600)


def test_a_failure_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "f"
    write_atomic(path, b"old")

    def fail() -> None:
        with replacing(path) as file:
            file.write(b"half")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        fail()
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f"]


def test_a_failed_replace_removes_the_temporary(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(OSError):
        write_atomic(tmp_path / "dir", b"x")  # a folder cannot be replaced by a file
    assert os.listdir(tmp_path) == ["dir"]


def test_readers_never_see_a_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "f"
    contents = [bytes([n]) * 200_000 for n in range(1, 6)]
    write_atomic(path, contents[0], durable=False)
    seen: set[bytes] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.add(path.read_bytes())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for data in contents:
            write_atomic(path, data, durable=False)
    finally:
        done.set()
        reader.join()
    assert seen <= set(contents)


def test_open_sqlite_sets_wal_durability_and_busy_timeout(tmp_path: Path) -> None:
    db = open_sqlite(tmp_path / "state.db")
    try:
        assert db.isolation_level is None
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
        assert db.execute("PRAGMA busy_timeout").fetchone() == (5000,)
    finally:
        db.close()


def test_open_sqlite_options(tmp_path: Path) -> None:
    db = open_sqlite(tmp_path / "state.db", timeout=30.0, synchronous="FULL")
    try:
        assert db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        assert db.execute("PRAGMA busy_timeout").fetchone() == (30000,)
    finally:
        db.close()
