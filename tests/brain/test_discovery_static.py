"""The static embedder: distilled once from the encoder, cached on disk, fast to query.

Runs on the tiny BERT of ``test_discovery_dense`` (random weights): the
tests check the mechanics (caching, weighting, word vectors, hostile text),
not the meaning, which ``bench/skill_discovery.py`` measures on the real model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from brain.discovery import SkillDocument, SkillIndex, StaticEmbedder
from brain.discovery import static as static_module
from brain.discovery.minilm import MiniLM
from tests.brain.test_discovery_dense import VOCAB, write_tiny_model


class CountingMiniLM(MiniLM):
    """The tiny encoder, recording how many sequences each forward pass ran."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[int] = []

    def pooled(self, sequences: Sequence[Sequence[int]]) -> npt.NDArray[np.float32]:
        self.calls.append(len(sequences))
        return super().pooled(sequences)


def tiny_encoder(folder: Path) -> CountingMiniLM:
    model = CountingMiniLM.load(write_tiny_model(folder))
    assert isinstance(model, CountingMiniLM)
    return model


def test_the_table_is_distilled_once_and_read_back(tmp_path: Path) -> None:
    encoder = tiny_encoder(tmp_path / "model")
    first = StaticEmbedder.load(tmp_path / "cache", encoder=encoder)
    assert sum(encoder.calls) == len(VOCAB)  # one sequence per piece
    assert list((tmp_path / "cache").iterdir()) == [
        tmp_path / "cache" / "all-MiniLM-L6-v2_static-v1.table.npz"
    ]
    encoder.calls.clear()
    again = StaticEmbedder.load(tmp_path / "cache", encoder=encoder)
    assert encoder.calls == []
    text = ["the weather in paris"]
    assert np.allclose(first.embed(text), again.embed(text))


def test_a_damaged_or_foreign_table_is_distilled_again(tmp_path: Path) -> None:
    encoder = tiny_encoder(tmp_path / "model")
    cache = tmp_path / "cache"
    cache.mkdir()
    path = cache / "all-MiniLM-L6-v2_static-v1.table.npz"
    path.write_bytes(b"not a zip file")
    StaticEmbedder.load(cache, encoder=encoder)
    assert sum(encoder.calls) == len(VOCAB)
    with np.load(path) as data:
        arrays = dict(data)
    np.savez(path, **(arrays | {"key": np.array("some other model")}))
    encoder.calls.clear()
    StaticEmbedder.load(cache, encoder=encoder)
    assert sum(encoder.calls) == len(VOCAB)


def test_vectors_are_unit_and_stop_words_weigh_nothing(tmp_path: Path) -> None:
    embedder = StaticEmbedder.load(None, encoder=tiny_encoder(tmp_path))
    vectors = embedder.embed(["the weather in paris", "weather paris", "the in ?!", ""])
    assert vectors.shape == (4, 8)
    assert np.allclose(np.linalg.norm(vectors[:2], axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], vectors[1], atol=1e-6)  # "the", "in" are stop words
    assert not vectors[2].any() and not vectors[3].any()  # nothing left to weigh


def test_a_word_of_several_pieces_is_encoded_once_as_a_word(tmp_path: Path) -> None:
    encoder = tiny_encoder(tmp_path)
    embedder = StaticEmbedder.load(None, encoder=encoder)
    encoder.calls.clear()
    first = embedder.embed(["unaffable paris", "rainy unaffable"])
    assert encoder.calls == [2]  # "unaffable" and "rainy", in one batch
    second = embedder.embed(["unaffable paris"])
    assert encoder.calls == [2]
    assert np.allclose(first[0], second[0])


def test_a_texts_vector_does_not_depend_on_what_was_seen_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(static_module, "WORD_FORWARDS", 1)
    text = "rainy unaffable paris"
    cold = StaticEmbedder.load(None, encoder=tiny_encoder(tmp_path / "a"))
    warm = StaticEmbedder.load(None, encoder=tiny_encoder(tmp_path / "b"))
    warm.embed(["unaffable"])  # now cached, but past this text's one own word
    assert np.allclose(cold.embed([text]), warm.embed([text]), atol=1e-6)


# Four words of several pieces: "rain ##y", "un ##aff ##able", "un ##able", "cafe ##y".
RARE_QUERY = "rainy unaffable unable cafey"


def test_a_query_encodes_only_its_first_words_in_one_batch(tmp_path: Path) -> None:
    encoder = tiny_encoder(tmp_path)
    embedder = StaticEmbedder.load(None, encoder=encoder)
    encoder.calls.clear()
    query = embedder.embed_query(RARE_QUERY)
    assert encoder.calls == [static_module.QUERY_WORD_FORWARDS]
    assert np.isclose(np.linalg.norm(query), 1.0, atol=1e-5)
    passage = embedder.embed([RARE_QUERY])[0]  # a skill's text: every word encoded
    cap = static_module.QUERY_WORD_FORWARDS
    assert encoder.calls == [cap, 4 - cap]
    assert not np.allclose(query, passage, atol=1e-4)


def test_a_short_query_embeds_as_the_same_passage_would(tmp_path: Path) -> None:
    embedder = StaticEmbedder.load(None, encoder=tiny_encoder(tmp_path))
    text = "rainy weather, unaffable paris"
    assert np.allclose(embedder.embed_query(text), embedder.embed([text])[0], atol=1e-6)


def test_a_query_vector_does_not_depend_on_what_was_seen_before(tmp_path: Path) -> None:
    cold = StaticEmbedder.load(None, encoder=tiny_encoder(tmp_path / "a"))
    warm = StaticEmbedder.load(None, encoder=tiny_encoder(tmp_path / "b"))
    warm.embed([RARE_QUERY])  # every word cached, those past the query's cap too
    assert np.allclose(cold.embed_query(RARE_QUERY), warm.embed_query(RARE_QUERY), atol=1e-6)


def test_the_index_embeds_queries_with_the_query_cap(tmp_path: Path) -> None:
    encoder = tiny_encoder(tmp_path)
    embedder = StaticEmbedder.load(None, encoder=encoder)
    index = SkillIndex.build(
        [SkillDocument("forecast", "The weather in Paris.")], embedder=embedder
    )
    encoder.calls.clear()
    index.search(RARE_QUERY, 1)
    assert encoder.calls == [static_module.QUERY_WORD_FORWARDS]


def test_the_word_cache_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(static_module, "WORD_CACHE", 1)
    encoder = tiny_encoder(tmp_path)
    embedder = StaticEmbedder.load(None, encoder=encoder)
    encoder.calls.clear()
    embedder.embed(["unaffable rainy"])  # encoded shortest first: "rainy" is the older
    embedder.embed(["rainy"])  # evicted by "unaffable": encoded again
    assert encoder.calls == [2, 1]


def test_hostile_text_embeds(tmp_path: Path) -> None:
    embedder = StaticEmbedder.load(None, encoder=tiny_encoder(tmp_path))
    texts = ["", "🙂" * 5_000, "\ud800", "?" * 300, "rainy " * 2_000, "x" * 10_000]
    vectors = embedder.embed(texts)
    assert vectors.shape == (len(texts), 8) and np.isfinite(vectors).all()


def test_it_serves_a_skill_index(tmp_path: Path) -> None:
    embedder = StaticEmbedder.load(tmp_path / "cache", encoder=tiny_encoder(tmp_path))
    docs = [SkillDocument("forecast", "The weather in Paris."), SkillDocument("cafe", "Cafe.")]
    index = SkillIndex.build(docs, embedder=embedder, cache_dir=tmp_path / "cache")
    hits = index.search("weather", 2)
    assert hits[0].name == "forecast"
    assert all(h.similarity is not None for h in hits)
