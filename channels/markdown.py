"""Turn the model's markdown into each platform's dialect, escaping everything else.

Models write CommonMark-ish text: ``**bold**``, ``*italic*``/``_italic_``,
``~~strike~~``, ``inline code``, fenced code blocks, ``[text](url)`` links and
``#`` headings.  Each platform wants something else:

* Telegram: HTML (``parse_mode=HTML``) with ``& < >`` escaped; only the tags
  the Bot API accepts (``b i s code pre a``); links only for http(s).
* Slack: mrkdwn, where ``*bold*``, ``_italic_``, ``~strike~`` and ``<url|text>``
  are the syntax and ``& < >`` must be escaped (Slack: "Formatting text").
* Discord: markdown already; only mass mentions are defused.

Text inside code is never formatted, only escaped.  Markers that do not pair
up on one line stay as they are, so ``2*3*4`` is not italicised and a reply
cut mid-stream still renders (an unterminated fence is treated as code to the
end).  The output is always well-formed for the target.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from channels.base import Dialect

__all__ = ["render"]

_FENCE = re.compile(r"^\s*(```|~~~)\s*([\w+#.-]*)\s*$")
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC = re.compile(
    r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"
    r"|(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])"
)
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_LINK = re.compile(r"\[([^\]\n]+)\]\((\S+?)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
_MASS_MENTION = re.compile(r"@(everyone|here)\b")


def render(text: str, dialect: Dialect) -> str:
    """``text`` (model markdown) in ``dialect``."""
    if dialect is Dialect.PLAIN:
        return text
    if dialect is Dialect.DISCORD_MARKDOWN:
        return _MASS_MENTION.sub("@\u200b\\1", text)
    style = _TELEGRAM if dialect is Dialect.TELEGRAM_HTML else _SLACK
    return "\n".join(_render_lines(text.split("\n"), style))


class _Style:
    def __init__(
        self,
        *,
        escape: Callable[[str], str],
        code_block: Callable[[str, list[str]], list[str]],
        code: Callable[[str], str],
        bold: str,
        italic: str,
        strike: str,
        link: Callable[[str, str], str],
        well_formed: Callable[[str], bool] = lambda text: True,
    ) -> None:
        self.escape = escape
        self.code_block = code_block
        self.code = code
        self.bold = bold
        self.italic = italic
        self.strike = strike
        self.link = link
        self.well_formed = well_formed


def _render_lines(lines: list[str], style: _Style) -> list[str]:
    out: list[str] = []
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        if fence is None:
            out.append(_render_line(lines[index], style))
            index += 1
            continue
        end = next((j for j in range(index + 1, len(lines)) if _FENCE.match(lines[j])), len(lines))
        out.extend(style.code_block(fence.group(2), lines[index + 1 : end]))
        index = end + 1
    return out


def _render_line(line: str, style: _Style) -> str:
    heading = _HEADING.match(line)
    if heading is not None:
        return style.bold.format(_render_inline(heading.group(1), style))
    return _render_inline(line, style)


def _render_inline(text: str, style: _Style) -> str:
    """Formats text outside inline code spans; code spans are only escaped."""
    parts: list[str] = []
    position = 0
    for match in _INLINE_CODE.finditer(text):
        parts.append(_format(text[position : match.start()], style))
        parts.append(style.code(match.group(2)))
        position = match.end()
    parts.append(_format(text[position:], style))
    return "".join(parts)


def _format(text: str, style: _Style) -> str:
    """Inline formatting; overlapping markers (``*a **b* c**``) fall back to plain."""
    text = text.replace("\x00", "")  # NUL marks the link placeholders below
    formatted = _format_spans(text, style)
    return formatted if style.well_formed(formatted) else style.escape(text)


def _format_spans(text: str, style: _Style) -> str:
    links: list[str] = []

    def keep_link(match: re.Match[str]) -> str:
        links.append(style.link(match.group(1), match.group(2)))
        return f"\x00{len(links) - 1}\x00"

    text = _LINK.sub(keep_link, text)
    text = style.escape(text)
    # Italic first: Slack's bold is *x*, which the italic pattern would take again.
    text = _ITALIC.sub(lambda m: style.italic.format(m.group(1) or m.group(2)), text)
    text = _BOLD.sub(lambda m: style.bold.format(m.group(2)), text)
    text = _STRIKE.sub(lambda m: style.strike.format(m.group(1)), text)
    return re.sub(r"\x00(\d+)\x00", lambda m: links[int(m.group(1))], text)


# -- Telegram HTML -----------------------------------------------------------


def _telegram_escape(text: str) -> str:
    return html.escape(text, quote=False)


_TAG = re.compile(r"<(/?)(b|i|s|code|pre|a)\b[^>]*>")


def _telegram_well_formed(text: str) -> bool:
    """Tags properly nested: the Bot API refuses the message otherwise."""
    stack: list[str] = []
    for match in _TAG.finditer(text):
        closing, name = match.group(1), match.group(2)
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def _telegram_link(label: str, url: str) -> str:
    if not re.match(r"https?://", url):
        return _telegram_escape(f"{label} ({url})")
    return f'<a href="{html.escape(url, quote=True)}">{_telegram_escape(label)}</a>'


def _telegram_block(language: str, body: list[str]) -> list[str]:
    code = _telegram_escape("\n".join(body))
    attribute = f' class="language-{html.escape(language, quote=True)}"' if language else ""
    return [f"<pre><code{attribute}>{code}</code></pre>"]


_TELEGRAM = _Style(
    escape=_telegram_escape,
    code_block=_telegram_block,
    code=lambda code: f"<code>{_telegram_escape(code)}</code>",
    bold="<b>{}</b>",
    italic="<i>{}</i>",
    strike="<s>{}</s>",
    link=_telegram_link,
    well_formed=_telegram_well_formed,
)


# -- Slack mrkdwn ------------------------------------------------------------


def _slack_escape(text: str) -> str:
    # Slack: only & < > are control characters; escape them and nothing else.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(label: str, url: str) -> str:
    if not re.match(r"https?://", url) or any(c in url for c in "|<>"):
        return _slack_escape(f"{label} ({url})")
    return f"<{url}|{_slack_escape(label).replace('|', '/')}>"


_SLACK = _Style(
    escape=_slack_escape,
    code_block=lambda language, body: ["```", *(_slack_escape(b) for b in body), "```"],
    code=lambda code: f"`{_slack_escape(code)}`",
    bold="*{}*",
    italic="_{}_",
    strike="~{}~",
    link=_slack_link,
)
