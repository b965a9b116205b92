"""Token budgets of a skill: its catalog entry (~100 tokens) and its body (~2,000).

The Agent Skills spec loads every skill's name and description at start-up
("about 100 tokens") and the body on activation ("under 5,000 recommended");
skillyard's budget for a body is 2,000.  Both cuts here are deterministic, so
the same skill always renders the same bytes and prompt caches survive:

* :func:`catalog_entry` is ``name: description`` on one line, whitespace and
  invisible characters removed, cut at a word boundary with `` …``;
* :func:`cut_body` keeps whole leading sections (a section starts at a
  markdown heading outside code fences) and ends with a pointer saying what
  was left out and how to read on; a first section longer than the budget
  is cut at paragraphs, then at characters.

Tokens are estimated as ``ceil(characters / 4)`` (the brain's default
counter); callers that know their tokenizer pass ``count``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from registry.model import SkillManifest

__all__ = [
    "BODY_MAX_TOKENS",
    "CATALOG_ENTRY_MAX_TOKENS",
    "TokenCounter",
    "catalog_entry",
    "cut_body",
    "estimate_tokens",
]

CATALOG_ENTRY_MAX_TOKENS = 100
BODY_MAX_TOKENS = 2_000
TokenCounter = Callable[[str], int]
_ELLIPSIS = " …"
_HEADING = re.compile(r"^#{1,6}[ \t]+(\S.*?)[ \t#]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")
_DEFAULT_READ_ON = "Read the rest in SKILL.md."


def estimate_tokens(text: str) -> int:
    """``ceil(len(text) / 4)``: the usual estimate for English prose and code."""
    return (len(text) + 3) // 4


def _visible(text: str) -> str:
    """``text`` on one line: whitespace runs become one space, invisible characters go."""
    kept = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf") or c.isspace())
    return " ".join(kept.split())


def catalog_entry(
    manifest: SkillManifest,
    *,
    max_tokens: int = CATALOG_ENTRY_MAX_TOKENS,
    count: TokenCounter = estimate_tokens,
) -> str:
    """``name: description`` within ``max_tokens``, cut at a word boundary when too long."""
    head = f"{_visible(manifest.name)}: "
    words = _visible(manifest.description).split(" ")
    entry = head + " ".join(words)
    if count(entry) <= max_tokens:
        return entry
    low, high = 0, len(words)
    while low < high:  # the most words that fit together with the ellipsis
        middle = (low + high + 1) // 2
        if count(head + " ".join(words[:middle]) + _ELLIPSIS) <= max_tokens:
            low = middle
        else:
            high = middle - 1
    if low:
        return head + " ".join(words[:low]) + _ELLIPSIS
    return _cut_chars(entry, max_tokens, count, suffix=_ELLIPSIS)


def _cut_chars(text: str, max_tokens: int, count: TokenCounter, *, suffix: str = "") -> str:
    """The longest prefix of ``text`` that fits with ``suffix`` (binary search)."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if count(text[:middle] + suffix) <= max_tokens:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + suffix if low else ""


@dataclass(frozen=True, slots=True)
class _Section:
    line: int  # 1-based line of the body where it starts
    title: str
    text: str


def cut_body(
    body: str,
    max_tokens: int = BODY_MAX_TOKENS,
    *,
    read_on: str = _DEFAULT_READ_ON,
    count: TokenCounter = estimate_tokens,
) -> str:
    """``body`` whole if it fits, else its leading whole sections and a pointer to the rest.

    ``read_on`` ends the pointer: tell the model how it can read the rest
    (for example which tool to call).  The result never exceeds ``max_tokens``
    unless the pointer alone does.
    """
    if count(body) <= max_tokens:
        return body
    sections = _sections(body)
    kept, used = "", 0
    # Section i goes in only if it fits with the pointer to what would follow it.
    for index, section in enumerate(sections[:-1]):
        pointer = _pointer(sections[index + 1 :], max_tokens, read_on)
        if count((kept + section.text).rstrip("\n") + pointer) > max_tokens:
            break
        kept, used = kept + section.text, index + 1
    pointer = _pointer(sections[used:], max_tokens, read_on)
    if used:
        return kept.rstrip("\n") + pointer
    return _cut_section(sections[0].text, max_tokens, pointer, count)


def _sections(body: str) -> list[_Section]:
    sections: list[_Section] = []
    lines = body.splitlines(keepends=True)
    start, title, fenced = 0, "(introduction)", False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
        heading = None if fenced else _HEADING.match(line.rstrip("\n"))
        if heading is None:
            continue
        if index > start:
            sections.append(_Section(start + 1, title, "".join(lines[start:index])))
        start, title = index, heading.group(1)
    sections.append(_Section(start + 1, title, "".join(lines[start:])))
    return sections


def _pointer(rest: Sequence[_Section], max_tokens: int, read_on: str) -> str:
    titles = ", ".join(section.title for section in rest[:5])
    more = ", …" if len(rest) > 5 else ""
    return (
        f"\n\n[Cut at about {max_tokens} tokens: {len(rest)} more section(s) from line "
        f"{rest[0].line} ({titles}{more}). {read_on}]"
    )


def _cut_section(text: str, max_tokens: int, pointer: str, count: TokenCounter) -> str:
    """The first section alone is too long: keep whole paragraphs, else characters."""
    kept = ""
    for paragraph in text.split("\n\n"):
        candidate = f"{kept}\n\n{paragraph}" if kept else paragraph
        if count(_closed(candidate) + pointer) > max_tokens:
            break
        kept = candidate
    if not kept:
        kept = _cut_chars(text, max_tokens - count(pointer) - 2, count)
    return _closed(kept) + pointer


def _closed(text: str) -> str:
    """``text`` without trailing newlines, with a code fence it opened closed again."""
    text = text.rstrip("\n")
    fences = [m.group(1) for line in text.split("\n") if (m := _FENCE.match(line))]
    return f"{text}\n{fences[-1]}" if len(fences) % 2 else text
