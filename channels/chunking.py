"""Split a long reply into messages that fit a platform's limit.

Split points, best first: a paragraph break, a line break, a sentence end, a
space, and only then anywhere (never inside a UTF-16 surrogate pair).  A code
fence is never left open: when a chunk ends inside a fenced block, the chunk
closes the fence and the next one reopens it with the same info string, so
every chunk renders on its own.

Lengths are measured in the platform's unit (Telegram counts UTF-16 code
units, Discord and Slack count characters).
"""

from __future__ import annotations

import re

from channels.base import LengthUnit

__all__ = ["MIN_LIMIT", "measure", "split_text"]

MIN_LIMIT = 64
_INFO_MAX = 16
_MAX_REOPEN = 3 + _INFO_MAX + 1

_FENCE = re.compile(r"^(\s*)(```|~~~)(.*)$")
# Where to cut inside an over-long line, best first.
_SOFT_BREAKS = (re.compile(r"(?<=[.!?])\s+"), re.compile(r"\s+"))


def measure(text: str, unit: LengthUnit) -> int:
    if unit is LengthUnit.UTF16:
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def split_text(text: str, *, limit: int, unit: LengthUnit = LengthUnit.CHARS) -> list[str]:
    """Chunks of ``text``, each at most ``limit`` long; their concatenation
    (with the separators at the cut points) reproduces the text."""
    if limit < MIN_LIMIT:
        raise ValueError(f"a message limit below {MIN_LIMIT} cannot hold a closed code fence")
    if measure(text, unit) <= limit:
        return [text] if text else []
    return _Packer(limit, unit).pack(text.split("\n"))


class _Packer:
    """Greedy line packing that tracks whether a code fence is open."""

    def __init__(self, limit: int, unit: LengthUnit) -> None:
        self._limit = limit
        self._unit = unit
        self._chunks: list[str] = []
        self._lines: list[str] = []
        self._fence: str | None = None  # the opening line of the fence we are in

    def pack(self, lines: list[str]) -> list[str]:
        for index, line in enumerate(lines):
            self._add(line, paragraph_end=index + 1 < len(lines) and not lines[index + 1])
        if self._fence is not None:  # an unterminated fence: close it in the last chunk
            self._add("```", paragraph_end=False)
        self._flush()
        return [chunk for chunk in self._chunks if chunk.strip()]

    def _size(self, lines: list[str]) -> int:
        return measure("\n".join(lines), self._unit)

    def _closing(self) -> list[str]:
        return ["```"] if self._fence is not None else []

    def _add(self, line: str, *, paragraph_end: bool) -> None:
        for index, piece in enumerate(self._pieces(line)):
            too_big = self._size([*self._lines, piece, *self._closing()]) > self._limit
            # A piece of a cut line starts a message: a newline would change the text.
            if self._lines and (too_big or index > 0):
                self._cut()
            self._lines.append(piece)
            self._track_fence(piece)
        if paragraph_end and self._fence is None and self._size(self._lines) > self._limit // 2:
            self._cut()  # prefer ending a message at a paragraph break

    def _pieces(self, line: str) -> list[str]:
        """The line, or parts of it when it alone cannot fit in a message."""
        # Room for a reopened fence (at most ``` + 16) and its closing, in or out of one.
        room = self._limit - measure("```\n\n```", self._unit) - _MAX_REOPEN
        pieces: list[str] = []
        while measure(line, self._unit) > room:
            cut = _cut_point(line, room, self._unit)
            pieces.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
        pieces.append(line)
        return pieces

    def _track_fence(self, line: str) -> None:
        match = _FENCE.match(line)
        if match is None:
            return
        if self._fence is not None:
            self._fence = None
            return
        # Reopen with the info string only (``python``), bounded so that it always fits.
        self._fence = f"```{match.group(3).strip()[:_INFO_MAX]}"

    def _cut(self) -> None:
        reopen = self._fence
        self._lines.extend(self._closing())
        self._flush()
        if reopen is not None:
            self._lines.append(reopen)

    def _flush(self) -> None:
        if self._lines:
            self._chunks.append("\n".join(self._lines).strip("\n"))
        self._lines = []


def _cut_point(line: str, room: int, unit: LengthUnit) -> int:
    """Index at which to cut ``line`` so that the head fits in ``room``."""
    hard = _fit(line, room, unit)
    for pattern in _SOFT_BREAKS:
        candidates = [m.end() for m in pattern.finditer(line, 0, hard) if m.end() > hard // 2]
        if candidates:
            return candidates[-1]
    return hard


def _fit(line: str, room: int, unit: LengthUnit) -> int:
    """The longest prefix length that fits, not splitting a surrogate pair."""
    if unit is LengthUnit.CHARS:
        return max(1, room)
    used = 0
    for index, char in enumerate(line):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > room:
            return max(1, index)
    return len(line)
