"""The guard's exceptions (under ``brain.errors.BrainError``).

Tree::

    GuardError              root of everything ``brain.guard`` raises
    ├── CheckpointError     a saved turn cannot be written or read back (corrupt, or
    │                       saved by a version that stored other fields)
    └── ApprovalStoreError  the SQLite approval store failed

Bad settings (a rule that does not parse, a threshold below 2) raise the
brain's ``ConfigError`` naming the setting, like every other setting.
"""

from __future__ import annotations

from brain.errors import BrainError

__all__ = ["ApprovalStoreError", "CheckpointError", "GuardError"]


class GuardError(BrainError):
    """Root of the guard's exceptions."""


class CheckpointError(GuardError):
    """A saved turn cannot be written or read back; the message names the field."""


class ApprovalStoreError(GuardError):
    """The approval store (``brain_approvals`` in ``state.db``) failed."""
