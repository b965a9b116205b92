"""Errors of skill discovery; part of the brain's tree (``brain.errors``).

Tree::

    BrainError
    └── DiscoveryError              skill search failed
        └── EmbedderUnavailableError  the embedding model is not installed or unreadable
"""

from __future__ import annotations

from brain.errors import BrainError

__all__ = ["DiscoveryError", "EmbedderUnavailableError"]


class DiscoveryError(BrainError):
    """Root of skill discovery's errors."""


class EmbedderUnavailableError(DiscoveryError):
    """The optional embedding model cannot be used; search falls back to words alone."""
