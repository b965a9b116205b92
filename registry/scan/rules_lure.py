"""Rules about luring the user (or the agent) into running something from elsewhere.

The ClawHavoc pattern (Koi Security, Feb 2026; 25 files in our corpus): a
plausible skill whose "Prerequisites" say it will not work without a helper
— a password-protected archive from a GitHub release for Windows, a command
from a paste site to run in Terminal for macOS.  The skill holds no payload,
so hashes and antivirus see nothing; the lure is the text.

* ``fake-prerequisite`` (**critical**): a download lure — an archive with a
  password, a paste site, a URL shortener, a raw public IP, or an
  executable download — inside install/run instructions ("Prerequisites",
  "run this in your Terminal", "will not work without", ...) or in the
  description itself, which reaches the model in every catalog.
* ``suspicious-download`` (medium): the same lure without such instructions.
* ``known-campaign`` (**critical**): indicators published for ClawHavoc.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from registry.scan.context import Package, gated, matches
from registry.scan.hosts import host_risk, urls
from registry.scan.model import Finding, Severity
from registry.scan.source import SourceText

__all__ = ["download_lures", "known_campaign"]

_I = re.IGNORECASE
_ARCHIVE = gated(r"\b[\w.-]+\.(?:zip|rar|7z)\b", (".zip", ".rar", ".7z"))
_PASSWORD = re.compile(
    r"\b(?:password|passwd|passcode|pass\s*:|pw\s*:)|\bextract\w*\s+(?:it\s+)?(?:using|with)\b", _I
)
_EXECUTABLE = re.compile(r"\.(?:exe|msi|dmg|pkg|scr|bat|cmd|vbs|apk|appimage)(?:[?#]\S*)?$", _I)
# A link the reader is told to fetch, open or run (a shortened link in prose is harmless).
_DOWNLOAD = re.compile(
    r"\b(?:download|install|run|execute|visit|open|curl|wget|iwr|invoke-webrequest|fetch|get)\b"
    r"|\]\(",
    _I,
)
# An executable is a lure when it is saved or run, not when an API endpoint ends in .exe.
_TO_DISK = re.compile(
    r"\b(?:download|install|run|execute|open|save|wget)\b|\s-[oO]\s|--output|\]\(", _I
)
_INSTRUCTION = re.compile(
    r"pre-?requisite|\bbefore (?:using|starting|proceeding|running|you (?:begin|start|use|run))"
    r"|\b(?:run|execute|paste|copy|enter)\b[^\n]{0,60}\b(?:in|into) (?:your |the |a )?terminal\b"
    r"|installation command|mandatory|required (?:setup|download|utility|tool)"
    r"|\b(?:will not|won't|cannot|can't) (?:work|function|run)\b|without (?:this|it) installed"
    r"|must be (?:running|installed|active)|\bcritical\b|download and (?:run|install|open|execute)",
    _I,
)
_INDICATORS = gated(
    r"91\.92\.242\.30|\bopenclawcli\b|\bAuthTool\.(?:zip|exe)\b|PolymarketAuthTool"
    r"|glot\.io/snippets/hfd3x9ueu5|github\.com/Ddoy233/|github\.com/Aslaep123/"
    r"|ClawdAuthenticatorTool",
    ("91.92.242.30", "openclawcli", "authtool", "glot.io", "ddoy233", "aslaep123", "clawdauth"),
)
_CONTEXT_LINES = 8


@dataclass(frozen=True, slots=True)
class _Lure:
    pos: int
    what: str


def download_lures(package: Package) -> Iterator[Finding]:
    for text in package.texts:
        for lure in _lures(text):
            if text.in_frontmatter(lure.pos) or _instructed(text, lure.pos):
                where = "the description" if text.in_frontmatter(lure.pos) else "instructions"
                message = f"{where} send the reader to {lure.what} to install or run a helper"
                yield text.finding("fake-prerequisite", Severity.CRITICAL, lure.pos, message)
            else:
                message = f"links to {lure.what}"
                yield text.finding("suspicious-download", Severity.MEDIUM, lure.pos, message)


def _lures(text: SourceText) -> Iterator[_Lure]:
    for url in urls(text):
        risk = host_risk(url.host)
        line = text.near(url.start)
        downloaded = _DOWNLOAD.search(line)
        if risk is not None and (downloaded or not risk.startswith("the URL shortener")):
            yield _Lure(url.start, risk)
        elif _TO_DISK.search(line) and _EXECUTABLE.search(url.text):
            yield _Lure(url.start, f"an executable download ({url.text.rsplit('/', 1)[-1]})")
    for match in _ARCHIVE.finditer(text):
        if _PASSWORD.search(text.near(match.start(), lines=2)):
            yield _Lure(match.start(), f"a password-protected archive ({match.group(0)})")


def _instructed(text: SourceText, pos: int) -> bool:
    nearby = text.near(pos, lines=_CONTEXT_LINES, width=2000)
    return bool(_INSTRUCTION.search(text.section(pos)) or _INSTRUCTION.search(nearby))


def known_campaign(package: Package) -> Iterator[Finding]:
    for text, pos, found in matches(_INDICATORS, package.texts):
        message = f"matches a published ClawHavoc indicator: {found}"
        yield text.finding("known-campaign", Severity.CRITICAL, pos, message)
