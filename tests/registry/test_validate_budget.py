"""registry.budget: catalog entries and activated bodies within their token budgets."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.budget import (
    BODY_MAX_TOKENS,
    CATALOG_ENTRY_MAX_TOKENS,
    catalog_entry,
    cut_body,
    estimate_tokens,
)
from registry.model import SkillManifest


def manifest(description: str, name: str = "demo") -> SkillManifest:
    return SkillManifest(name=name, description=description, path=Path("/skills") / name)


def test_estimate_is_characters_over_four() -> None:
    assert [estimate_tokens(t) for t in ("", "a", "abcd", "abcde")] == [0, 1, 1, 2]


def test_a_short_entry_is_one_clean_line() -> None:
    entry = catalog_entry(manifest("Does  things.\n  Use when\tasked.\u200b"))
    assert entry == "demo: Does things. Use when asked."


def test_a_long_entry_is_cut_at_a_word_with_an_ellipsis() -> None:
    words = [f"word{i}" for i in range(200)]
    entry = catalog_entry(manifest(" ".join(words)))
    assert estimate_tokens(entry) <= CATALOG_ENTRY_MAX_TOKENS
    assert entry.endswith(" …")
    kept = entry.removeprefix("demo: ").removesuffix(" …").split(" ")
    assert kept == words[: len(kept)]
    assert estimate_tokens(f"demo: {' '.join(words[: len(kept) + 1])} …") > CATALOG_ENTRY_MAX_TOKENS


def test_one_giant_word_is_cut_by_characters() -> None:
    entry = catalog_entry(manifest("x" * 5000), max_tokens=20)
    assert estimate_tokens(entry) <= 20
    assert entry.startswith("demo: xxx") and entry.endswith(" …")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000), st.integers(10, 150))
def test_entries_always_fit_and_are_deterministic(description: str, budget: int) -> None:
    entry = catalog_entry(manifest(description), max_tokens=budget)
    assert estimate_tokens(entry) <= budget
    assert entry == catalog_entry(manifest(description), max_tokens=budget)
    assert "\n" not in entry


def sections(count: int, size: int) -> str:
    return "".join(f"## Part {i}\n\n" + ("text " * size) + "\n\n" for i in range(count))


def test_a_body_that_fits_is_untouched() -> None:
    body = "# Title\n\nShort.\n"
    assert cut_body(body) is body


def test_a_long_body_is_cut_at_a_section_boundary() -> None:
    body = "# Intro\n\nHello.\n\n" + sections(30, 80)
    cut = cut_body(body, read_on='Call read_skill_resource("SKILL.md").')
    assert estimate_tokens(cut) <= BODY_MAX_TOKENS
    kept, pointer = cut.split("\n\n[Cut at about 2000 tokens: ")
    assert body.startswith(kept)
    assert body[len(kept) :].lstrip("\n").startswith("## Part")
    assert pointer.endswith(
        '(Part 18, Part 19, Part 20, Part 21, Part 22, …). Call read_skill_resource("SKILL.md").]'
    )
    assert "12 more section(s) from line" in pointer


def test_headings_inside_code_fences_are_not_sections() -> None:
    body = "# A\n\n```bash\n# not a heading\n" + "echo x\n" * 600 + "```\n\n# B\n\nend\n"
    cut = cut_body(body, max_tokens=1500)
    assert "not a heading" in cut
    assert cut.count("```") % 2 == 0  # a fence opened in the kept text is closed again


def test_an_oversized_first_section_is_cut_by_paragraphs() -> None:
    body = "# Only\n\n" + "\n\n".join(f"Paragraph {i} " + "word " * 40 for i in range(100))
    cut = cut_body(body, max_tokens=500)
    assert estimate_tokens(cut) <= 500
    assert cut.startswith("# Only\n\nParagraph 0 ")
    assert "1 more section(s) from line 1 (Only)" in cut


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(["# H\n", "text line\n", "\n", "```\n", "x" * 300 + "\n"])
        | st.text(alphabet="abcdefgh ", min_size=1, max_size=60).map(lambda t: f"## {t}x\n"),
        max_size=400,
    ).map("".join),
    st.integers(200, 3000),
)
def test_cut_bodies_fit_and_are_deterministic(body: str, budget: int) -> None:
    cut = cut_body(body, max_tokens=budget)
    assert estimate_tokens(cut) <= budget
    assert cut == cut_body(body, max_tokens=budget)
    if estimate_tokens(body) <= budget:
        assert cut == body


def words(text: str) -> int:
    return len(text.split())


@pytest.mark.parametrize("budget", [50, 120])
def test_a_custom_counter_is_used(budget: int) -> None:
    body = "# A\n\n" + "one two three\n\n" * 100
    assert words(cut_body(body, max_tokens=budget, count=words)) <= budget
