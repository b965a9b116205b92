"""Rules about code that fetches or hides what it runs.

* ``remote-exec``: a download piped into an interpreter (``curl … | sh``,
  ``wget -O- … | bash``, ``iwr … | iex``, ``bash <(curl …)``,
  ``python -c "…urlopen…exec…"``).  Review, since real installers do it
  (rustup, uv, bun); **critical** when the URL is a raw public IP, a paste
  site or a shortener, which no real installer uses.
* ``decode-exec``: encoded text decoded and executed (``base64 -d | sh``,
  ``eval(atob(…))``, ``exec(base64.b64decode(…))``, ``powershell -enc``,
  ``exec(''.join(chr(…)))``): **critical**, there is no honest reason.
* ``obfuscated-blob``: long base64 or hex runs, ``\\xNN`` escape chains and
  ``chr()`` joins, where nothing says they are executed: review.
* ``crypto-miner``: xmrig, ``stratum+tcp://``, mining pools: **critical**.
* ``unpinned-fetch``: runtime installs without a version (``pip install x``,
  ``npx x@latest``, ``uvx x``, ``go install …@latest``): low, shown only;
  an OpenClaw ``download`` install spec without ``sha256``: medium.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from registry.openclaw import install_specs
from registry.scan.context import Package, gated, matches
from registry.scan.hosts import host_risk, urls_in
from registry.scan.model import Finding, Severity
from registry.scan.source import FileKind, SourceText

__all__ = ["crypto_miner", "decode_exec", "obfuscated_blob", "remote_exec", "unpinned_fetch"]

_I = re.IGNORECASE
_SHELLS = (
    r"(?:sudo\s+(?:-\S+\s+)*)?(?:ba|z|da|k|fi)?sh|python[0-9.]*|node|perl|ruby|iex"
    r"|invoke-expression|pwsh|powershell"
)
_FETCHERS = ("curl", "wget", "iwr", "irm", "invoke-webrequest", "invoke-restmethod", "fetch")
# One intermediate stage is allowed (``curl … | tee log | sh``); ``&&`` ends the command.
# Every span is bounded, so a hostile line of 100,000 "curl"s costs linear time.
_PIPED = gated(
    r"\b(?:"
    + "|".join(_FETCHERS)
    + r")\b[^\n|;]{0,400}+(?:\|[^\n|]{0,200}+)?\|\s*(?:"
    + _SHELLS
    + r")\b(?![.-])",
    _FETCHERS,
)
_SUBSTITUTED = gated(
    r"(?:\b(?:ba|z)?sh|\bsource|^\s*\.|\beval)\s+(?:-c\s+)?[\"']?(?:<\(|\$\()\s*(?:curl|wget)\b",
    ("curl", "wget"),
    _I | re.MULTILINE,
)
_PS_DOWNLOAD = gated(
    r"\b(?:iex|invoke-expression)\s*\(?\s*\(?\s*(?:new-object\s+net\.webclient|iwr|irm|invoke-w)",
    ("iex", "invoke-expression"),
)
# ``python -c "...urlopen...exec(..."``: found in two steps (the command, then its line),
# because a lazy pattern over the whole line is slow on hostile input.
_PY_INLINE = gated(r"\bpython[0-9.]*\s+-c\s+[\"']", ("python",))
_PY_FETCHES = ("urlopen", "urllib", "requests.get")
_PY_RUNS = re.compile(r"\b(?:exec|eval)\s*\(")
_DECODERS = (
    "atob", "unescape", "buffer.from", "base64.b64decode", "b64decode", "zlib.decompress",
    "marshal.loads", "codecs.decode", "bytes.fromhex", "bytearray.fromhex", "string.fromcharcode",
)  # fmt: skip
# Case matters in code (``atob``, ``Buffer.from``), so only the shell parts ignore it.
_DECODE_EXEC = gated(
    r"base64\s+(?:-d|-D|--decode)\b[^\n|]{0,200}+\|\s*(?i:" + _SHELLS + r")\b"
    r"|\b(?:eval|exec|Function)\s*\(\s*(?:"
    + "|".join(re.escape(d) for d in _DECODERS)
    + r"|''\.join\(\s*(?:map\(\s*)?chr|\"\"\.join\(\s*(?:map\(\s*)?chr)"
    r"|(?i:\b(?:powershell|pwsh)(?:\.exe)?\b[^\n]{0,200}?\s-(?:e|en|enc|encodedcommand)\s+)"
    r"[A-Za-z0-9+/=]{16,}",
    ("base64", "chr", "powershell", "pwsh", *_DECODERS),
    0,
)
_BLOBS = (
    (
        gated(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{300,}={0,2}", (), 0, min_line=300),
        "a long base64 run",
    ),
    (gated(r"\b(?:[0-9a-fA-F]{2}){100,}\b", (), 0, min_line=200), "a long hex run"),
    (gated(r"(?:\\x[0-9a-fA-F]{2}){12,}", ("\\x",), 0), "a chain of \\x escapes"),
    (
        gated(
            r"(?:chr\(\s*\d+\s*\)\s*\+\s*){6,}|String\.fromCharCode\(\s*(?:\d+\s*,\s*){8,}",
            ("chr(", "fromcharcode"),
            0,
        ),
        "text built from character codes",
    ),
)
_MINER_WORDS = (
    "xmrig", "stratum+", "cryptonight", "coinhive", "--donate-level", "supportxmr",
    "moneroocean", "hashvault", "minexmr", "c3pool", "nanopool", "2miners",
)  # fmt: skip
_MINER = gated(
    r"\bxmrig\b|stratum\+(?:tcp|ssl|tls)://|\bcryptonight\b|\bcoinhive\b|--donate-level"
    r"|\b(?:supportxmr|moneroocean|hashvault|minexmr|c3pool|nanopool|2miners)\.(?:com|org|net|pro)\b",
    _MINER_WORDS,
)
_UNPINNED = gated(
    r"\bnpx\s+(?:-y\s+|--yes\s+)?(?:@[\w.-]+/)?[\w.-]+@latest\b"
    r"|\bgo\s+install\s+\S+@latest\b"
    r"|\buvx\s+(?!--)[a-z][\w.-]*(?![\w.-]*(?:@|==))(?=\s|$)"
    r"|\bpip3?\s+install\s+(?!(?:-\S+\s+)*-(?:r|e|c|-requirement|-editable|-constraint)\b)"
    r"(?:-[-\w]+\s+)*[A-Za-z][\w.\[\],-]*"
    r"(?![\w.\[\],-]*(?:==|>=|~=|@))(?=\s|$)",
    ("npx", "install", "uvx"),
    _I | re.MULTILINE,
)


def remote_exec(package: Package) -> Iterator[Finding]:
    candidates = (
        *(matches(pattern, package.texts) for pattern in (_PIPED, _SUBSTITUTED, _PS_DOWNLOAD)),
        _python_remote(package),
    )
    for found_by in candidates:
        for text, pos, found in found_by:
            line = text.near(pos)
            risk = next((r for url in urls_in(line) if (r := host_risk(url.host))), None)
            if risk is not None:
                message = f"downloads from {risk} and runs it: {found.strip()[:80]}"
                yield text.finding("remote-exec", Severity.CRITICAL, pos, message)
            else:
                message = f"runs what it downloads without checking it: {found.strip()[:80]}"
                yield text.finding("remote-exec", Severity.MEDIUM, pos, message)


def _python_remote(package: Package) -> Iterator[tuple[SourceText, int, str]]:
    for text, pos, found in matches(_PY_INLINE, package.texts):
        start = pos + len(found)
        end = text.text.find("\n", start, start + 600)
        rest = text.text[start : end if end >= 0 else start + 600]
        if any(fetch in rest for fetch in _PY_FETCHES) and _PY_RUNS.search(rest):
            yield text, pos, found + rest


def decode_exec(package: Package) -> Iterator[Finding]:
    for text, pos, found in matches(_DECODE_EXEC, package.texts):
        message = f"decodes hidden code and runs it: {found.strip()[:80]}"
        yield text.finding("decode-exec", Severity.CRITICAL, pos, message)


def obfuscated_blob(package: Package) -> Iterator[Finding]:
    for pattern, what in _BLOBS:
        for text, pos, found in matches(pattern, package.texts):
            if _is_inert(text.text, pos):
                continue
            message = f"{what} ({len(found)} characters) that a reader cannot check"
            yield text.finding("obfuscated-blob", Severity.MEDIUM, pos, message)


def _is_inert(text: str, pos: int) -> bool:
    """Image data URIs and PEM/certificate bodies are long base64 for honest reasons."""
    before = text[max(0, pos - 40) : pos]
    return "base64," in before or "-----BEGIN" in text[max(0, pos - 200) : pos]


def crypto_miner(package: Package) -> Iterator[Finding]:
    for text, pos, found in matches(_MINER, package.texts):
        message = f"crypto-mining software or pool: {found}"
        yield text.finding("crypto-miner", Severity.CRITICAL, pos, message)


def unpinned_fetch(package: Package) -> Iterator[Finding]:
    for text, pos, found in matches(_UNPINNED, package.texts):
        message = f"installs at run time without a pinned version: {found.strip()}"
        yield text.finding("unpinned-fetch", Severity.LOW, pos, message)
    yield from _unchecked_downloads(package)


def _unchecked_downloads(package: Package) -> Iterator[Finding]:
    """OpenClaw ``download`` install specs without ``sha256``: whatever the URL serves runs."""
    skill_md = next((t for t in package.texts if t.kind is FileKind.SKILL_MD), None)
    if package.skill is None or skill_md is None:
        return
    for spec in install_specs(package.skill.manifest):
        url = spec.get("url")
        if spec.get("kind") == "download" and not spec.get("sha256") and isinstance(url, str):
            pos = max(skill_md.text.find(url), 0)
            message = f"installs a download without a sha256 to check it against: {url[:80]}"
            yield skill_md.finding("unpinned-fetch", Severity.MEDIUM, pos, message)
