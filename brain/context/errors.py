"""The context package's exceptions.

Tree (under ``brain.errors.BrainError``)::

    ContextError                  root of everything ``brain.context`` raises
    ├── ContextOverflowError      what cannot be dropped (system prompt, the user's
    │                             message, the in-flight tool chain) exceeds the window
    └── ContextStateError         a conversation's compaction state file is unreadable

A compaction that cannot reclaim enough is not an exception: it is a
``CompactionResult`` with ``ok`` false and a ``reason``, and the builder then
drops whole old turns so that the request still fits.
"""

from __future__ import annotations

from pathlib import Path

from brain.errors import BrainError

__all__ = ["ContextError", "ContextOverflowError", "ContextStateError"]


class ContextError(BrainError):
    """Root of the context package's exceptions."""


class ContextOverflowError(ContextError):
    def __init__(self, needed: int, limit: int) -> None:
        super().__init__(
            f"the system prompt, the message and the running tool chain need {needed} tokens; "
            f"the model takes at most {limit}"
        )
        self.needed = needed
        self.limit = limit


class ContextStateError(ContextError):
    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem} (left untouched; move it aside to start afresh)")
        self.path = path
