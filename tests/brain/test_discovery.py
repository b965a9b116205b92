"""``SkillIndex``: ranking, hostile queries and incremental updates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brain.discovery import Hit, SkillDocument, SkillIndex
from brain.discovery.text import stem, words
from brain.skills import SkillSet

SKILLS = {
    "weather": "Current weather and the forecast for any city: temperature, rain, wind.",
    "unit-convert": "Convert units of length, mass, volume and temperature (km to miles, kg...).",
    "calculator": "Evaluate arithmetic exactly; use to calculate sums, products and percentages.",
    "notes": "Keep short personal notes: save, list, search and delete them.",
    "flights": "Search flights and compare airfares between airports on given dates.",
    "hotels": "Find hotels and book accommodation in any city.",
    "stocks": "Real-time stock prices, market news and company financials.",
    "translate": "Translate text between languages, for example English to French.",
    "recipes": "Recipes and cooking ideas from the ingredients you have.",
    "pdf-reader": "Read a PDF document from a URL and answer questions about it.",
    "jobs": "Find job openings, interview tips and help with a resume.",
    "time": "Tell the current time in a time zone or city.",
}

RANKING = [
    ("what's the weather going to be like in Paris tomorrow?", "weather", 1),
    ("will it rain in Oslo", "weather", 1),
    ("how many miles is 42 km", "unit-convert", 1),
    ("please calculate 17% of 230", "calculator", 1),
    ("save a note: buy milk", "notes", 1),
    ("cheap airfares from Boston to Denver", "flights", 1),
    ("book me accommodation in Rome", "hotels", 1),
    ("how are Tesla stock prices doing", "stocks", 1),
    ("translate 'good morning' to French", "translate", 1),
    ("what can I cook with eggs and spinach", "recipes", 3),
    ("summarise this PDF for me", "pdf-reader", 1),
    ("I'm looking for job openings in Berlin", "jobs", 1),
    ("what time is it in Tokyo", "time", 1),
]


def documents() -> list[SkillDocument]:
    return [SkillDocument(name, description) for name, description in SKILLS.items()]


@pytest.fixture(scope="module")
def index() -> SkillIndex:
    return SkillIndex.build(documents())


@pytest.mark.parametrize(("query", "expected", "k"), RANKING)
def test_expected_skill_is_in_the_top_k(
    index: SkillIndex, query: str, expected: str, k: int
) -> None:
    assert expected in [h.name for h in index.search(query, k)]


def test_hits_are_ranked_and_scored(index: SkillIndex) -> None:
    hits = index.search("convert the temperature in the city", 5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(h.score > 0 and h.lexical == h.score and h.similarity is None for h in hits)
    assert {"unit-convert", "weather"} <= {h.name for h in hits}


def test_small_talk_finds_nothing(index: SkillIndex) -> None:
    assert index.search("hello", 5) == []
    assert index.search("thanks!", 5) == []


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   \n\t ",
        "?!.,;:-- ()[]{} ...",
        "🙂🙂🙂 👍",
        "東京の天気は\uff1f",
        "ÜBER café naïve résumé",
        "\x00\x01\x7f control",
        "a" * 50_000,
        "weather " * 20_000,
        "\ud800 lone surrogate",
        "%s %d {0} ${x} <script>alert(1)</script>",
    ],
)
def test_hostile_queries_never_crash(index: SkillIndex, query: str) -> None:
    hits = index.search(query, 5)
    assert len(hits) <= 5
    assert index.catalog(query, k=5, budget_tokens=500) is not None


def test_unicode_words_match_unicode_descriptions() -> None:
    index = SkillIndex.build(
        [SkillDocument("wetter", "Das Wetter für jede Stadt, mit Regenradar.")]
    )
    assert [h.name for h in index.search("Wetter in München", 3)] == ["wetter"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=-3, max_value=30))
def test_any_text_and_k_give_at_most_k_known_hits(query: str, k: int) -> None:
    index = SkillIndex.build(documents())
    hits = index.search(query, k)
    assert len(hits) <= max(k, 0)
    assert all(h.name in SKILLS for h in hits)


def test_k_zero_or_empty_index_gives_nothing() -> None:
    assert SkillIndex.build(documents()).search("weather", 0) == []
    assert SkillIndex.build([]).search("weather", 5) == []


def test_add_remove_and_replace() -> None:
    index = SkillIndex.build(documents())
    assert len(index) == len(SKILLS)
    assert index.search("horoscope for leo", 3) == []
    index.add(SkillDocument("astrology", "Daily horoscope for each zodiac sign."))
    assert [h.name for h in index.search("horoscope for leo", 3)] == ["astrology"]
    assert "astrology" in index
    assert index.remove("weather")
    assert not index.remove("weather")
    assert "weather" not in [h.name for h in index.search("weather forecast", 12)]
    index.add(SkillDocument("notes", "Tell a joke."))  # same name: replaced, not duplicated
    assert len(index) == len(SKILLS)
    assert [h.name for h in index.search("tell me a joke", 3)] == ["notes"]
    assert index.search("personal", 3) == []  # the old description is gone


def test_incremental_updates_rank_like_a_fresh_build() -> None:
    docs = documents()
    grown = SkillIndex.build(docs[:4])
    for doc in docs[4:]:
        grown.add(doc)
    for doc in docs[:6]:
        grown.remove(doc.name)
    for doc in docs[:6]:
        grown.add(doc)
    fresh = SkillIndex.build(docs)
    for query, _, _ in RANKING:
        assert scored(grown.search(query, 5)) == scored(fresh.search(query, 5))


def scored(hits: list[Hit]) -> dict[str, float]:
    return {h.name: round(h.score, 4) for h in hits}


def test_removing_everything_then_adding_reuses_slots() -> None:
    index = SkillIndex.build(documents())
    for name in SKILLS:
        index.remove(name)
    assert len(index) == 0 and index.search("weather", 5) == []
    index.add(SkillDocument("weather", SKILLS["weather"]))
    assert [h.name for h in index.search("weather", 5)] == ["weather"]


def test_builds_from_loaded_skill_folders_with_tools_and_tags(tmp_path: Path) -> None:
    folder = tmp_path / "skills" / "currency"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(
        "---\nname: currency\ndescription: Money helper.\n"
        "metadata:\n  tags: forex exchange-rates\n  author: someone\n---\n\nbody words zebra\n",
        encoding="utf-8",
    )
    schema = {"type": "object", "properties": {}}
    sidecar = {
        "version": "1.0.0",
        "tools": [
            {
                "name": "convert_amount",
                "description": "Convert an amount between currencies.",
                "entrypoint": "run.py",
                "input": schema,
                "output": schema,
            }
        ],
    }
    (folder / "skill.yaml").write_text(json.dumps(sidecar), encoding="utf-8")
    (folder / "run.py").write_text("", encoding="utf-8")
    skills = SkillSet.load([tmp_path / "skills"])
    index = SkillIndex.build(skills.skills.values())
    for query in ("forex", "exchange rates", "convert currencies", "convert amount"):
        assert [h.name for h in index.search(query, 1)] == ["currency"], query
    assert index.search("someone", 1) == []  # authors are not tags
    assert index.search("zebra", 1) == []  # the body is not searched


def test_words_split_names_and_stem_alike() -> None:
    assert words("FinanceTool") == [stem("finance")]  # "tool" is a stop word
    assert words("pdf_reader unit-convert") == ["pdf", "reader", "unit", "convert"]
    assert words("Reading reports") == words("read report")
    assert stem("forecasts") == stem("forecasting") == stem("forecast")
    assert stem("companies") == stem("company")
    assert stem("calculator") == stem("calculate")
    assert words("the and of") == []
    assert words("x" * 41) == []
