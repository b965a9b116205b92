"""Splitting long replies: limits, code fences, units."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.base import LengthUnit
from channels.chunking import measure, split_text


def fences_balanced(chunk: str) -> bool:
    return len(re.findall(r"^\s*```", chunk, re.MULTILINE)) % 2 == 0


def test_short_text_is_one_message() -> None:
    assert split_text("hello", limit=100) == ["hello"]
    assert split_text("", limit=100) == []


def test_a_10000_character_reply_splits_at_paragraphs_within_the_limit() -> None:
    paragraphs = [f"Paragraph {i}: " + "word " * 60 for i in range(40)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    assert len(text) > 10_000
    chunks = split_text(text, limit=2000)
    assert all(len(c) <= 2000 for c in chunks)
    assert all(c.startswith("Paragraph") for c in chunks)  # cut at paragraph breaks
    assert "".join(c.replace("\n", "") for c in chunks) == text.replace("\n", "")


def test_a_code_block_cut_in_two_is_closed_and_reopened() -> None:
    code = "\n".join(f"print({i})" for i in range(300))
    text = f"Here:\n```python\n{code}\n```\nDone."
    chunks = split_text(text, limit=500)
    assert len(chunks) > 2
    assert all(len(c) <= 500 for c in chunks)
    assert all(fences_balanced(c) for c in chunks)
    assert chunks[1].startswith("```python")


def test_telegram_counts_utf16_units() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units, 3000 code points
    chunks = split_text(text, limit=4096, unit=LengthUnit.UTF16)
    assert all(measure(c, LengthUnit.UTF16) <= 4096 for c in chunks)
    assert "".join(chunks) == text  # no surrogate pair was split


def test_a_line_without_spaces_is_cut_hard() -> None:
    chunks = split_text("x" * 5000, limit=2000)
    assert [len(c) for c in chunks] == [1972, 1972, 1056]


@settings(max_examples=200, deadline=None)
@given(
    text=st.lists(
        st.sampled_from(["a", "bb", " ", "c.", "\n", "\n\n", "```", "```py\n", "😀", "é"]),
        max_size=1500,
    ).map("".join),
    limit=st.integers(min_value=64, max_value=700),
    unit=st.sampled_from(list(LengthUnit)),
)
def test_every_chunk_fits_and_fences_balance(text: str, limit: int, unit: LengthUnit) -> None:
    chunks = split_text(text, limit=limit, unit=unit)
    for chunk in chunks:
        assert measure(chunk, unit) <= limit
        # a text that fits is sent as written; split texts never leave a fence open
        assert len(chunks) == 1 or fences_balanced(chunk)


def test_an_impossible_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        split_text("hello", limit=63)
