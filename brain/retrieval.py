"""Pick the skill tool a message is most likely about, for models that cannot choose.

A plain lexical score: the query's content words (lower-cased, a trailing
plural ``s`` dropped, stop words removed) matched against each document's
words, each match weighted by ``ln(1 + N / df)`` so words shared by every
document count for little.  A document must match at least one content word
(``MIN_SCORE``) to be picked, so small talk such as ``hello`` stays plain chat.

Weak spot (skeleton): no synonyms, no embeddings; the harness replaces this
with ranked retrieval over the skill catalog (BM25/FTS5).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

__all__ = ["MIN_SCORE", "best_match", "scores", "terms"]

MIN_SCORE = math.log(2)

# Words too common in messages and skill descriptions to say which skill is meant.
_STOP_WORDS = """a about all also an and any are as at be been but by can could do does for from get
give given has have how i if in into is it its me my no not of on or our please return returns
run runs show so some tell than that the their them then there these this to tool tools use used
user using want was we what when where which who why will with would you your skill skills"""
_STOP = frozenset(_STOP_WORDS.split())


def terms(text: str) -> frozenset[str]:
    words = re.findall(r"[a-z][a-z0-9]*", text.lower())
    return frozenset(_stem(w) for w in words if len(w) > 1 and w not in _STOP)


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def scores(query: str, documents: Sequence[str]) -> list[float]:
    """One score per document, in order."""
    wanted = terms(query)
    docs = [terms(d) for d in documents]
    df = {t: sum(t in d for d in docs) for t in wanted}
    idf = {t: math.log(1 + len(docs) / n) for t, n in df.items() if n}
    return [sum(idf.get(t, 0.0) for t in wanted & d) for d in docs]


def best_match(query: str, documents: Sequence[str]) -> int | None:
    """Index of the best document scoring at least ``MIN_SCORE``; ties go to the first."""
    ranked = scores(query, documents)
    if not ranked:
        return None
    best = max(range(len(ranked)), key=lambda i: (ranked[i], -i))
    return best if ranked[best] >= MIN_SCORE else None
