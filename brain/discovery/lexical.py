"""BM25F over a few weighted fields, with incremental add and remove.

Theory of operation
-------------------
Documents live in integer *slots* chosen by the caller (:class:`SkillIndex`
reuses freed ones).  For each term the index keeps a posting list: the slots
that contain it (``array('i')``) and, for each, the term's count in every
field (``array('f')``, ``len(fields)`` values per posting).  Field lengths per
slot sit in one numpy matrix, so a query scores each of its terms in a few
vectorised operations over that term's postings::

    tf~  = sum_f  w_f * tf_f / (1 - b + b * len_f / avglen_f)      (BM25F)
    score += idf(term) * tf~ * (k1 + 1) / (tf~ + k1)

Nothing depends on the number of documents except through the postings of
the query's own terms, which is what keeps a query at 10,000 skills well
under a millisecond.  Adding a document appends to its terms' postings;
removing one deletes its entries (``array`` deletions run in C).  Numpy
copies of a posting list are cached until that term changes.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from brain.discovery.text import words

__all__ = ["Field", "LexicalIndex"]

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Field:
    """A searchable field; ``weight`` multiplies its term counts."""

    name: str
    weight: float


@dataclass(slots=True)
class _Postings:
    slots: array[int]
    counts: array[float]
    cache: tuple[npt.NDArray[np.int64], Floats] | None = None


class LexicalIndex:
    """BM25F scores over slots; not thread-safe (one writer, readers in the same thread)."""

    def __init__(self, fields: Sequence[Field], *, k1: float = 1.2, b: float = 0.5) -> None:
        self._fields = tuple(fields)
        self._weights = np.array([f.weight for f in fields], np.float32)
        self._k1, self._b = k1, b
        self._postings: dict[str, _Postings] = {}
        self._lengths = np.zeros((16, len(fields)), np.float32)
        self._totals = np.zeros(len(fields), np.float64)
        self._terms: dict[int, tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self._terms)

    @property
    def capacity(self) -> int:
        """One more than the highest slot ever used (the length of :meth:`scores`)."""
        return len(self._lengths)

    def add(self, slot: int, texts: Mapping[str, str]) -> None:
        """Index ``texts`` (field name → text) in ``slot``, which must be free."""
        if slot in self._terms:
            raise ValueError(f"slot {slot} is taken")
        per_field = [Counter(words(texts.get(f.name, ""))) for f in self._fields]
        self._grow(slot)
        self._lengths[slot] = [sum(c.values()) for c in per_field]
        self._totals += self._lengths[slot]
        terms = sorted(set().union(*per_field))
        for term in terms:
            postings = self._postings.get(term)
            if postings is None:
                postings = self._postings[term] = _Postings(array("i"), array("f"))
            postings.slots.append(slot)
            postings.counts.extend([c.get(term, 0) for c in per_field])
            postings.cache = None
        self._terms[slot] = tuple(terms)

    def remove(self, slot: int) -> None:
        """Forget ``slot``; a free slot is ignored."""
        terms = self._terms.pop(slot, None)
        if terms is None:
            return
        width = len(self._fields)
        for term in terms:
            postings = self._postings[term]
            at = postings.slots.index(slot)
            del postings.slots[at]
            del postings.counts[at * width : (at + 1) * width]
            postings.cache = None
            if not postings.slots:
                del self._postings[term]
        self._totals -= self._lengths[slot]
        self._lengths[slot] = 0

    def scores(self, text: str) -> Floats:
        """One BM25F score per slot (0 for free slots and non-matching documents)."""
        out = np.zeros(self.capacity, np.float32)
        n = len(self._terms)
        if n == 0:
            return out
        average = np.maximum(self._totals / n, 1e-6).astype(np.float32)
        for term in set(words(text)):
            postings = self._postings.get(term)
            if postings is not None:
                slots, counts = self._arrays(postings)
                norm = 1 - self._b + self._b * self._lengths[slots] / average
                tf = (counts / norm) @ self._weights
                idf = math.log(1 + (n - len(slots) + 0.5) / (len(slots) + 0.5))
                out[slots] += idf * tf * (self._k1 + 1) / (tf + self._k1)
        return out

    def _arrays(self, postings: _Postings) -> tuple[npt.NDArray[np.int64], Floats]:
        if postings.cache is None:
            slots = np.array(postings.slots, np.int64)
            counts = np.array(postings.counts, np.float32).reshape(len(slots), -1)
            postings.cache = (slots, counts)
        return postings.cache

    def _grow(self, slot: int) -> None:
        if slot >= len(self._lengths):
            size = max(slot + 1, 2 * len(self._lengths))
            grown = np.zeros((size, len(self._fields)), np.float32)
            grown[: len(self._lengths)] = self._lengths
            self._lengths = grown
