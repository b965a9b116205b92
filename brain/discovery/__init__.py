"""Skill discovery: which installed skills a message is about, ranked.

Public API::

    index = SkillIndex.build(skills, embedder=None, cache_dir=None)
    index.search(text, k) -> list[Hit]            # Hit(name, score, lexical, similarity)
    index.catalog(text, *, k, budget_tokens) -> list[CatalogEntry]   # (name, description, score)
    index.add(skill); index.remove(name)
    open_index(skills, embeddings=False, cache_dir=...)  # what the brain and the CLI use
    load_embedder() -> Embedder                   # raises EmbedderUnavailableError

Words alone (BM25F) need nothing beyond numpy; the optional embedding model
(``embeddings`` extra) adds all-MiniLM-L6-v2 vectors fused with the words.
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
from registry.model import LoadedSkill

__all__ = [
    "ENTRY_MAX_TOKENS",
    "CatalogEntry",
    "DiscoveryError",
    "Embedder",
    "EmbedderUnavailableError",
    "Hit",
    "SkillDocument",
    "SkillIndex",
    "document_for",
    "load_embedder",
    "open_index",
]


def load_embedder() -> Embedder:
    """The installed embedding model; raises ``EmbedderUnavailableError`` when there is none."""
    return MiniLM.load()


def open_index(skills: Iterable[LoadedSkill], *, embeddings: bool, cache_dir: Path) -> SkillIndex:
    """The index of ``skills``, with the embedding model when ``embeddings`` is true.

    Blocking (reads the model, embeds passages not yet in ``cache_dir``): call
    it from a thread in async code.  Raises ``EmbedderUnavailableError`` when
    embeddings are asked for and the model is not installed.
    """
    embedder = load_embedder() if embeddings else None
    return SkillIndex.build(skills, embedder=embedder, cache_dir=cache_dir if embedder else None)
