"""The memory package's exceptions, classed by what the caller should do.

Tree (under ``brain.errors.BrainError``)::

    MemoryStoreError              root of everything ``brain.memory`` raises
    ├── MemoryInputError          the caller's value is unusable; fix it and retry
    │   ├── MemoryLimitError      a value is longer than its limit (the message says the limit)
    │   ├── UnknownBlockError     no pinned block has that label
    │   └── InvalidRecordError    a knowledge record breaks the JSON Schema (kind, sizes, tags)
    ├── MemoryCorruptError        a file on disk is not what we wrote; it is left untouched
    └── SessionLogError           a session log does not parse (``line`` names where)

Input errors are meant to be shown to the model or the user as they are: their
messages name the field, the value's size and the limit.  Nothing is written
when one is raised.
"""

from __future__ import annotations

from pathlib import Path

from brain.errors import BrainError

__all__ = [
    "InvalidRecordError",
    "MemoryCorruptError",
    "MemoryInputError",
    "MemoryLimitError",
    "MemoryStoreError",
    "SessionLogError",
    "UnknownBlockError",
]


class MemoryStoreError(BrainError):
    """Root of the memory package's exceptions."""


class MemoryInputError(MemoryStoreError):
    """The caller passed a value the store cannot keep; nothing was written."""


class MemoryLimitError(MemoryInputError):
    """``field`` holds ``size`` characters (or items), more than ``limit``."""

    def __init__(self, field: str, size: int, limit: int, unit: str = "characters") -> None:
        super().__init__(f"{field} is {size} {unit}; the limit is {limit} {unit}")
        self.field = field
        self.size = size
        self.limit = limit


class UnknownBlockError(MemoryInputError):
    def __init__(self, label: str, known: tuple[str, ...]) -> None:
        super().__init__(f"no memory block {label!r}; the blocks are {', '.join(known)}")
        self.label = label


class InvalidRecordError(MemoryInputError):
    pass


class MemoryCorruptError(MemoryStoreError):
    """``path`` does not hold what the store writes; it is never overwritten."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem} (left untouched; move it aside to start afresh)")
        self.path = path


class SessionLogError(MemoryStoreError):
    """A session log is malformed at ``line`` (1-based; 0 when the file cannot be read)."""

    def __init__(self, problem: str, *, line: int = 0, path: Path | None = None) -> None:
        where = f"{path or 'session log'}" + (f", line {line}" if line else "")
        super().__init__(f"{where}: {problem}")
        self.problem = problem
        self.line = line
        self.path = path
