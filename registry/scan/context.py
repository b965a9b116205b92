"""What every rule sees (the package's texts, binary files and manifest), and gated patterns.

Most rules look for phrases that almost no file contains, and Python's
``re`` tries every alternative of a pattern at every position: a dozen
case-insensitive alternatives cost about a microsecond per character.  A
:class:`Gated` pattern therefore names lowercase literals ("keys"), one of
which every match contains.  The keys are found with ``str.find`` on the
lower-cased text (C speed), and the pattern only runs on the lines around
them (the key's line and one line either side, merged where they touch).
So a gated pattern's matches must fit within three lines, which all the
rules' phrases do; patterns that can match long runs use no keys and scan
everything.  This keeps a scan of the 2,679-file corpus in seconds.

Hostile files get two more bounds.  Windows reach at most
:data:`WINDOW_CHARS` either side of a key, however long the line; and a
pattern yields at most ``limit`` matches per file (real skills peak below a
hundred).  When a file has more, the rest is not examined and the file is
noted in :attr:`SourceText.overflow`; the engine turns that into a
``scan-limit`` finding, so padding a payload with thousands of decoys buys
a review, not a pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from registry.files import PackageFile
from registry.model import LoadedSkill
from registry.scan.model import Finding
from registry.scan.source import SourceText

__all__ = ["MATCH_LIMIT", "WINDOW_CHARS", "Check", "Gated", "Package", "gated", "matches"]

MATCH_LIMIT = 250
WINDOW_CHARS = 1000


@dataclass(frozen=True, slots=True)
class Package:
    """The scanned package; ``skill`` is ``None`` when its manifest could not be loaded."""

    texts: tuple[SourceText, ...]
    binaries: tuple[PackageFile, ...]
    skill: LoadedSkill | None

    def scripts(self) -> Iterator[SourceText]:
        return (text for text in self.texts if text.is_script)


Check = Callable[[Package], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Gated:
    """``pattern``, run only around occurrences of ``keys`` (lowercase literals).

    Every match of ``pattern`` must contain one of ``keys`` (ignoring case)
    and span at most three lines, or the gate would hide it;
    ``tests/registry/test_scan_rules.py`` runs every rule's fixtures through
    its gates.  Empty ``keys``: the pattern scans the whole text.
    """

    pattern: re.Pattern[str]
    keys: tuple[str, ...]
    min_line: int = 0
    limit: int = MATCH_LIMIT

    def finditer(self, text: SourceText) -> Iterator[re.Match[str]]:
        """The matches in ``text``, at most :attr:`limit` (then ``text.overflow`` notes it)."""
        for count, match in enumerate(self._all(text)):
            if count == self.limit:
                text.overflow.add(self.keys[0] if self.keys else self.pattern.pattern[:30])
                return
            yield match

    def _all(self, text: SourceText) -> Iterator[re.Match[str]]:
        if self.min_line:
            for start, end in text.long_lines(self.min_line):
                yield from self.pattern.finditer(text.text, start, end)
            return
        if not self.keys or len(text.lower) != len(text.text):
            # No keys, or lower-casing moved positions (rare letters such as U+0130).
            yield from self.pattern.finditer(text.text)
            return
        for start, end in _windows(text, self.keys):
            yield from self.pattern.finditer(text.text, start, end)


def _windows(text: SourceText, keys: tuple[str, ...]) -> list[tuple[int, int]]:
    """Disjoint ``(start, end)`` ranges: each key's line and one line either side,
    at most :data:`WINDOW_CHARS` either way."""
    lower, body, reach = text.lower, text.text, WINDOW_CHARS
    spans: list[tuple[int, int]] = []
    for key in keys:
        found = lower.find(key)
        while found >= 0:
            floor, ceiling = max(0, found - reach), found + len(key) + reach
            start = body.rfind("\n", floor, max(body.rfind("\n", floor, found), floor)) + 1
            after = body.find("\n", found + len(key), ceiling)
            end = body.find("\n", after + 1, ceiling) if after >= 0 else -1
            spans.append((max(start, floor), min(len(body), ceiling) if end < 0 else end))
            found = lower.find(key, found + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def gated(
    regex: str,
    keys: Iterable[str],
    flags: int = re.IGNORECASE,
    *,
    min_line: int = 0,
    limit: int = MATCH_LIMIT,
) -> Gated:
    """A :class:`Gated` pattern; ``min_line``: matches are single lines at least this long."""
    return Gated(re.compile(regex, flags), tuple(keys), min_line, limit)


def matches(gate: Gated, texts: Iterable[SourceText]) -> Iterator[tuple[SourceText, int, str]]:
    """``(text, position, matched text)`` for every match of ``gate`` in ``texts``."""
    for text in texts:
        for match in gate.finditer(text):
            yield text, match.start(), match.group(0)
