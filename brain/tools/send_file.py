"""``send_file``: send the user a file from the session's workspace.

The model names a workspace path (checked like every file tool's path by
:func:`brain.tools.workspace.confine`, and opened with ``O_NOFOLLOW``) and may
add a caption.  The file must be a non-empty regular file within
``max_bytes``.  Its bytes are copied, as they are at this moment, into the
outbox (``<data_dir>/outbox/``), which the gateway serves and the chat
channels upload from:

* ``<file id>`` — the bytes; the id is random (``secrets.token_urlsafe``), so
  no name a model or a user chose ever becomes a path;
* ``<file id>.json`` — ``{"session", "name", "media_type", "size"}``, written
  last: a file without it is unfinished and is never served.

Both are private (0600).  The reply carries the file as an
:class:`~brain.steps.OutgoingFile`; the driver reports it to the gateway as a
``FileReply`` event once the call has ended.  Risk ``read``: the file goes to
the person the turn answers, like the reply's text.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import os
import secrets
import stat
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from brain.steps import OutgoingFile
from brain.tools.core import CallContext, ErrorKind, Risk, Tool, ToolFailed, ToolReply
from brain.tools.workspace import confine, open_inside, workspace_dir

__all__ = ["DEFAULT_MAX_SEND_BYTES", "SendFileTool", "outbox_dir"]

DEFAULT_MAX_SEND_BYTES = 50 * 1024 * 1024  # as ToolSettings.send_file_max_bytes
MAX_CAPTION_CHARS = 1024  # Telegram Bot API: a caption is 0-1024 characters
_NAME_CHARS = 255
_CHUNK = 1 << 20
_DOC = (
    "Send the user a file from your workspace (e.g. a report you wrote with write_file or "
    "run_python). path is relative to the workspace; caption is optional text sent with it."
)


def outbox_dir(data_dir: Path) -> Path:
    """Where sent files wait for the gateway (see the module doc for the layout)."""
    return data_dir / "outbox"


class SendFileTool:
    """``send_file`` over the workspaces under ``data_dir``."""

    def __init__(self, data_dir: Path, *, max_bytes: int = DEFAULT_MAX_SEND_BYTES) -> None:
        self._data_dir = data_dir
        self._max = max_bytes

    def tool(self) -> Tool:
        schema = {
            "type": "object",
            "properties": {
                "path": {"type": "string", "minLength": 1, "maxLength": 4096},
                "caption": {"type": "string", "maxLength": MAX_CAPTION_CHARS},
            },
            "required": ["path"],
            "additionalProperties": False,
        }
        return Tool("send_file", _DOC, schema, Risk.READ, self._send)

    async def _send(self, args: Mapping[str, Any], context: CallContext) -> ToolReply:
        return await asyncio.to_thread(self._send_sync, args, context.session)

    def _send_sync(self, args: Mapping[str, Any], session: str) -> ToolReply:
        path = confine(workspace_dir(self._data_dir, session), args["path"])
        name = display_name(path.name)
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        file_id = secrets.token_urlsafe(18)
        size = self._copy_out(path, file_id)
        meta = {"session": session, "name": name, "media_type": media_type, "size": size}
        _write_new(outbox_dir(self._data_dir) / f"{file_id}.json", json.dumps(meta).encode())
        caption = args.get("caption") or None
        sent = OutgoingFile(file_id, name, media_type, size, caption)
        content = json.dumps({"sent": name, "bytes": size, "media_type": media_type})
        return ToolReply(content, text=f"sent {name} ({size} bytes)", files=(sent,))

    def _copy_out(self, path: Path, file_id: str) -> int:
        """Copy the confined ``path`` into the outbox as ``file_id``; its size."""
        fd = open_inside(path, os.O_RDONLY)
        try:
            self._check(path, os.fstat(fd))
            source = os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise
        with source:
            data = source.read(self._max + 1)
        if len(data) > self._max:  # it grew after the check
            raise ToolFailed(ErrorKind.TOO_LARGE, f"{path.name} is over {self._max} bytes")
        _write_new(outbox_dir(self._data_dir) / file_id, data)
        return len(data)

    def _check(self, path: Path, info: os.stat_result) -> None:
        if not stat.S_ISREG(info.st_mode):
            raise ToolFailed(ErrorKind.FAILED, f"{path.name} is not a regular file")
        if info.st_size == 0:
            message = f"{path.name} is empty; there is nothing to send"
            raise ToolFailed(ErrorKind.FAILED, message)
        if info.st_size > self._max:
            message = f"{path.name} is {info.st_size} bytes; the limit is {self._max}"
            raise ToolFailed(ErrorKind.TOO_LARGE, message)


def display_name(name: str) -> str:
    """``name`` without control characters, at most 255 characters (``file`` if nothing is left)."""
    kept = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if len(kept) > _NAME_CHARS:
        stem, dot, suffix = kept.rpartition(".")
        keep = _NAME_CHARS - len(suffix) - 1
        kept = f"{stem[:keep]}.{suffix}" if dot and 0 < len(suffix) <= 16 else kept[:_NAME_CHARS]
    return kept or "file"


def _write_new(path: Path, data: bytes) -> None:
    """Write a new private file (never replacing one); the outbox is made on first use."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except OSError as exc:
        raise ToolFailed(ErrorKind.FAILED, f"cannot store the file: {exc.strerror or exc}") from exc
