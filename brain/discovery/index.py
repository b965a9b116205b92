"""``SkillIndex``: ranked search over the installed skills.

Theory of operation
-------------------
Each skill occupies a slot (freed slots are reused, lowest first).  Words
are scored by BM25F (:mod:`brain.discovery.lexical`) over the fields of
:mod:`brain.discovery.documents`.  With an :class:`Embedder`, each skill's
passage also has a unit vector, and the two rankings are fused by weighted
reciprocal rank fusion over each side's top :data:`CANDIDATES`::

    score = 1 / (RRF_K + lexical_rank) + DENSE_WEIGHT / (RRF_K + dense_rank)

A skill missing from one side's list gets nothing from that side.  The
constants were tuned on a 30% split of the MetaTool queries with the static
embedder (:mod:`brain.discovery.static`) and are reported on the other 70%
(``bench/skill_discovery.py``).  Without an embedder the
score is the BM25F score and only skills sharing a content word with the
query are returned, so small talk finds nothing.

Not thread-safe: build it, then search from one thread at a time (the brain
uses it from its event loop).
"""

from __future__ import annotations

import heapq
import logging
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from brain.discovery.catalog import CatalogEntry, fit_catalog
from brain.discovery.dense import DenseIndex, Embedder, QueryEmbedder, VectorCache, embed_all
from brain.discovery.documents import FIELD_WEIGHTS, SkillDocument, document_for
from brain.discovery.lexical import Field, LexicalIndex
from registry.model import LoadedSkill

__all__ = ["CANDIDATES", "DENSE_WEIGHT", "MAX_QUERY_CHARS", "RRF_K", "Hit", "SkillIndex"]

log = logging.getLogger(__name__)

RRF_K = 5
DENSE_WEIGHT = 2.0
CANDIDATES = 100
# Longer messages are searched by their start: a pasted document would
# otherwise cost time in proportion to its length and match everything.
MAX_QUERY_CHARS = 4_000
_QUERY_CACHE = 256

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked skill.

    ``score`` orders hits (BM25F alone, or the fused score); ``lexical`` is
    the BM25F score (0 when no content word matched); ``similarity`` is the
    cosine with the query when an embedder is in use, else None.
    """

    name: str
    score: float
    lexical: float
    similarity: float | None = None

    def relevant(self, *, min_lexical: float, min_similarity: float) -> bool:
        """True when the words or the meaning match well enough to act on."""
        if self.lexical >= min_lexical:
            return True
        return self.similarity is not None and self.similarity >= min_similarity


class SkillIndex:
    """Build with :meth:`build`; ``add``/``remove`` keep it current as skills change."""

    def __init__(
        self, *, embedder: Embedder | None = None, cache: VectorCache | None = None
    ) -> None:
        fields = [Field(name, weight) for name, weight in FIELD_WEIGHTS.items()]
        self._lexical = LexicalIndex(fields)
        self._embedder = embedder
        self._dense = DenseIndex(embedder.dimension) if embedder else None
        self._cache = cache or (VectorCache(None, embedder.model_id) if embedder else None)
        self._queries: OrderedDict[str, Floats] = OrderedDict()
        self._slots: dict[str, int] = {}
        self._documents: dict[int, SkillDocument] = {}
        self._free: list[int] = []
        self._next = 0

    @classmethod
    def build(
        cls,
        skills: Iterable[LoadedSkill | SkillDocument],
        *,
        embedder: Embedder | None = None,
        cache_dir: Path | None = None,
    ) -> SkillIndex:
        """Index ``skills``; later ones replace earlier ones of the same name.

        With an embedder, passages found in ``cache_dir`` are not embedded
        again, and the cache is rewritten to hold exactly these skills.
        """
        cache = VectorCache(cache_dir, embedder.model_id) if embedder and cache_dir else None
        if cache is not None:
            cache.load()
        index = cls(embedder=embedder, cache=cache)
        documents = {d.name: d for d in map(_document, skills)}
        index._prefetch(list(documents.values()))
        for document in documents.values():
            index.add(document)
        if cache is not None:
            cache.save(keep=(d.passage() for d in documents.values()))
        return index

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, name: object) -> bool:
        return name in self._slots

    @property
    def embedder(self) -> Embedder | None:
        return self._embedder

    def document(self, name: str) -> SkillDocument | None:
        slot = self._slots.get(name)
        return None if slot is None else self._documents[slot]

    def add(self, skill: LoadedSkill | SkillDocument) -> None:
        """Index one skill, replacing an indexed skill of the same name."""
        document = _document(skill)
        self.remove(document.name)
        slot = heapq.heappop(self._free) if self._free else self._take_next()
        self._lexical.add(slot, document.fields())
        if self._dense is not None:
            self._dense.put(slot, self._passage_vector(document.passage()))
        self._slots[document.name] = slot
        self._documents[slot] = document

    def remove(self, name: str) -> bool:
        """Forget the skill ``name``; False when it was not indexed."""
        slot = self._slots.pop(name, None)
        if slot is None:
            return False
        del self._documents[slot]
        self._lexical.remove(slot)
        if self._dense is not None:
            self._dense.remove(slot)
        heapq.heappush(self._free, slot)
        return True

    def search(self, text: str, k: int) -> list[Hit]:
        """The ``k`` best skills for ``text``, best first; any string is accepted."""
        if k <= 0 or not self._slots:
            return []
        text = text[:MAX_QUERY_CHARS]
        lexical = self._lexical.scores(text)
        if self._dense is None:
            return [self._hit(s, lexical[s], lexical, None) for s in _top(lexical, k)]
        similarity, live = self._dense.scores(self._query_vector(text), len(lexical))
        # Shifted by 2 so that every live skill ranks (cosines can be negative).
        fused = _fuse(lexical, np.where(live, similarity + 2, 0).astype(np.float32))
        return [self._hit(s, fused[s], lexical, similarity) for s in _top(fused, k)]

    def catalog(self, text: str, *, k: int, budget_tokens: int) -> list[CatalogEntry]:
        """The catalog for ``text``: up to ``k`` ranked entries within ``budget_tokens``."""
        hits = self.search(text, k)
        entries = (CatalogEntry(h.name, self._document_of(h).description, h.score) for h in hits)
        return fit_catalog(entries, budget_tokens)

    # -- internals -------------------------------------------------------------

    def _take_next(self) -> int:
        self._next += 1
        return self._next - 1

    def _document_of(self, hit: Hit) -> SkillDocument:
        return self._documents[self._slots[hit.name]]

    def _hit(self, slot: int, score: float, lexical: Floats, similarity: Floats | None) -> Hit:
        cosine = None if similarity is None else round(float(similarity[slot]), 6)
        name = self._documents[slot].name
        return Hit(name, round(float(score), 6), round(float(lexical[slot]), 6), cosine)

    def _prefetch(self, documents: list[SkillDocument]) -> None:
        """Embed, in batches, the passages that the cache does not hold."""
        if self._embedder is None:
            return
        passages = sorted({d.passage() for d in documents} - self._cached_passages(documents))
        if not passages:
            return
        log.info("embedding %d skill passages with %s", len(passages), self._embedder.model_id)
        vectors = embed_all(self._embedder, passages)
        for passage, vector in zip(passages, vectors, strict=True):
            self._vectors.put(passage, vector)

    def _cached_passages(self, documents: list[SkillDocument]) -> set[str]:
        return {d.passage() for d in documents if self._vectors.get(d.passage()) is not None}

    @property
    def _vectors(self) -> VectorCache:
        assert self._cache is not None, "only used with an embedder"
        return self._cache

    def _passage_vector(self, passage: str) -> Floats:
        assert self._embedder is not None
        vector = self._vectors.get(passage)
        if vector is None:
            vector = self._embedder.embed([passage])[0]
            self._vectors.put(passage, vector)
        return vector

    def _query_vector(self, text: str) -> Floats:
        assert self._embedder is not None
        vector = self._queries.get(text)
        if vector is None:
            vector = _embed_query(self._embedder, text)
            self._queries[text] = vector
            if len(self._queries) > _QUERY_CACHE:
                self._queries.popitem(last=False)
        else:
            self._queries.move_to_end(text)
        return vector


def _document(skill: LoadedSkill | SkillDocument) -> SkillDocument:
    return skill if isinstance(skill, SkillDocument) else document_for(skill)


def _embed_query(embedder: Embedder, text: str) -> Floats:
    if isinstance(embedder, QueryEmbedder):
        return embedder.embed_query(text)
    vector: Floats = embedder.embed([text])[0]
    return vector


def _fuse(lexical: Floats, dense: Floats) -> Floats:
    """Weighted reciprocal rank fusion; ``dense`` is positive for every live slot."""
    fused = np.zeros(len(lexical), np.float32)
    for weight, scores in ((1.0, lexical), (DENSE_WEIGHT, dense)):
        ranked = _top(scores, CANDIDATES)
        fused[ranked] += weight / (RRF_K + np.arange(1, len(ranked) + 1, dtype=np.float32))
    return fused


def _top(scores: Floats, k: int) -> list[int]:
    """Slots of the ``k`` highest positive scores, best first; ties go to the lower slot."""
    candidates = np.flatnonzero(scores > 0)
    if len(candidates) > k:
        # Keep every candidate tied with the k-th so the tie-break below sees them all.
        kth = np.partition(scores[candidates], len(candidates) - k)[len(candidates) - k]
        candidates = candidates[scores[candidates] >= kth]
    order = np.lexsort((candidates, -scores[candidates]))
    return [int(s) for s in candidates[order][:k]]
