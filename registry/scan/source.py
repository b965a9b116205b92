"""A package file as text the rules can search: lines, markdown context, safe excerpts.

Rules work on whole texts with ``re.finditer`` (one pass per pattern, no
per-line loops), then ask a :class:`SourceText` where a match is: its line,
its markdown section, whether it is in code, and an excerpt that is safe to
show anywhere (invisible and control characters escaped, at most
:data:`EXCERPT_CHARS` long).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from enum import Enum

from registry.files import PackageFile
from registry.scan.model import Finding, Severity

__all__ = ["EXCERPT_CHARS", "NEAR_CHARS", "FileKind", "SourceText", "decode"]

EXCERPT_CHARS = 160
# How far (in characters) rules look around a match; bounds work on hostile long lines.
NEAR_CHARS = 500
_SCRIPT_SUFFIXES = (
    ".py", ".sh", ".bash", ".zsh", ".js", ".mjs", ".cjs", ".ts", ".rb", ".pl", ".ps1", ".php",
)  # fmt: skip
_MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdx", ".txt", ".rst")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.*)$", re.MULTILINE)
_FENCE = re.compile(r"^[ \t]{0,3}(?:```|~~~)", re.MULTILINE)
_NEWLINE = re.compile("\n")
# Words of text that talks *about* an attack (documentation, detectors, test cases).
_DEFENSIVE = re.compile(
    r"detect|attack|malicious|suspicious|(?<![./\w-])examples?\b(?![.\w-])|e\.g\.|such as"
    r"|exploit|jailbreak|threat"
    r"|red[- ]team|adversar|recogni[sz]e|\bevil|defen[cs]e|warning sign|red flag|scanner",
    re.IGNORECASE,
)


class FileKind(Enum):
    SKILL_MD = "skill-md"
    MARKDOWN = "markdown"
    SCRIPT = "script"
    OTHER = "other"


def _kind(path: str, text: str) -> FileKind:
    name = path.rsplit("/", 1)[-1].lower()
    if "/" not in path and name == "skill.md":
        return FileKind.SKILL_MD
    if name.endswith(_SCRIPT_SUFFIXES) or text.startswith("#!"):
        return FileKind.SCRIPT
    if name.endswith(_MARKDOWN_SUFFIXES):
        return FileKind.MARKDOWN
    return FileKind.OTHER


def decode(file: PackageFile) -> SourceText | None:
    """``file`` as text, or ``None`` for binary data (NUL bytes or not UTF-8)."""
    if b"\x00" in file.data[:8192]:
        return None
    try:
        text = file.data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return SourceText(file.path, text)


class SourceText:
    """One decoded file; line, fence and heading indexes are built on first use."""

    __slots__ = (
        "_fences", "_headings", "_longest", "_lower", "_starts", "frontmatter_end", "kind",
        "overflow", "path", "text",
    )  # fmt: skip

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.kind = _kind(path, text)
        self.frontmatter_end = self._frontmatter_end()
        self.overflow: set[str] = set()  # patterns that hit their match limit (context.Gated)
        self._lower: str | None = None
        self._longest: int | None = None
        self._starts: list[int] | None = None
        self._fences: list[int] | None = None
        self._headings: list[tuple[int, str]] | None = None

    def _frontmatter_end(self) -> int:
        if self.kind is not FileKind.SKILL_MD or not self.text.lstrip("\ufeff").startswith("---"):
            return 0
        end = self.text.find("\n---", 3)
        return end if end >= 0 else 0

    @property
    def lower(self) -> str:
        """The text in lower case, for keyword gates (computed once)."""
        if self._lower is None:
            self._lower = self.text.lower()
        return self._lower

    @property
    def starts(self) -> list[int]:
        if self._starts is None:
            self._starts = [0] + [m.end() for m in _NEWLINE.finditer(self.text)]
        return self._starts

    @property
    def fences(self) -> list[int]:
        if self._fences is None:
            self._fences = [m.start() for m in _FENCE.finditer(self.text)]
        return self._fences

    @property
    def headings(self) -> list[tuple[int, str]]:
        if self._headings is None:
            found = _HEADING.finditer(self.text)
            self._headings = [(m.start(), m.group(1).strip()) for m in found]
        return self._headings

    @property
    def is_script(self) -> bool:
        return self.kind is FileKind.SCRIPT

    def long_lines(self, length: int) -> list[tuple[int, int]]:
        """``(start, end)`` of every line at least ``length`` characters long."""
        if self._longest is None:
            self._longest = max(map(len, self.text.split("\n")))
        if self._longest < length:
            return []
        starts, size = self.starts, len(self.text)
        bounds = zip(starts, [*starts[1:], size + 1], strict=True)
        return [(start, end - 1) for start, end in bounds if end - 1 - start >= length]

    def line_of(self, pos: int) -> int:
        return bisect.bisect_right(self.starts, pos)

    def near(self, pos: int, lines: int = 0, width: int = NEAR_CHARS) -> str:
        """The text around ``pos``: its line and ``lines`` lines either side, at most
        ``width`` characters each way (a hostile file may be one 1 MiB line)."""
        line = self.line_of(pos)
        start = self.starts[max(line - 1 - lines, 0)]
        last = line + lines
        end = self.starts[last] - 1 if last < len(self.starts) else len(self.text)
        return self.text[max(start, pos - width) : min(end, pos + width)]

    def before(self, pos: int, lines: int = 0, width: int = NEAR_CHARS) -> str:
        """The text before ``pos`` on its line (and ``lines`` lines above), bounded by ``width``."""
        start = self.starts[max(self.line_of(pos) - 1 - lines, 0)]
        return self.text[max(start, pos - width) : pos]

    def in_code(self, pos: int) -> bool:
        """Inside a fenced code block, or inside backticks on its line."""
        if bisect.bisect_right(self.fences, pos) % 2 == 1:
            return True
        return self.before(pos).count("`") % 2 == 1

    def in_frontmatter(self, pos: int) -> bool:
        return pos < self.frontmatter_end

    def section(self, pos: int) -> str:
        """The title of the markdown section ``pos`` is in ('' before any heading)."""
        index = bisect.bisect_right(self.headings, (pos, "\uffff")) - 1
        return self.headings[index][1][:NEAR_CHARS] if index >= 0 else ""

    def excerpt(self, pos: int) -> str:
        """Up to :data:`EXCERPT_CHARS` of ``pos``'s line, starting a little before it."""
        start = pos - len(self.before(pos, width=EXCERPT_CHARS // 3))
        end = self.text.find("\n", pos, start + EXCERPT_CHARS)
        cut = self.text[start : end if end >= 0 else start + EXCERPT_CHARS].strip()
        return "".join(_shown(char) for char in cut)[:EXCERPT_CHARS]

    def describes_attack(self, pos: int) -> bool:
        """True when prose around ``pos`` talks about attacks (never for scripts).

        Looks at the line, the two before it and the section's heading.
        """
        if self.is_script:
            return False
        context = self.before(pos, lines=2) + self.near(pos)
        return bool(_DEFENSIVE.search(context) or _DEFENSIVE.search(self.section(pos)))

    def finding(
        self, rule: str, severity: Severity, pos: int, message: str, *, quotable: bool = True
    ) -> Finding:
        """A finding at ``pos``.  A ``quotable`` critical finding in prose that describes
        attacks is lowered to high: documentation of an attack goes to review, not a block.
        """
        if quotable and severity is Severity.CRITICAL and self.describes_attack(pos):
            severity = Severity.HIGH
            message += " (in text that describes attacks: review)"
        return Finding(rule, severity, self.path, self.line_of(pos), self.excerpt(pos), message)


def _shown(char: str) -> str:
    """Invisible, control and bidi characters as ``\\uXXXX`` so an excerpt cannot hide text."""
    if char == "\t" or unicodedata.category(char) not in ("Cc", "Cf", "Co", "Cn", "Zl", "Zp"):
        return char
    return f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"
