"""Files that came with a message: put them where the model's tools can read them, and say so.

A channel downloads an attachment into its own folder (``Attachment.local_path``).
Before the turn, each one is copied into the session's workspace under
``attachments/`` — the only place ``read_file`` can see — and the user's text
gets one line per file, so the model knows it is there.  Names are generated
from the message's position, never taken from the platform: a file name is
user input.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from gateway.events import Attachment, TurnRequest

__all__ = ["has_attachments", "with_attachments"]

_FOLDER = "attachments"


def has_attachments(request: TurnRequest) -> bool:
    return any(message.attachments for message in request.messages)


def with_attachments(request: TurnRequest, workspace: Path) -> str:
    """``request.text`` plus a line per attachment (copied into ``workspace``)."""
    notes = [
        _place(attachment, workspace, f"{m_index}-{a_index}")
        for m_index, message in enumerate(request.messages, start=1)
        for a_index, attachment in enumerate(message.attachments, start=1)
    ]
    if not notes:
        return request.text
    return "\n\n".join([request.text, *notes]) if request.text else "\n".join(notes)


def _place(attachment: Attachment, workspace: Path, stem: str) -> str:
    label = _label(attachment)
    if attachment.local_path is None:
        return f"[The user attached {label}; it could not be downloaded.]"
    source = Path(attachment.local_path)
    target = workspace / _FOLDER / f"{stem}{_suffix(attachment, source)}"
    target.parent.mkdir(mode=0o700, exist_ok=True)
    try:
        shutil.copyfile(source, target)
    except OSError:
        return f"[The user attached {label}; it could not be stored.]"
    relative = f"{_FOLDER}/{target.name}"
    return f"[The user attached {label}. It is in your workspace as {relative} (use read_file).]"


def _label(attachment: Attachment) -> str:
    details = [d for d in (attachment.mime_type, _size(attachment.size)) if d]
    name = f'"{attachment.name}"' if attachment.name else "a file"
    kind = str(attachment.kind)
    return f"{kind} {name}" + (f" ({', '.join(details)})" if details else "")


def _size(size: int | None) -> str | None:
    if size is None:
        return None
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _suffix(attachment: Attachment, source: Path) -> str:
    """A short, plain extension from the downloaded file (the channel chose it safely)."""
    suffix = source.suffix.lower()
    return suffix if suffix[1:].isalnum() and len(suffix) <= 8 else ""
