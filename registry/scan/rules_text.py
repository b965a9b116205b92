"""Rules about text aimed at the model: injected instructions and hidden characters.

* ``prompt-injection``: instruction-override phrases ("ignore previous
  instructions", "disregard your rules"), fake role markers (``<system>``,
  ``<|im_start|>system``), "do not tell the user", "silently send",
  "disable your safety checks", and instructions hidden in HTML comments
  (invisible once the markdown is rendered).  Medium (review); high in the
  description, which every catalog shows the model; **low** when the phrase
  is quoted, in code, or next to words like "detect", "attack", "example" —
  defensive skills quote these phrases to recognise them, and in our corpus
  nearly every "ignore previous instructions" is one of them.
* ``hidden-unicode``: Unicode tag characters (an invisible copy of ASCII,
  **critical**; the hidden text is shown in the finding), variation-selector
  runs that can carry bytes and bidi controls (high), zero-width characters
  between ASCII letters (medium).  Emoji sequences and scripts that need
  ZWJ/ZWNJ are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from registry.scan.context import MATCH_LIMIT, Package, gated
from registry.scan.model import Finding, Severity
from registry.scan.source import SourceText

__all__ = ["hidden_unicode", "prompt_injection"]

_I = re.IGNORECASE
_INJECTION = gated(
    r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+)?(?:of\s+)?(?:the\s+|your\s+|my\s+)?"
    r"(?:previous|prior|above|preceding|earlier|original|system)\s+"
    r"(?:instructions?|prompts?|messages?|rules|directions|guidelines|context)"
    r"|\bdisregard\s+(?:all\s+|any\s+)?(?:your\s+)?(?:instructions|rules|guidelines|programming)"
    r"|<\|im_start\|>\s*system|<\s*/?\s*system\s*>|\[/?INST\]|^\s*(?:new\s+)?system\s+prompt\s*:"
    r"|\byou\s+are\s+now\s+(?:in\s+)?(?:DAN|developer\s+mode|jailbroken|unrestricted|unfiltered)"
    r"|\b(?:do\s+not|don't|never)\s+(?:tell|inform|alert|notify)\s+the\s+user"
    r"|\bwithout\s+(?:telling|informing|notifying|alerting)\s+the\s+user"
    r"|\b(?:secretly|silently|quietly|covertly)\s+(?:send|upload|exfiltrate|forward|copy|post)"
    r"|\bexfiltrate\s+(?:the|all|any|their|this|these|user\w*|data|credentials?|files?|keys?"
    r"|secrets?|tokens?|env\w*|passwords?)\b"
    r"|\b(?:disable|bypass|turn\s+off|ignore|override)\s+(?:your\s+|all\s+|the\s+|any\s+)?"
    r"(?:safety|guardrails?|security\s+(?:checks|restrictions|policies)|content\s+polic\w+)",
    (
        "ignore", "disregard", "forget", "override", "im_start", "system", "inst]", "you are now",
        "tell", "inform", "alert", "notify", "secretly", "silently", "quietly", "covertly",
        "exfiltrat", "disable", "bypass",
        "turn off",
    ),
    _I | re.MULTILINE,
)  # fmt: skip
# Words of a line that talks *about* an attack rather than making one.
_DEFENSIVE = re.compile(
    r"detect|block|pattern|example|attack|injection|malicious|suspicious|e\.g\.|such as|"
    r"protect|guard|defen[cs]|flag|reject|red[- ]team|threat|jailbreak|adversar|recogni[sz]e",
    _I,
)
_OPEN_QUOTE = re.compile("[\"'\u201c\u2018]\\s*$")
_COMMENT_CHARS = 2000
_COMMENT_ORDERS = re.compile(
    r"\b(?:ignore|you must|you should|always|never tell|assistant|as an ai|the agent|"
    r"the model|instructions?|system prompt|do not mention|send|upload)\b",
    _I,
)


def prompt_injection(package: Package) -> Iterator[Finding]:
    for text in package.texts:
        if text.is_script:
            continue
        for match in _INJECTION.finditer(text):
            yield _injection(text, match.start(), match.group(0))
        for start, comment in _html_comments(text):
            if _COMMENT_ORDERS.search(comment) and not _defensive(text, start):
                message = "instructions inside an HTML comment, hidden once rendered"
                yield text.finding("prompt-injection", Severity.MEDIUM, start, message)


def _html_comments(text: SourceText) -> Iterator[tuple[int, str]]:
    """``(start, body)`` of each ``<!-- ... -->``, in one pass (str.find, no backtracking)."""
    body, count = text.text, 0
    start = body.find("<!--")
    while start >= 0:
        end = body.find("-->", start + 4)
        if end < 0:
            return
        if count == MATCH_LIMIT:
            text.overflow.add("<!--")
            return
        count += 1
        yield start, body[start + 4 : end][:_COMMENT_CHARS]
        start = body.find("<!--", end + 3)


def _injection(text: SourceText, pos: int, found: str) -> Finding:
    phrase = " ".join(found.split())
    if _defensive(text, pos):
        message = f"quotes an injection phrase ({phrase!r}), apparently to recognise it"
        return text.finding("prompt-injection", Severity.LOW, pos, message)
    if text.in_frontmatter(pos):
        message = f"the description tells the model: {phrase!r}"
        return text.finding("prompt-injection", Severity.HIGH, pos, message)
    return text.finding("prompt-injection", Severity.MEDIUM, pos, f"tells the model: {phrase!r}")


def _defensive(text: SourceText, pos: int) -> bool:
    before = text.before(pos)
    quoted = before.count('"') % 2 == 1 or _OPEN_QUOTE.search(before)
    return bool(quoted or text.in_code(pos) or _DEFENSIVE.search(text.near(pos)))


# ----------------------------------------------------------------------------- hidden unicode

_SUSPECT = re.compile("[\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\U000e0000-\U000e01ef]")
_TAGS = re.compile("[\U000e0000-\U000e007f]+")
_SELECTORS = re.compile("[\U000e0100-\U000e01ef]{2,}")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_ZERO_WIDTH = re.compile(
    "[\u200b\u2060-\u2064\u180e]|(?<=[\x21-\x7e])[\u200c-\u200f\ufeff](?=[\x21-\x7e])"
)


def hidden_unicode(package: Package) -> Iterator[Finding]:
    for text in package.texts:
        if text.text.isascii() or not _SUSPECT.search(text.text):
            continue
        yield from _tag_runs(text)
        for pattern, severity, what in (
            (_SELECTORS, Severity.HIGH, "runs of variation selectors (they can hide bytes)"),
            (_BIDI, Severity.HIGH, "bidirectional control characters (text can read reversed)"),
            (_ZERO_WIDTH, Severity.MEDIUM, "zero-width characters between letters"),
        ):
            found = list(pattern.finditer(text.text))
            if found:
                message = f"{len(found)} occurrence(s) of {what}"
                yield text.finding("hidden-unicode", severity, found[0].start(), message)


def _tag_runs(text: SourceText) -> Iterator[Finding]:
    for match in _TAGS.finditer(text.text):
        hidden = "".join(chr(ord(c) - 0xE0000) for c in match.group(0) if ord(c) < 0xE007F)
        shown = "".join(c if c.isprintable() else "?" for c in hidden)[:120]
        message = f"invisible Unicode tag characters spelling {shown!r}"
        yield text.finding(
            "hidden-unicode", Severity.CRITICAL, match.start(), message, quotable=False
        )
