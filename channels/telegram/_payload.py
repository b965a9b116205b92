"""Checked reads from a Bot API update (``channels.payload``), and UTF-16 slicing."""

from __future__ import annotations

from channels import payload
from channels.telegram.errors import MalformedUpdate

__all__ = ["Obj", "utf16_slice"]


class Obj(payload.Obj):
    """One JSON object of an update, at ``path`` (``update.message.chat``)."""

    __slots__ = ()
    error = MalformedUpdate


def utf16_slice(text: str, offset: int, length: int) -> str | None:
    """``text[offset:offset+length]`` counted in UTF-16 code units, as the Bot API
    counts entity offsets; None when the range lies outside the text."""
    units = text.encode("utf-16-le", "surrogatepass")
    start, end = offset * 2, (offset + length) * 2
    if offset < 0 or length <= 0 or end > len(units):
        return None
    return units[start:end].decode("utf-16-le", "replace")
