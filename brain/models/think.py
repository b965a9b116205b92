"""Keep ``<think>…</think>`` reasoning out of the text people see.  Pure; no I/O.

MiniMax M2 (by default) and R1-style models served through Ollama write their
reasoning into ``content``, between ``<think>`` and ``</think>``.  That text
must go back to the model verbatim (the adapter keeps the raw content in the
native payload) but never to the user, not even for a moment while streaming:
a tag can be split across chunks, so the filter holds back any tail that could
still become a tag.  Whitespace right after ``</think>`` is dropped too (the
model separates its answer with a blank line).  An unterminated ``<think>``
(output cut at ``max_tokens``) hides the rest.
"""

from __future__ import annotations

__all__ = ["ThinkFilter", "strip_think"]

OPEN, CLOSE = "<think>", "</think>"


class ThinkFilter:
    """Feed streamed text in, get visible text out; call :meth:`close` at the end."""

    def __init__(self) -> None:
        self._pending = ""
        self._inside = False
        self._skip_space = False

    def feed(self, text: str) -> str:
        self._pending += text
        visible: list[str] = []
        while self._step(visible):
            pass
        return "".join(visible)

    def close(self) -> str:
        """The visible text still held back (a tag prefix that never completed)."""
        rest, self._pending = self._pending, ""
        if self._inside:
            return ""
        return rest.lstrip() if self._skip_space else rest

    def _step(self, visible: list[str]) -> bool:
        """Consume what can be decided now; true while there is more to do."""
        if self._inside:
            end = self._pending.find(CLOSE)
            if end < 0:
                keep = _held(self._pending, CLOSE)
                self._pending = self._pending[len(self._pending) - keep :]
                return False
            self._pending = self._pending[end + len(CLOSE) :]
            self._inside, self._skip_space = False, True
            return True
        if self._skip_space:
            self._pending = self._pending.lstrip()
            if not self._pending:
                return False
            self._skip_space = False
        start = self._pending.find(OPEN)
        if start >= 0:
            visible.append(self._pending[:start])
            self._pending = self._pending[start + len(OPEN) :]
            self._inside = True
            return True
        keep = _held(self._pending, OPEN)
        visible.append(self._pending[: len(self._pending) - keep])
        self._pending = self._pending[len(self._pending) - keep :]
        return False


def _held(text: str, tag: str) -> int:
    """Length of the longest end of ``text`` that is a proper start of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


def strip_think(text: str) -> str:
    """``text`` without its reasoning spans, exactly as the streaming filter yields it."""
    stream = ThinkFilter()
    return stream.feed(text) + stream.close()
