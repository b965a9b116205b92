"""Offline top-k retrieval over one user's records: BM25 on content words and tags.

Words come from ``brain.retrieval.terms`` (the brain's one tokenizer: lower
case, stop words out, a plural ``s`` dropped).  Term frequency is binary
(a record is a sentence or two, so repeats carry little), which leaves BM25's
idf and length normalisation: a rare word that a short record shares with the
query ranks it first.  Ties go to the more recently used record, then the id,
so a ranking is deterministic.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from brain.memory.records import KnowledgeRecord
from brain.retrieval import terms

__all__ = ["record_terms", "top_k"]

_K1 = 1.2
_B = 0.75


def record_terms(record: KnowledgeRecord) -> frozenset[str]:
    return terms(" ".join((record.content, *record.tags)))


def top_k(
    query: str,
    records: Sequence[KnowledgeRecord],
    documents: Sequence[frozenset[str]],
    k: int,
) -> list[KnowledgeRecord]:
    """The ``k`` best records that share at least one word with ``query``, best first."""
    if not records or k <= 0:  # most users have no records: skip the tokenizer
        return []
    wanted = terms(query)
    if not wanted:
        return []
    df = Counter(t for d in documents for t in wanted & d)
    n = len(documents)
    idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
    average = sum(len(d) for d in documents) / n or 1.0
    scored = []
    for record, document in zip(records, documents, strict=True):
        shared = wanted & document
        if shared:
            norm = 1 + _K1 * (1 - _B + _B * len(document) / average)
            score = sum(idf[t] for t in shared) * (_K1 + 1) / norm
            scored.append((-score, -record.last_used, record.id, record))
    scored.sort(key=lambda item: item[:3])
    return [item[3] for item in scored[:k]]
