"""Skill discovery: which installed skills a message is about, ranked.

Public API::

    index = SkillIndex.build(skills, embedder=None, cache_dir=None)
    index.search(text, k) -> list[Hit]            # Hit(name, score, lexical, similarity)
    index.catalog(text, *, k, budget_tokens) -> list[CatalogEntry]   # (name, description, score)
    index.add(skill); index.remove(name)
    open_index(skills, embeddings=False, cache_dir=...)  # what the brain and the CLI use
    load_embedder(cache_dir) -> Embedder          # raises EmbedderUnavailableError

Words alone (BM25F) need nothing beyond numpy; the optional embedding model
(``embeddings`` extra) adds vectors fused with the words: a static table
distilled once from all-MiniLM-L6-v2 (:mod:`brain.discovery.static`), so a
query is embedded in well under a millisecond.  The full encoder,
:class:`MiniLM`, stays available for callers that can afford 10 to 30 ms.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from brain.discovery.catalog import ENTRY_MAX_TOKENS, CatalogEntry
from brain.discovery.dense import Embedder
from brain.discovery.documents import SkillDocument, document_for
from brain.discovery.errors import DiscoveryError, EmbedderUnavailableError
from brain.discovery.index import Hit, SkillIndex
from brain.discovery.minilm import MiniLM
from brain.discovery.static import StaticEmbedder
from registry.model import LoadedSkill

__all__ = [
    "ENTRY_MAX_TOKENS",
    "CatalogEntry",
    "DiscoveryError",
    "Embedder",
    "EmbedderUnavailableError",
    "Hit",
    "MiniLM",
    "SkillDocument",
    "SkillIndex",
    "StaticEmbedder",
    "document_for",
    "load_embedder",
    "open_index",
]


def load_embedder(cache_dir: Path | None = None) -> Embedder:
    """The static embedder, its token table kept in ``cache_dir`` (None: memory only).

    Blocking; the first call for a ``cache_dir`` distills the table (minutes).
    Raises ``EmbedderUnavailableError`` when the model is not installed.
    """
    return StaticEmbedder.load(cache_dir)


def open_index(skills: Iterable[LoadedSkill], *, embeddings: bool, cache_dir: Path) -> SkillIndex:
    """The index of ``skills``, with the embedding model when ``embeddings`` is true.

    Blocking (reads the model, distills its token table on first use, embeds
    passages not yet in ``cache_dir``): call it from a thread in async code.
    Raises ``EmbedderUnavailableError`` when embeddings are asked for and the
    model is not installed.
    """
    embedder = load_embedder(cache_dir) if embeddings else None
    return SkillIndex.build(skills, embedder=embedder, cache_dir=cache_dir if embedder else None)
