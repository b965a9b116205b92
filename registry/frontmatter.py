"""Split ``SKILL.md`` text into YAML frontmatter and a markdown body (pure text, no I/O).

Agent Skills spec: the file starts with a ``---`` line, the YAML frontmatter
follows, and a second ``---`` line closes it; the rest is the body.  Real files
add a UTF-8 BOM, CRLF line ends or blank lines before the opening fence; we
accept those, and a missing closing fence, reporting each so that a strict
check can refuse them.

:func:`quote_plain_values` is the lenient retry that the spec's client guide
recommends for the commonest authoring error, an unquoted ``: `` inside a
value (``description: Use when: ...``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SplitDocument", "quote_plain_values", "split_frontmatter"]

_FENCE = "---"
_TOP_LEVEL_SCALAR = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.-]*):[ \t]+(\S.*?)[ \t]*$")
# A value starting with one of these is quoted, flow, block, anchor, alias,
# tag or comment syntax: leave it to the YAML parser.
_STRUCTURED_START = tuple("'\"[{|>&*!#")
# Characters YAML reserves at the start of a plain scalar.
_RESERVED_START = tuple("`@%")


@dataclass(frozen=True, slots=True)
class SplitDocument:
    """A SKILL.md split in two; ``yaml_line`` is the file line where the YAML starts."""

    yaml_text: str
    body: str
    yaml_line: int
    had_bom: bool
    had_crlf: bool
    closed: bool = True


def split_frontmatter(text: str) -> SplitDocument | None:
    """Split ``text`` at its ``---`` fences; ``None`` when it has no frontmatter."""
    had_bom = text.startswith("\ufeff")
    had_crlf = "\r\n" in text
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    if start == len(lines) or lines[start].rstrip() != _FENCE:
        return None
    end = _closing_line(lines, start)
    return SplitDocument(
        yaml_text="\n".join(lines[start + 1 : end]),
        body="\n".join(lines[end + 1 :]).strip("\n"),
        yaml_line=start + 2,
        had_bom=had_bom,
        had_crlf=had_crlf,
        closed=end < len(lines) and lines[end].rstrip() == _FENCE,
    )


def _closing_line(lines: list[str], start: int) -> int:
    """The closing fence; when there is none, the first blank line ends the YAML.

    Authors who forget the closing ``---`` almost always follow the keys with a
    blank line and a heading, so this recovers their name and description.
    """
    rest = range(start + 1, len(lines))
    fence = next((i for i in rest if lines[i].rstrip() == _FENCE), None)
    if fence is not None:
        return fence
    return next((i for i in rest if not lines[i].strip()), len(lines))


def quote_plain_values(yaml_text: str) -> str | None:
    """Single-quote top-level plain values that plain YAML cannot hold.

    A value is repaired when it contains ``": "``, ends with ``":"`` or starts
    with a reserved character; its indented continuation lines are folded
    into it, as YAML would fold them.  Returns ``None`` when nothing changed.
    """
    lines = yaml_text.split("\n")
    out: list[str] = []
    start = 0
    while start < len(lines):
        end = _entry_end(lines, start)
        out.extend(_repaired(lines[start:end]) or lines[start:end])
        start = end
    return "\n".join(out) if out != lines else None


def _plain_entry(line: str) -> re.Match[str] | None:
    """``key: value`` at the top level with a plain (unquoted, non-flow) value."""
    match = _TOP_LEVEL_SCALAR.match(line)
    return None if match is None or match.group(2).startswith(_STRUCTURED_START) else match


def _entry_end(lines: list[str], start: int) -> int:
    """One past the last line of the entry at ``start``, continuation lines included."""
    end = start + 1
    if _plain_entry(lines[start]) is None:
        return end
    while end < len(lines) and lines[end][:1] in (" ", "\t") and lines[end].strip():
        end += 1
    return end


def _repaired(entry: list[str]) -> list[str] | None:
    match = _plain_entry(entry[0])
    if match is None:
        return None
    value = " ".join([match.group(2), *(line.strip() for line in entry[1:])])
    if not _needs_quotes(value):
        return None
    quoted = value.replace("'", "''")
    # Blank lines stand in for the folded ones, so that error line numbers
    # still point into the author's file.
    return [f"{match.group(1)}: '{quoted}'", *[""] * (len(entry) - 1)]


def _needs_quotes(value: str) -> bool:
    return ": " in value or value.endswith(":") or value.startswith(_RESERVED_START)
