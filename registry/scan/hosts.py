"""URLs in text and what their hosts say: paste sites, shorteners, raw public IPs.

ClawHavoc's payloads sat behind exactly these (glot.io snippets, a raw IP
C2, GitHub release archives); a legitimate skill almost never sends a user
to one.  Private, loopback and documentation addresses are local devices
(routers, NAS boxes) and do not count as raw-IP downloads.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass

from registry.scan.context import gated
from registry.scan.source import SourceText

__all__ = ["PASTE_SITES", "SHORTENERS", "Url", "host_risk", "urls", "urls_in"]

PASTE_SITES = frozenset(
    {
        "glot.io", "pastebin.com", "paste.ee", "rentry.co", "rentry.org", "hastebin.com",
        "hastebin.skyra.pw", "ghostbin.com", "ghostbin.co", "controlc.com", "justpaste.it",
        "dpaste.org", "dpaste.com", "pastes.io", "paste.rs", "termbin.com", "ix.io",
        "sprunge.us", "privatebin.net", "0bin.net", "pastebin.pl", "paste.mozilla.org",
        "katb.in", "pastie.org", "bpa.st", "paste.gg",
    }
)  # fmt: skip
SHORTENERS = frozenset(
    {
        "bit.ly", "tinyurl.com", "t.co", "goo.gl", "is.gd", "cutt.ly", "rebrand.ly", "ow.ly",
        "shorturl.at", "tiny.cc", "rb.gy", "t.ly", "buff.ly", "s.id", "v.gd", "tr.im",
    }
)  # fmt: skip
_URL = gated(
    r"\b(?:https?|ftp)://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::\d+)?[^\s\"'`<>)\]]*",
    ("://",),
    limit=2000,  # link-heavy reference pages hold hundreds
)


@dataclass(frozen=True, slots=True)
class Url:
    start: int
    text: str
    host: str


def urls(text: SourceText) -> Iterator[Url]:
    """Every URL in ``text``."""
    for match in _URL.finditer(text):
        yield Url(match.start(), match.group(0), match.group(1).lower().rstrip("."))


def urls_in(line: str) -> Iterator[Url]:
    """Every URL in one line of text."""
    for match in _URL.pattern.finditer(line):
        yield Url(match.start(), match.group(0), match.group(1).lower().rstrip("."))


def host_risk(host: str) -> str | None:
    """Why a download from ``host`` is suspect ("a paste site", ...), or ``None``."""
    bare = host.removeprefix("www.")
    if bare in PASTE_SITES:
        return f"the paste site {bare}"
    if bare in SHORTENERS:
        return f"the URL shortener {bare}"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return f"the raw IP address {address}" if address.is_global else None
