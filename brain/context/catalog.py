"""The skill catalog slot: a ranked list of skills, each entry cut to ~100 tokens.

The slot's input is a plain ranked list of anything with ``name`` and
``description`` (:class:`SkillEntry`): the brain passes the discovery index's
``catalog(text, k=..., budget_tokens=...)`` for the turn's message.  Each
entry is cut by ``registry.budget.catalog_entry``, the one deterministic cut
the registry and the builder share, so the same ranking renders the same
bytes.  An activated skill's body is cut the same way, by
``registry.budget.cut_body`` (see ``brain.tools.skill_docs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from brain.context.tokens import TokenCounter, approx_tokens
from registry.budget import CATALOG_ENTRY_MAX_TOKENS, catalog_entry
from registry.model import SkillManifest

__all__ = ["ENTRY_TOKENS", "CatalogEntry", "SkillEntry", "catalog_line"]

ENTRY_TOKENS = CATALOG_ENTRY_MAX_TOKENS


class SkillEntry(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    name: str
    description: str


def catalog_line(
    entry: SkillEntry, *, max_tokens: int = ENTRY_TOKENS, count: TokenCounter = approx_tokens
) -> str:
    """``- name: description`` within ``max_tokens``, cut at a word boundary (then characters)."""
    manifest = SkillManifest(entry.name, entry.description, Path())  # only name and description
    return "- " + catalog_entry(manifest, max_tokens=max_tokens - 1, count=count)
