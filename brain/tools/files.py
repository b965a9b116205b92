"""``read_file``, ``write_file`` and ``edit_file``, confined to the session's workspace.

Paths are relative to the workspace and checked by
:func:`brain.tools.workspace.confine`.  Files are UTF-8 text; a binary file
is reported, never dumped.  Writes are atomic (a temporary file in the same
directory, then ``rename``), so a failed write leaves the old content whole.
``edit_file`` replaces one exact string and refuses when it matches more
than once, unless ``replace_all`` says so: an edit the model did not mean is
worse than a second try with more context.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from brain.tools.core import CallContext, ErrorKind, Risk, Tool, ToolFailed, ToolReply
from brain.tools.paging import FOOTER_ROOM, page
from brain.tools.workspace import confine, open_inside, read_text, workspace_dir

__all__ = ["FileTools"]

_PATH = {
    "type": "string",
    "minLength": 1,
    "maxLength": 4096,
    "description": "Path relative to the workspace, e.g. notes/todo.md",
}


def _schema(properties: Mapping[str, object], required: list[str]) -> dict[str, object]:
    return {
        "type": "object",
        "properties": dict(properties),
        "required": required,
        "additionalProperties": False,
    }


class FileTools:
    """The three file tools over ``<data_dir>/workspaces/``.

    ``max_file_bytes`` bounds what is read or written in one call;
    ``output_cap`` is the registry's cap: a longer file is read a page of
    whole lines at a time (``brain.tools.paging``).
    """

    def __init__(self, data_dir: Path, *, max_file_bytes: int = 8 << 20, output_cap: int) -> None:
        self._data_dir = data_dir
        self._max = max_file_bytes
        self._cap = output_cap

    def tools(self) -> tuple[Tool, ...]:
        line = {"type": "integer", "minimum": 1, "maximum": 10_000_000}
        read = _schema({"path": _PATH, "offset": line, "limit": line}, ["path"])
        content = {"type": "string", "maxLength": self._max}
        write = _schema({"path": _PATH, "content": content}, ["path", "content"])
        old = {"type": "string", "minLength": 1, "maxLength": self._max}
        edit_props = {"path": _PATH, "old_string": old, "new_string": content,
                      "replace_all": {"type": "boolean"}}  # fmt: skip
        edit = _schema(edit_props, ["path", "old_string", "new_string"])
        return (
            Tool("read_file", _READ_DOC, read, Risk.READ, self._read_file),
            Tool("write_file", _WRITE_DOC, write, Risk.WRITE, self._write_file),
            Tool("edit_file", _EDIT_DOC, edit, Risk.WRITE, self._edit_file),
        )

    # -- handlers (blocking file I/O runs in a worker thread) -------------------

    async def _read_file(self, args: Mapping[str, Any], context: CallContext) -> ToolReply:
        return await asyncio.to_thread(self._read_sync, args, context.session)

    async def _write_file(self, args: Mapping[str, Any], context: CallContext) -> ToolReply:
        return await asyncio.to_thread(self._write_sync, args, context.session)

    async def _edit_file(self, args: Mapping[str, Any], context: CallContext) -> ToolReply:
        return await asyncio.to_thread(self._edit_sync, args, context.session)

    def _path(self, session: str, relative: str) -> Path:
        return confine(workspace_dir(self._data_dir, session), relative)

    def _read_sync(self, args: Mapping[str, Any], session: str) -> ToolReply:
        path = self._path(session, args["path"])
        text = read_text(path, self._max)
        budget = self._cap - FOOTER_ROOM
        return ToolReply(
            page(text, args.get("offset", 1), args.get("limit"), budget=budget) or "(empty file)"
        )

    def _write_sync(self, args: Mapping[str, Any], session: str) -> ToolReply:
        path = self._path(session, args["path"])
        data = _encode(args["content"], self._max)
        _write_atomic(path, data)
        return ToolReply(f"wrote {len(data)} bytes to {args['path']}")

    def _edit_sync(self, args: Mapping[str, Any], session: str) -> ToolReply:
        path = self._path(session, args["path"])
        old, new = args["old_string"], args["new_string"]
        if old == new:
            raise ToolFailed(ErrorKind.INVALID_ARGUMENTS, "old_string and new_string are equal")
        text = read_text(path, self._max)
        count = text.count(old)
        _check_matches(count, args["path"], replace_all=bool(args.get("replace_all")))
        _write_atomic(path, _encode(text.replace(old, new), self._max))
        noun = "occurrence" if count == 1 else "occurrences"
        return ToolReply(f"replaced {count} {noun} in {args['path']}")


_READ_DOC = (
    "Read a UTF-8 text file from your workspace. A long file comes a page at a time: "
    "pass the offset (first line, 1-based) the reply gives to read on; limit caps the lines."
)
_WRITE_DOC = "Create or overwrite a UTF-8 text file in your workspace (parent folders are made)."
_EDIT_DOC = (
    "Replace an exact string in a workspace file. old_string must match exactly once "
    "(include surrounding lines to make it unique) unless replace_all is true."
)


def _check_matches(count: int, shown: str, *, replace_all: bool) -> None:
    if count == 0:
        message = f"old_string was not found in {shown}; read the file and copy the text exactly"
        raise ToolFailed(ErrorKind.NOT_FOUND, message)
    if count > 1 and not replace_all:
        message = (
            f"old_string matches {count} times in {shown}; include more surrounding text "
            "to make it unique, or set replace_all to true"
        )
        raise ToolFailed(ErrorKind.AMBIGUOUS, message)


def _encode(text: str, limit: int) -> bytes:
    data = text.encode("utf-8", "surrogatepass")
    if len(data) > limit:
        message = f"the new content is {len(data)} bytes; the limit is {limit}"
        raise ToolFailed(ErrorKind.TOO_LARGE, message)
    return data


def _write_atomic(path: Path, data: bytes) -> None:
    """Write beside ``path`` and rename over it: readers see the old or the new file."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        message = f"cannot make the folder for {path.name}: {exc.strerror or exc}"
        raise ToolFailed(ErrorKind.FAILED, message) from exc
    temporary = path.with_name(f".{path.name[:200]}.{secrets.token_hex(4)}.tmp")
    fd = open_inside(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _mode_of(path))
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        message = f"cannot write {path.name}: {exc.strerror or exc}"
        raise ToolFailed(ErrorKind.FAILED, message) from exc


def _mode_of(path: Path) -> int:
    """Keep an existing file's permission bits; new files are private."""
    try:
        return stat.S_IMODE(os.lstat(path).st_mode)
    except OSError:
        return 0o600
