"""A static embedder distilled from all-MiniLM-L6-v2: a query costs microseconds.

Theory of operation
-------------------
A full MiniLM forward pass costs 7 to 30 ms per query on two cores, most of
it spent streaming 42 MB of layer weights through the cache, which is more
than a whole query's budget.  Following model2vec, the encoder is instead
run once per vocabulary piece (``[CLS] piece [SEP]``, mean-pooled) and a
text becomes the weighted mean of its pieces' rows in that *table*:

* The table is centred and its top :data:`DROP_COMPONENTS` principal
  directions are removed: every piece shares them, so they carry no meaning
  and only raise every cosine ("all-but-the-top").
* A piece weighs ``sqrt(log(1 + rank))``: BERT's vocabulary lists whole
  words roughly by frequency from id 1996 on, so the id stands in for a
  frequency rank (model2vec's Zipf weighting).  Stop words
  (:data:`brain.discovery.text.STOP_WORDS`), punctuation and special
  tokens weigh nothing.
* A word of several pieces ("lasagna" is ``las ##ag ##na``) is badly served
  by the mean of its pieces, so on first sight it is run through the encoder
  alone and its vector is kept (in memory, up to :data:`WORD_CACHE` words).
  The first :data:`WORD_FORWARDS` such words of a skill's text get one, and
  the first :data:`QUERY_WORD_FORWARDS` of a query (``embed_query``): all of
  a text's new words go through the encoder in one batch, one short forward
  pass (7 ms on two cores, however many words), and a query, embedded while
  the user waits, is kept to a small batch.  The words are chosen from the
  text alone, so its vector does not depend on what was seen before.  On
  MetaTool two words per query keep Recall@5 within 0.1 of sixteen.

Distilling the table runs the encoder over the 30,522 pieces once (minutes
on two cores); it is written to ``<cache_dir>/<model id>.table.npz`` with a
key naming the model, version and sizes, and read back in milliseconds.
On the MetaTool tune split this embedder alone scores Recall@5 73 against
77 for the full encoder; fused with BM25F, see ``bench/skill_discovery.py``.
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from brain.discovery.dense import write_npz
from brain.discovery.minilm import MODEL_ID as ENCODER_ID
from brain.discovery.minilm import MiniLM
from brain.discovery.text import STOP_WORDS
from brain.discovery.wordpiece import WordPiece

__all__ = [
    "DROP_COMPONENTS",
    "MODEL_ID",
    "QUERY_WORD_FORWARDS",
    "WORD_CACHE",
    "WORD_FORWARDS",
    "StaticEmbedder",
    "TokenTable",
    "distil",
    "piece_weights",
]

log = logging.getLogger(__name__)

MODEL_ID = f"{ENCODER_ID}/static-v1"
DROP_COMPONENTS = 3
WORD_FORWARDS = 16
WORD_CACHE = 32_768
# BERT's uncased vocabulary: [PAD], [unused*], specials and single characters
# come first; whole words and ## pieces from here on, roughly by frequency.
_FIRST_WORD = 1996
_DISTIL_BATCH = 512
_WORD_BATCH = 64
QUERY_WORD_FORWARDS = 2

Floats = npt.NDArray[np.float32]
# A text's single pieces, and its words with a vector of their own and their weights.
_Plan = tuple[list[int], list[tuple[str, float]]]


@dataclass(frozen=True, slots=True)
class TokenTable:
    """One projected vector per piece, and the projection for vectors made later."""

    vectors: Floats
    mean: Floats
    components: Floats

    def project(self, raw: Floats) -> Floats:
        """Centre ``raw`` rows and remove the table's dropped directions."""
        centred = raw - self.mean
        projected = centred - (centred @ self.components.T) @ self.components
        return np.asarray(projected, np.float32)


def distil(encoder: MiniLM, *, batch: int = _DISTIL_BATCH) -> TokenTable:
    """Run ``encoder`` over every vocabulary piece alone; the slow, once-only step."""
    tokenizer = encoder.tokenizer
    raw = np.zeros((len(tokenizer), encoder.dimension), np.float32)
    for start in range(0, len(tokenizer), batch):
        ids = range(start, min(start + batch, len(tokenizer)))
        raw[start : ids.stop] = encoder.pooled([[tokenizer.cls, i, tokenizer.sep] for i in ids])
    mean = raw.mean(0)
    # Directions from the word pieces only: the reserved and single-character
    # rows would otherwise pull them around (a toy vocabulary has none).
    words = raw[_FIRST_WORD:] if len(raw) > _FIRST_WORD + DROP_COMPONENTS else raw
    _, _, right = np.linalg.svd(words - mean, full_matrices=False)
    components = right[:DROP_COMPONENTS].astype(np.float32)
    table = TokenTable(raw, mean.astype(np.float32), components)
    return TokenTable(table.project(raw), table.mean, components)


def piece_weights(tokenizer: WordPiece) -> Floats:
    """Zipf weights by id; stop words, punctuation and special tokens weigh 0."""
    ranks = np.maximum(np.arange(len(tokenizer)) - (_FIRST_WORD - 1), 1)
    weights = np.sqrt(np.log1p(ranks)).astype(np.float32)
    for token in range(len(tokenizer)):
        piece = tokenizer.piece(token)
        special = piece.startswith("[") and piece.endswith("]")
        if special or (len(piece) == 1 and not piece.isalnum()):
            weights[token] = 0.0
    stop = [tokenizer.id_of(word) for word in STOP_WORDS]
    weights[[token for token in stop if token is not None]] = 0.0
    return weights


class StaticEmbedder:
    """An :class:`~brain.discovery.dense.Embedder`; build with :meth:`load`.

    Not thread-safe (its word cache changes as it embeds), like the index
    that owns it.
    """

    model_id = MODEL_ID

    def __init__(self, encoder: MiniLM, table: TokenTable) -> None:
        self._encoder = encoder
        self._tokenizer = encoder.tokenizer
        self._table = table
        self._weights = piece_weights(self._tokenizer)
        # Half precision: 32k words in 25 MB; the sums are done in float32.
        self._words: OrderedDict[str, npt.NDArray[np.float16]] = OrderedDict()

    @property
    def dimension(self) -> int:
        return int(self._table.vectors.shape[1])

    @classmethod
    def load(cls, cache_dir: Path | None, *, encoder: MiniLM | None = None) -> StaticEmbedder:
        """The embedder, distilling its table first when ``cache_dir`` holds none.

        Blocking, and slow the first time (minutes).  Raises
        ``EmbedderUnavailableError`` when the model is not installed.
        """
        encoder = encoder or MiniLM.load()
        key = _table_key(encoder)
        path = None if cache_dir is None else cache_dir / f"{_safe(MODEL_ID)}.table.npz"
        table = _read_table(path, key) if path is not None else None
        if table is None:
            log.info("distilling %s from %s (once; minutes on two cores)", MODEL_ID, ENCODER_ID)
            start = time.perf_counter()
            table = distil(encoder)
            log.info("distilled %s in %.0f s", MODEL_ID, time.perf_counter() - start)
            if path is not None:
                arrays = {"vectors": table.vectors, "components": table.components}
                write_npz(path, key=np.array(key), mean=table.mean, **arrays)
        return cls(encoder, table)

    def embed(self, texts: Sequence[str]) -> Floats:
        """Unit vectors, one row per text (zeros for a text with no weighted word).

        Each text's first :data:`WORD_FORWARDS` words of several pieces get a
        vector of their own (run through the encoder once, then cached).
        """
        return self._embed([self._plan(text, WORD_FORWARDS) for text in texts])

    def embed_query(self, text: str) -> Floats:
        """The unit vector of one query, with at most :data:`QUERY_WORD_FORWARDS` encoded words.

        A query is embedded while the user waits, so only its first few words
        of several pieces get a vector of their own, in one batch: a single
        short forward pass (7 ms on two cores) when they are not cached.
        Later ones are the weighted sum of their pieces, as past any cap.
        """
        vector: Floats = self._embed([self._plan(text, QUERY_WORD_FORWARDS)])[0]
        return vector

    def _embed(self, plans: list[_Plan]) -> Floats:
        learned = self._learn(word for _, words in plans for word, _ in words)
        out = np.zeros((len(plans), self.dimension), np.float32)
        for row, (pieces, words) in enumerate(plans):
            vector = self._weights[pieces] @ self._table.vectors[pieces]
            for word, weight in words:
                vector += weight * learned[word].astype(np.float32)
            norm = float(np.linalg.norm(vector))
            if norm > 1e-9:
                out[row] = vector / norm
        return out

    def _plan(self, text: str, limit: int) -> _Plan:
        """The single pieces of ``text`` and up to ``limit`` words that get a vector of their own.

        The words are chosen from the text alone (never from what is cached),
        so a text's vector does not depend on what was embedded before.
        """
        pieces: list[int] = []
        split: list[tuple[str, list[int], float]] = []  # every occurrence, in reading order
        for word in self._tokenizer.words(text):
            ids = self._tokenizer.pieces(word)
            weight = float(self._weights[ids].max())
            if len(ids) == 1 or weight == 0.0:
                pieces.extend(ids)
            else:
                split.append((word, ids, weight))
        own = set(list(dict.fromkeys(word for word, _, _ in split))[:limit])
        words: list[tuple[str, float]] = []
        for word, ids, weight in split:
            if word in own:
                words.append((word, weight))
            else:
                pieces.extend(ids)
        return pieces, words

    def _learn(self, words: Iterable[str]) -> dict[str, npt.NDArray[np.float16]]:
        """Vectors of ``words``, running the encoder over those not cached."""
        found: dict[str, npt.NDArray[np.float16]] = {}
        missing: set[str] = set()
        for word in words:
            vector = self._words.get(word)
            if vector is None:
                missing.add(word)
            else:
                self._words.move_to_end(word)
                found[word] = vector
        ordered = sorted(missing, key=len)  # similar lengths pad little
        for start in range(0, len(ordered), _WORD_BATCH):
            batch = ordered[start : start + _WORD_BATCH]
            raw = self._encoder.pooled([self._sequence(w) for w in batch])
            vectors = self._table.project(raw).astype(np.float16)
            for word, vector in zip(batch, vectors, strict=True):
                found[word] = self._words[word] = vector
        while len(self._words) > WORD_CACHE:
            self._words.popitem(last=False)
        return found

    def _sequence(self, word: str) -> list[int]:
        tokenizer = self._tokenizer
        return [tokenizer.cls, *tokenizer.pieces(word)[:_MAX_WORD_PIECES], tokenizer.sep]


# A word of more pieces than this is noise (a hash, a run-together URL).
_MAX_WORD_PIECES = 16


def _table_key(encoder: MiniLM) -> str:
    return f"{MODEL_ID} pieces={len(encoder.tokenizer)} dim={encoder.dimension}"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _read_table(path: Path, key: str) -> TokenTable | None:
    """The cached table, or None when it is missing, damaged or for another model."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) != key:
                log.info("the token table %s is for another model; distilling again", path)
                return None
            vectors, mean, components = data["vectors"], data["mean"], data["components"]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError) as exc:
        log.warning("ignoring the damaged token table %s: %s", path, exc)
        return None
    return TokenTable(vectors.astype(np.float32), mean.astype(np.float32), components)
