"""Reading long text a page at a time, by lines, within a character budget.

``read_file`` and ``read_skill_resource`` return whole lines from a 1-based
``offset``; a page ends before the line that would overflow the budget (or
after ``limit`` lines) with a footer giving the absolute line numbers and the
offset to read on from.  Whole lines keep code and tables intact, and
absolute numbers let a pointer elsewhere ("from line 57") be followed.
"""

from __future__ import annotations

__all__ = ["FOOTER_ROOM", "page"]

FOOTER_ROOM = 120  # chars a caller keeps free for the footer within its cap


def page(text: str, offset: int = 1, limit: int | None = None, *, budget: int) -> str:
    """Lines ``offset``… of ``text`` within ``budget`` chars (at least one line), plus a
    footer unless the page is the whole text."""
    lines = text.splitlines(keepends=True)
    start = offset - 1
    if start >= len(lines) and (lines or offset > 1):
        return f"[no lines from {offset}: the text has {len(lines)} lines]"
    end = len(lines) if limit is None else min(len(lines), start + limit)
    chosen: list[str] = []
    size = 0
    for line in lines[start:end]:
        if chosen and size + len(line) > budget:
            break
        chosen.append(line)
        size += len(line)
    last = start + len(chosen)
    if start == 0 and last == len(lines):
        return text
    more = f"; read on with offset {last + 1}" if last < len(lines) else ""
    body = "".join(chosen)
    newline = "" if body.endswith("\n") else "\n"
    return f"{body}{newline}[lines {offset}-{last} of {len(lines)}{more}]"
