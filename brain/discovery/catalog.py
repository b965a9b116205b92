"""The skill catalog shown to a model: ranked entries cut to token budgets.

An entry is a skill's name and description.  Each entry costs at most
:data:`ENTRY_MAX_TOKENS` (DESIGN.md, budgets), cut by
``registry.budget.catalog_entry``: the one deterministic cut the registry
and the context builder share (whitespace and invisible characters removed,
a word boundary, `` …``).  The list stops when the next entry would pass the
catalog budget, except that a last entry is shortened to fit when its name
and a useful start of its description still do.  The same hits and budgets
give the same bytes, which keeps prompt caches warm.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from registry.budget import CATALOG_ENTRY_MAX_TOKENS, catalog_entry, estimate_tokens
from registry.model import SkillManifest

__all__ = ["ENTRY_MAX_TOKENS", "CatalogEntry", "entry_tokens", "fit_catalog"]

ENTRY_MAX_TOKENS = CATALOG_ENTRY_MAX_TOKENS
# Below this many tokens of description a shortened entry says too little to keep.
_MIN_DESCRIPTION_TOKENS = 8


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One skill in the catalog; ``score`` is its retrieval score (higher is better)."""

    name: str
    description: str
    score: float

    def render(self) -> str:
        return f"{self.name}: {self.description}"


def entry_tokens(entry: CatalogEntry) -> int:
    return estimate_tokens(entry.render())


def fit_catalog(entries: Iterable[CatalogEntry], budget_tokens: int) -> list[CatalogEntry]:
    """``entries`` in order, each within :data:`ENTRY_MAX_TOKENS`, together within the budget."""
    fitted: list[CatalogEntry] = []
    left = budget_tokens
    for entry in entries:
        alone = _within(entry, ENTRY_MAX_TOKENS)
        if alone is None:  # a name too long to show at all: skip, do not end the list
            continue
        placed = alone if entry_tokens(alone) <= left else _within(entry, left)
        if placed is None:
            break
        fitted.append(placed)
        left -= entry_tokens(placed)
    return fitted


def _within(entry: CatalogEntry, max_tokens: int) -> CatalogEntry | None:
    """``entry`` cut to ``max_tokens``; None when its name and a useful start do not fit."""
    description = _cut_description(entry.name, entry.description, max_tokens)
    return None if description is None else CatalogEntry(entry.name, description, entry.score)


# Every turn fits the same few skills to the same budgets: cut each once.
@lru_cache(maxsize=4096)
def _cut_description(name: str, description: str, max_tokens: int) -> str | None:
    head = catalog_entry(_manifest(name, ""), max_tokens=max(max_tokens, 1) * 64)
    if estimate_tokens(head) + _MIN_DESCRIPTION_TOKENS > max_tokens:
        whole = catalog_entry(_manifest(name, description), max_tokens=1 << 30)
        if estimate_tokens(whole) > max_tokens:
            return None  # not even a short entry fits
    line = catalog_entry(_manifest(name, description), max_tokens=max_tokens)
    if not line.startswith(head):
        return None
    return line[len(head) :]


def _manifest(name: str, description: str) -> SkillManifest:
    return SkillManifest(name, description, Path())  # catalog_entry reads these two only
