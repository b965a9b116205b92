"""Dense vectors per slot, the embedder seam, and the on-disk vector cache.

An :class:`Embedder` turns texts into unit vectors (``MiniLM`` in
``brain.discovery.minilm``; tests pass a small deterministic one).  Skill
passages are embedded once: building the vectors for 10,000 skills takes
minutes on two cores, so :class:`VectorCache` keeps them in
``<cache_dir>/<model_id>.npz``, keyed by a hash of the model id and the
passage text, and a restart embeds only what changed.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from registry.diskio import replacing

__all__ = [
    "DenseIndex",
    "Embedder",
    "QueryEmbedder",
    "VectorCache",
    "embed_all",
    "write_npz",
]

log = logging.getLogger(__name__)

Floats = npt.NDArray[np.float32]
_BATCH = 32


class Embedder(Protocol):
    """Texts → unit vectors of ``dimension`` floats (rows in input order)."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Floats: ...


@runtime_checkable
class QueryEmbedder(Embedder, Protocol):
    """An embedder with a cheaper path for queries, which are embedded one at a time.

    ``embed_query(text)`` must be a pure function of ``text``, like ``embed``;
    the index uses it for queries and ``embed`` for skill passages.
    """

    def embed_query(self, text: str) -> Floats: ...


def embed_all(embedder: Embedder, texts: Sequence[str]) -> Floats:
    """Embed many texts in batches of similar length (padding costs as much as text)."""
    out = np.zeros((len(texts), embedder.dimension), np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), _BATCH):
        rows = order[start : start + _BATCH]
        out[rows] = embedder.embed([texts[i] for i in rows])
    return out


class DenseIndex:
    """One unit vector per slot; free slots hold zeros and are marked not live."""

    def __init__(self, dimension: int) -> None:
        self._vectors = np.zeros((16, dimension), np.float32)
        self._live = np.zeros(16, bool)

    def put(self, slot: int, vector: Floats) -> None:
        if slot >= len(self._vectors):
            size = max(slot + 1, 2 * len(self._vectors))
            vectors = np.zeros((size, self._vectors.shape[1]), np.float32)
            vectors[: len(self._vectors)] = self._vectors
            live = np.zeros(size, bool)
            live[: len(self._live)] = self._live
            self._vectors, self._live = vectors, live
        self._vectors[slot] = vector
        self._live[slot] = True

    def remove(self, slot: int) -> None:
        if slot < len(self._vectors):
            self._vectors[slot] = 0.0
            self._live[slot] = False

    def scores(self, query: Floats, capacity: int) -> tuple[Floats, npt.NDArray[np.bool_]]:
        """Cosine per slot and which slots are live, both padded or cut to ``capacity``."""
        out = np.zeros(capacity, np.float32)
        live = np.zeros(capacity, bool)
        rows = min(capacity, len(self._vectors))
        out[:rows] = self._vectors[:rows] @ query
        live[:rows] = self._live[:rows]
        return out, live


class VectorCache:
    """Passage vectors for one model, kept on disk in ``folder`` (None: in memory only).

    A damaged file is ignored (logged) and rewritten by the next :meth:`save`.
    """

    def __init__(self, folder: Path | None, model_id: str) -> None:
        self._model_id = model_id
        name = f"{re.sub(r'[^A-Za-z0-9_.-]', '_', model_id)}.npz"
        self._path = None if folder is None else folder / name
        self._vectors: dict[str, Floats] = {}
        self._dirty = False

    def key(self, passage: str) -> str:
        return hashlib.sha256(f"{self._model_id}\0{passage}".encode()).hexdigest()[:32]

    def get(self, passage: str) -> Floats | None:
        return self._vectors.get(self.key(passage))

    def put(self, passage: str, vector: Floats) -> None:
        self._vectors[self.key(passage)] = vector
        self._dirty = True

    def load(self) -> None:
        if self._path is None:
            return
        try:
            with np.load(self._path, allow_pickle=False) as data:
                keys, vectors = data["keys"], data["vectors"]
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring the damaged vector cache %s: %s", self._path, exc)
            return
        self._vectors.update(zip((str(k) for k in keys), vectors.astype(np.float32), strict=True))

    def save(self, keep: Iterable[str] | None = None) -> None:
        """Write the cache if it changed; ``keep`` (passages) drops vectors of other passages."""
        if keep is not None:
            wanted = {self.key(p) for p in keep}
            self._dirty |= bool(self._vectors.keys() - wanted)
            self._vectors = {k: v for k, v in self._vectors.items() if k in wanted}
        if not self._dirty or self._path is None:
            return
        keys = np.array(sorted(self._vectors))
        vectors = np.stack([self._vectors[k] for k in keys]) if len(keys) else np.zeros((0, 0))
        write_npz(self._path, keys=keys, vectors=vectors)
        self._dirty = False


def write_npz(path: Path, **arrays: npt.ArrayLike) -> None:
    """Write ``arrays`` to ``path`` atomically, creating its folder."""
    # Readers see the old file or the new one, never half; a cache need not survive a power cut.
    with replacing(path, durable=False) as file:
        np.savez(file, allow_pickle=False, **arrays)
