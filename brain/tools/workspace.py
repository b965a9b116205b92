"""A session's workspace, and confining model-given paths to a directory.

Each session gets ``<data_dir>/workspaces/<sha256(session)[:16]>/`` (mode
0700), so that no channel's id ever becomes a path component.  The file
tools, ``run_python`` (which sees it as its working directory) and
``sql_query`` share it.

A model-given path is refused, with a message saying why, when it is empty,
holds a NUL byte, is absolute, has a ``..`` component, is longer than the
kernel allows, or resolves (symlinks followed) outside the root.  Resolving
and checking is not enough on its own: a symlink could be swapped in after
the check, so :func:`open_inside` opens the checked path with
``O_NOFOLLOW``.  Within one turn nothing else writes the workspace (the
sandboxed ``run_python`` has exited, with its whole process group, before
the next call runs), which closes the remaining window.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path, PurePosixPath
from typing import NoReturn

from brain.tools.core import ErrorKind, ToolFailed

__all__ = ["confine", "digest", "open_inside", "read_text", "workspace_dir"]

_MAX_PATH_BYTES = 1024
_MAX_NAME_BYTES = 255  # NAME_MAX on Linux file systems


def digest(text: str) -> str:
    """A short, stable, path-safe name for any string (first 16 hex of sha256)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def workspace_dir(data_dir: Path, session: str) -> Path:
    """The session's workspace, created (mode 0700) if missing; returns its real path."""
    root = data_dir / "workspaces" / digest(session)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root.resolve(strict=True)


def confine(root: Path, relative: str) -> Path:
    """``relative`` resolved inside ``root`` (a real, existing dir), or ``ToolFailed``.

    The result may not exist yet; it is never ``root`` itself.
    """
    _check_text(relative)
    parts = PurePosixPath(relative).parts
    if PurePosixPath(relative).is_absolute():
        _refuse(relative, "is absolute; give a path relative to the workspace")
    if ".." in parts:
        _refuse(relative, "contains '..'; give a path inside the workspace")
    try:
        resolved = (root / relative).resolve(strict=False)
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        _refuse(relative, f"cannot be resolved ({exc})")
    if resolved == root:
        _refuse(relative, "is the workspace itself, not a file in it")
    if not resolved.is_relative_to(root):
        _refuse(relative, "leads outside the workspace through a symlink")
    return resolved


def open_inside(path: Path, flags: int, mode: int = 0o600) -> int:
    """``os.open`` that refuses a symlink as the last component (see the module doc)."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    except OSError as exc:
        raise _os_failure(path, exc) from exc


def read_text(path: Path, limit: int) -> str:
    """The UTF-8 text of the regular file at ``path`` (a confined path), at most ``limit`` bytes."""
    fd = open_inside(path, os.O_RDONLY)
    try:
        _check_regular(path, os.fstat(fd), limit)
        file = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with file:
        data = file.read(limit + 1)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        message = f"{path.name} is not UTF-8 text (a binary file of {len(data)} bytes)"
        raise ToolFailed(ErrorKind.FAILED, message) from None


def _check_regular(path: Path, info: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise ToolFailed(ErrorKind.FAILED, f"{path.name} is not a regular file")
    if info.st_size > limit:
        message = f"{path.name} is {info.st_size} bytes; the limit is {limit}"
        raise ToolFailed(ErrorKind.TOO_LARGE, message)


def _check_text(relative: str) -> None:
    if not relative.strip():
        raise ToolFailed(ErrorKind.PATH_REFUSED, "the path is empty")
    if "\x00" in relative:
        raise ToolFailed(ErrorKind.PATH_REFUSED, "the path contains a NUL byte")
    size = len(relative.encode("utf-8", "surrogatepass"))
    if size > _MAX_PATH_BYTES:
        message = f"the path is {size} bytes long; the limit is {_MAX_PATH_BYTES}"
        raise ToolFailed(ErrorKind.PATH_REFUSED, message)
    for name in PurePosixPath(relative).parts:
        if len(name.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES:
            message = f"a name in the path is over {_MAX_NAME_BYTES} bytes: {name[:40]}…"
            raise ToolFailed(ErrorKind.PATH_REFUSED, message)


def _refuse(relative: str, why: str) -> NoReturn:
    shown = relative if len(relative) <= 200 else relative[:200] + "…"
    raise ToolFailed(ErrorKind.PATH_REFUSED, f"path {shown!r} {why}")


def _os_failure(path: Path, exc: OSError) -> ToolFailed:
    """An OS error as the model should see it: which file, and what to do."""
    name = path.name
    if isinstance(exc, FileNotFoundError):
        return ToolFailed(ErrorKind.NOT_FOUND, f"{name}: no such file")
    if isinstance(exc, IsADirectoryError):
        return ToolFailed(ErrorKind.FAILED, f"{name} is a directory, not a file")
    if exc.errno == getattr(os, "ELOOP", -1):
        return ToolFailed(ErrorKind.PATH_REFUSED, f"{name} is a symlink; it is not followed")
    return ToolFailed(ErrorKind.FAILED, f"{name}: {exc.strerror or exc}")
