"""The catalog: ranked entries, each within ~100 tokens, all within a budget, deterministic."""

from __future__ import annotations

import pytest

from brain.discovery import ENTRY_MAX_TOKENS, CatalogEntry, SkillDocument, SkillIndex
from brain.discovery.catalog import entry_tokens, fit_catalog

LONG = " ".join(f"word{i}" for i in range(400))  # about 700 tokens


def entries(
    n: int, description: str = "Searches travel deals and books trips."
) -> list[CatalogEntry]:
    return [CatalogEntry(f"skill-{i}", description, float(n - i)) for i in range(n)]


def test_short_entries_pass_unchanged_in_order() -> None:
    given = entries(5)
    assert fit_catalog(given, 10_000) == given


def test_each_entry_is_cut_to_the_entry_limit_at_a_word_boundary() -> None:
    (entry,) = fit_catalog([CatalogEntry("long", LONG, 1.0)], 10_000)
    assert entry_tokens(entry) <= ENTRY_MAX_TOKENS
    assert entry.description.endswith("…")
    kept = entry.description.removesuffix("…").split()
    assert kept == LONG.split()[: len(kept)]  # whole words, in order
    assert len(kept) > 30  # and most of the room is used


def test_the_budget_bounds_the_total_and_the_last_entry_may_be_shortened() -> None:
    given = entries(50, LONG)
    fitted = fit_catalog(given, 450)
    assert sum(entry_tokens(e) for e in fitted) <= 450
    assert [e.name for e in fitted] == [e.name for e in given[: len(fitted)]]
    assert 4 <= len(fitted) <= 5


def test_a_budget_too_small_for_anything_gives_an_empty_catalog() -> None:
    assert fit_catalog(entries(3, LONG), 5) == []
    assert fit_catalog(entries(3), 0) == []


def test_an_entry_whose_name_alone_is_too_long_is_skipped_not_fatal() -> None:
    monster = CatalogEntry("n" * 1_000, "short", 9.0)
    fitted = fit_catalog([monster, *entries(2)], 1_000)
    assert [e.name for e in fitted] == ["skill-0", "skill-1"]


def test_whitespace_and_invisible_characters_are_normalised_and_a_huge_word_is_cut() -> None:
    (entry,) = fit_catalog([CatalogEntry("s", "a\n\n  b\t c\u200b", 1.0)], 100)
    assert entry.description == "a b c"
    (cut,) = fit_catalog([CatalogEntry("s", "x" * 5_000, 1.0)], 100)
    assert entry_tokens(cut) <= 100 and cut.description.endswith("…")


@pytest.mark.parametrize("budget", [0, 1, 37, 100, 101, 999, 5_000])
def test_catalog_is_deterministic_and_within_budget(budget: int) -> None:
    docs = [
        SkillDocument(f"travel-{i}", f"Travel deals number {i}. {LONG[: 30 * i]}")
        for i in range(30)
    ]
    index = SkillIndex.build(docs)
    first = index.catalog("travel deals", k=20, budget_tokens=budget)
    again = SkillIndex.build(reversed(docs)).catalog("travel deals", k=20, budget_tokens=budget)
    assert [e.render() for e in first] == [e.render() for e in again]
    assert sum(entry_tokens(e) for e in first) <= budget
    assert all(entry_tokens(e) <= ENTRY_MAX_TOKENS for e in first)
    assert len(first) <= 20


def test_catalog_entries_carry_scores_best_first() -> None:
    index = SkillIndex.build(
        [
            SkillDocument("weather", "Weather forecast for a city."),
            SkillDocument("clothes", "What to wear for the weather."),
            SkillDocument("jokes", "Tell a joke."),
        ]
    )
    catalog = index.catalog("weather forecast", k=5, budget_tokens=1_000)
    assert [e.name for e in catalog] == ["weather", "clothes"]
    assert catalog[0].score > catalog[1].score > 0
    assert catalog[0].description == "Weather forecast for a city."
