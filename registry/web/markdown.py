"""A tiny, safe Markdown subset for SKILL.md bodies: everything is escaped first.

A skill's text is written by a stranger, so nothing in it is ever passed
through as HTML.  What is understood: ATX headings (shifted one level down,
so the page keeps one ``h1``), paragraphs, fenced code, bullet and numbered
lists, block quotes, rules, ``code``, ``**strong**``, ``*em*`` and links
whose target is an absolute ``http``/``https`` URL (shown with
``rel="nofollow noopener noreferrer ugc"``).  Any other link — ``javascript:``,
``data:``, a relative path — is shown as its text with the target in code,
never as a link.  Raw HTML shows as text.  Characters that hide or reorder
text (zero-width, bidirectional controls, Unicode tags) are replaced by a
visible ``⟨U+XXXX⟩`` marker, so what a reader sees is what the model reads.

Input is capped (:data:`MAX_RENDER_CHARS`, :data:`MAX_RENDER_LINES`); past
the cap a notice says the rest is in the package.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

__all__ = ["MAX_RENDER_CHARS", "MAX_RENDER_LINES", "escape", "render_markdown"]

MAX_RENDER_CHARS = 200_000
MAX_RENDER_LINES = 4_000

_HIDDEN = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]"
)
_INLINE = re.compile(
    r"`(?P<code>[^`\n]{1,1000})`"
    r"|\[(?P<text>[^\]\n]{1,500})\]\((?P<url>[^)\s]{1,2000})\)"
    r"|\*\*(?P<strong>[^*\n]{1,1000})\*\*"
    r"|\*(?P<em>[^*\s][^*\n]{0,999})\*"
)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s{0,3}[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s{0,3}\d{1,9}[.)]\s+(.*)$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")


def escape(text: str) -> str:
    """``text`` as HTML text, with hidden characters made visible."""
    escaped = html.escape(text, quote=True)
    return _HIDDEN.sub(lambda m: f'<span class="hidden-char">⟨U+{ord(m[0]):04X}⟩</span>', escaped)


def _link(text: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme in {"http", "https"} and parts.netloc:
        return f'<a href="{escape(url)}" rel="nofollow noopener noreferrer ugc">{escape(text)}</a>'
    return f"{escape(text)} (<code>{escape(url)}</code>)"


def _inline(text: str) -> str:
    out: list[str] = []
    position = 0
    for match in _INLINE.finditer(text):
        out.append(escape(text[position : match.start()]))
        if match["code"] is not None:
            out.append(f"<code>{escape(match['code'])}</code>")
        elif match["url"] is not None:
            out.append(_link(match["text"], match["url"]))
        elif match["strong"] is not None:
            out.append(f"<strong>{escape(match['strong'])}</strong>")
        else:
            out.append(f"<em>{escape(match['em'])}</em>")
        position = match.end()
    out.append(escape(text[position:]))
    return "".join(out)


def render_markdown(text: str) -> str:
    """Safe HTML for the Markdown ``text`` (a SKILL.md body, frontmatter already removed)."""
    truncated = len(text) > MAX_RENDER_CHARS
    lines = text[:MAX_RENDER_CHARS].splitlines()
    truncated = truncated or len(lines) > MAX_RENDER_LINES
    body = "\n".join(_blocks(lines[:MAX_RENDER_LINES]))
    if truncated:
        body += (
            '\n<p class="notice">The rest of this file is not shown here; it is in the package.</p>'
        )
    return body


def _blocks(lines: list[str]) -> Iterator[str]:
    index = 0
    paragraph: list[str] = []
    while index < len(lines):
        line = lines[index]
        block, index = _block(lines, index)
        if block is None:
            if line.strip():
                paragraph.append(line.strip())
            elif paragraph:
                yield _paragraph(paragraph)
                paragraph = []
            index += 1
            continue
        if paragraph:
            yield _paragraph(paragraph)
            paragraph = []
        yield block
    if paragraph:
        yield _paragraph(paragraph)


def _paragraph(lines: list[str]) -> str:
    return f"<p>{_inline(' '.join(lines))}</p>"


def _block(lines: list[str], index: int) -> tuple[str | None, int]:
    """The block starting at ``index`` and the index after it, or ``(None, index)``."""
    line = lines[index]
    if _FENCE.match(line):
        return _code(lines, index)
    heading = _HEADING.match(line)
    if heading:
        level = min(len(heading[1]) + 1, 6)
        return f"<h{level}>{_inline(heading[2])}</h{level}>", index + 1
    if _RULE.match(line):
        return "<hr>", index + 1
    for pattern, tag in ((_BULLET, "ul"), (_NUMBERED, "ol")):
        if pattern.match(line):
            return _list(lines, index, pattern, tag)
    if line.lstrip().startswith(">"):
        return _quote(lines, index)
    return None, index


def _code(lines: list[str], index: int) -> tuple[str, int]:
    fence = _FENCE.match(lines[index])
    assert fence is not None
    body: list[str] = []
    index += 1
    while index < len(lines) and not lines[index].lstrip().startswith(fence[1]):
        body.append(lines[index])
        index += 1
    return f"<pre><code>{escape(chr(10).join(body))}</code></pre>", index + 1


def _list(lines: list[str], index: int, pattern: re.Pattern[str], tag: str) -> tuple[str, int]:
    items: list[str] = []
    while index < len(lines):
        match = pattern.match(lines[index])
        if match:
            items.append(match[1])
        elif lines[index].startswith((" ", "\t")) and lines[index].strip() and items:
            items[-1] += " " + lines[index].strip()  # a continuation line
        else:
            break
        index += 1
    inner = "".join(f"<li>{_inline(item)}</li>" for item in items)
    return f"<{tag}>{inner}</{tag}>", index


def _quote(lines: list[str], index: int) -> tuple[str, int]:
    quoted: list[str] = []
    while index < len(lines) and lines[index].lstrip().startswith(">"):
        quoted.append(lines[index].lstrip()[1:].strip())
        index += 1
    return f"<blockquote><p>{_inline(' '.join(quoted))}</p></blockquote>", index
