"""A package as a list of files: read one from a folder, write one into a fresh folder.

A :class:`PackageFile` is a name (see :mod:`registry.paths`), bytes and an
executable bit; nothing else about a file (owner, time, other mode bits)
belongs to a package.  :func:`read_folder` is what ``pack`` and
``hash_folder`` both read, so the hash of a folder and the hash of its
archive cannot disagree.  :func:`write_tree` is the only way package files
reach a disk: a fresh directory, regular files with mode 0644 or 0755, and
nothing followed through a link.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from registry.errors import ArchiveLimitError, PackageError, UnsafePathError
from registry.paths import check_tree, is_excluded, normalise_path

__all__ = ["DEFAULT_LIMITS", "ArchiveLimits", "PackageFile", "read_folder", "write_tree"]

_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class PackageFile:
    """One file of a package; ``path`` is relative, ``/``-separated and NFC."""

    path: str
    data: bytes
    executable: bool = False

    @property
    def mode(self) -> int:
        """The only two modes a package file ever gets."""
        return 0o755 if self.executable else 0o644


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Caps on a package; the defaults mirror ClawHub's managed-bundle limits.

    The largest skill folder among 2,679 real ones holds 93 files and 5.3 MiB.
    ``max_ratio`` applies once the inflated size passes ``ratio_floor_bytes``,
    because tar headers of tiny packages compress far better than any content.
    """

    max_files: int = 256
    max_file_bytes: int = _MIB
    max_total_bytes: int = 8 * _MIB
    max_ratio: int = 100
    ratio_floor_bytes: int = _MIB


DEFAULT_LIMITS = ArchiveLimits()


def read_folder(folder: Path, *, limits: ArchiveLimits = DEFAULT_LIMITS) -> list[PackageFile]:
    """The package files in ``folder``, sorted by path, clutter left out.

    Raises :class:`UnsafePathError` for a symbolic link, a device, FIFO or
    socket, or a name that breaks :mod:`registry.paths`' rules, and
    :class:`ArchiveLimitError` when the folder is over ``limits``.
    """
    if not folder.is_dir():
        raise PackageError(f"{folder} is not a folder")
    files: list[PackageFile] = []
    total = 0
    for relative, entry in _walk(folder, ()):
        files.append(_read_file(relative, entry, limits))
        total += len(files[-1].data)
        _check_counts(len(files), total, limits, relative)
    check_tree(file.path for file in files)
    return sorted(files, key=lambda file: file.path)


def _walk(folder: Path, parts: tuple[str, ...]) -> Iterator[tuple[str, os.DirEntry[str]]]:
    with os.scandir(folder) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    for entry in entries:
        relative = normalise_path("/".join((*parts, entry.name)))
        if is_excluded(relative):
            continue
        if entry.is_symlink():
            raise UnsafePathError("is a symbolic link; a package holds files", member=relative)
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path), (*parts, entry.name))
        elif entry.is_file(follow_symlinks=False):
            yield relative, entry
        else:
            raise UnsafePathError("is not a regular file (device, FIFO or socket)", member=relative)


def _read_file(relative: str, entry: os.DirEntry[str], limits: ArchiveLimits) -> PackageFile:
    # O_NOFOLLOW: the entry was a regular file when listed; refuse a swap to a link.
    try:
        fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise PackageError(f"cannot be read: {exc.strerror or exc}", member=relative) from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UnsafePathError("is not a regular file", member=relative)
        data = file.read(limits.max_file_bytes + 1)
    if len(data) > limits.max_file_bytes:
        raise ArchiveLimitError(
            f"is larger than {limits.max_file_bytes} bytes",
            limit="max_file_bytes",
            member=relative,
        )
    return PackageFile(relative, data, executable=bool(info.st_mode & stat.S_IXUSR))


def _check_counts(count: int, total: int, limits: ArchiveLimits, member: str) -> None:
    if count > limits.max_files:
        raise ArchiveLimitError(
            f"more than {limits.max_files} files", limit="max_files", member=member
        )
    if total > limits.max_total_bytes:
        raise ArchiveLimitError(
            f"files total more than {limits.max_total_bytes} bytes",
            limit="max_total_bytes",
            member=member,
        )


def write_tree(files: Iterable[PackageFile], dest: Path) -> None:
    """Write ``files`` into the new directory ``dest``, which must not exist yet.

    ``dest``'s parent must exist.  Names are checked again (the files may not
    come from :func:`~registry.archive.unpack`); on any failure ``dest`` is
    removed again, so a caller never sees half a tree.  Files get mode 0644 or
    0755 and folders 0755, whatever the umask.
    """
    listed = [PackageFile(normalise_path(f.path), f.data, f.executable) for f in files]
    check_tree(file.path for file in listed)
    try:
        os.mkdir(dest, 0o755)
    except FileExistsError:
        raise PackageError(f"{dest} already exists; unpack into a new folder") from None
    try:
        # Packages are readable by all, like any installed program (umask aside).
        os.chmod(dest, 0o755)  # noqa: S103
        for file in sorted(listed, key=lambda f: f.path):
            _write_file(dest, file)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def _write_file(dest: Path, file: PackageFile) -> None:
    *folders, name = file.path.split("/")
    parent = dest
    for folder in folders:
        parent = parent / folder
        if not parent.is_dir():
            os.mkdir(parent, 0o755)
            os.chmod(parent, 0o755)  # noqa: S103
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(parent / name, flags, file.mode)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), file.mode)
        out.write(file.data)
