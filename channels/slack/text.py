"""Slack message text → plain text for the model, plus who it mentions.  Pure.

Slack escapes ``& < >`` as ``&amp; &lt; &gt;`` and writes references in angle
brackets (Slack: "Formatting text for app surfaces"):

=================================  ==========================
``<@U123>``, ``<@U123|alice>``     ``@U123``, ``@alice`` (a mention)
``<#C123>``, ``<#C123|general>``   ``#C123``, ``#general``
``<!here>``, ``<!channel>``        ``@here``, ``@channel``
``<!subteam^S1|@devs>``            ``@devs``
``<!date^…|fallback>``             ``fallback``
``<https://x.org|docs>``           ``docs (https://x.org)``
``<https://x.org>``                ``https://x.org``
``<mailto:a@x.org|Ann>``           ``Ann (a@x.org)``
=================================  ==========================

A mention of the bot at the very start (``@bot /calculator 6*7``) addresses
the message to the bot: it is reported as a mention and left out of the text,
so that a command after it still starts the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.events import Mention

__all__ = ["Decoded", "decode"]

_REFERENCE = re.compile(r"<([^<>]*)>")
_LEADING_MENTION = re.compile(r"\s*<@([A-Z0-9]+)(?:\|[^<>]*)?>[:,]?\s*")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))  # &amp; last: "&amp;lt;" is "&lt;"
_BROADCASTS = frozenset({"here", "channel", "everyone"})


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    mentions: tuple[Mention, ...]


def decode(text: str, bot_user_id: str) -> Decoded:
    """``text`` as people read it; ``bot_user_id`` marks the bot's own mentions."""
    _, mentions = _decode(text, bot_user_id)
    leading = _LEADING_MENTION.match(text)
    if leading is not None and leading.group(1) == bot_user_id:
        text = text[leading.end() :]
    plain, _ = _decode(text, bot_user_id)
    return Decoded(plain.strip(), tuple(mentions))


def _decode(text: str, bot_user_id: str) -> tuple[str, list[Mention]]:
    parts: list[str] = []
    mentions: list[Mention] = []
    position = 0
    for match in _REFERENCE.finditer(text):
        parts.append(_unescape(text[position : match.start()]))
        shown, mention = _reference(match.group(1), bot_user_id)
        parts.append(shown)
        if mention is not None:
            mentions.append(mention)
        position = match.end()
    parts.append(_unescape(text[position:]))
    return "".join(parts), mentions


def _reference(inner: str, bot_user_id: str) -> tuple[str, Mention | None]:
    target, _, label = inner.partition("|")
    label = _unescape(label)
    if target.startswith("@"):
        user_id = target[1:]
        shown = f"@{label.removeprefix('@') or user_id}"
        if not user_id:  # "<@>" names nobody
            return shown, None
        return shown, Mention(user_id, shown, is_self=user_id == bot_user_id)
    if target.startswith("#"):
        return f"#{label or target[1:]}", None
    if target.startswith("!"):
        return _special(target[1:], label), None
    return _link(_unescape(target), label), None


def _special(command: str, label: str) -> str:
    name = command.split("^", 1)[0]
    if name in _BROADCASTS:
        return f"@{name}"
    if name == "subteam":
        return label or "@group"
    return label or name  # <!date^…|fallback> and future commands: the fallback text


def _link(target: str, label: str) -> str:
    address = target.removeprefix("mailto:")
    if not label or label in (address, target):
        return address
    return f"{label} ({address})"


def _unescape(text: str) -> str:
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text
