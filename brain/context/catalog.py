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
from functools import lru_cache
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
    """``- name: description`` within ``max_tokens``, cut at a word boundary (then characters).

    ``count`` must be pure: lines are cached by their inputs.
    """
    return _line(entry.name, entry.description, max_tokens, count)


# Every turn renders the same few skills at the same size, and a cut looks up
# the Unicode category of each character: cut each line once.
@lru_cache(maxsize=4096)
def _line(name: str, description: str, max_tokens: int, count: TokenCounter) -> str:
    manifest = SkillManifest(name, description, Path())  # only name and description
    return "- " + catalog_entry(manifest, max_tokens=max_tokens - 1, count=count)
