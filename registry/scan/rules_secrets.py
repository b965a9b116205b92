"""Rules about secrets: stolen ones (credential access plus egress) and shipped ones.

* ``credential-egress``: a skill that reads where credentials live (SSH
  private keys, ``~/.aws/credentials``, browser password and cookie stores,
  the macOS keychain, wallet files, the agent's own ``.env``) *and* sends
  data out (``curl -d/-F``, ``requests.post``, ``fetch`` POST, ``nc``,
  webhooks).  **Critical** when both sit on one line, or both in one script
  file; review when they are only in the same skill (SSH helpers read
  ``~/.ssh`` and call APIs for honest reasons).  A project ``.env`` counts
  only when sent on the same line (``curl -d @.env``).
* ``hardcoded-secret`` (high): provider key formats and private-key blocks
  that are not placeholders (``sk-...``, ``YOUR_KEY``, low-entropy filler).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator

from registry.scan.context import Package, gated, matches
from registry.scan.model import Finding, Severity
from registry.scan.source import SourceText

__all__ = ["credential_egress", "hardcoded_secret"]

_I = re.IGNORECASE
_CREDENTIAL_WORDS = (
    ".ssh", ".aws", ".git-credentials", ".netrc", ".docker", ".kube", "login data",
    "chrome/user data", "application support/", ".mozilla", "logins.json", "key4.db",
    "cookies.sqlite", "security", "keychain", "wallet.dat", ".electrum", "exodus",
    "ethereum/keystore", ".bitcoin", "nkbihf", ".clawdbot", ".openclaw", ".moltbot", "/etc/shadow",
)  # fmt: skip
_CREDENTIALS = gated(
    r"\.ssh/(?:id_(?:rsa|ed25519|ecdsa|dsa)|identity)\b(?!\.pub)|\.ssh/\*|\bcat\s+~?/?\.ssh/?(?:\s|$)"
    r"|\.aws/credentials|\.git-credentials|\.netrc\b|\.docker/config\.json|\.kube/config"
    r"|Login Data\b|Chrome/User Data|Application Support/(?:Google/Chrome|BraveSoftware|Firefox)"
    r"|\.mozilla/firefox|\blogins\.json|\bkey4\.db|\bcookies\.sqlite"
    r"|\bsecurity\s+(?:find-generic-password|find-internet-password|dump-keychain)"
    r"|login\.keychain|Library/Keychains"
    r"|\bwallet\.dat\b|\.electrum/|Exodus/exodus\.wallet|Ethereum/keystore|\.bitcoin/"
    r"|nkbihfbeogaeaoehlefnkodbefgpgknn"
    r"|\.(?:clawdbot|openclaw|moltbot)/\.env|\.(?:clawdbot|openclaw)/credentials|/etc/shadow",
    _CREDENTIAL_WORDS,
    _I | re.MULTILINE,
)
_DOTENV = gated(r"(?<![\w/.-])\.env\b(?![.\w])", (".env",), 0)
_EGRESS = gated(
    r"\bcurl\b[^\n]{0,300}?\s(?:-d|--data(?:-\w+)?|-F|--form|-T|--upload-file)\b"
    r"|\bcurl\b[^\n]{0,300}?-X\s*(?:POST|PUT)\b|\bwget\b[^\n]{0,300}?--post-(?:data|file)"
    r"|\b(?:requests|httpx|session|client)\.(?:post|put)\s*\(|\baxios\.(?:post|put)\s*\("
    r"|\bfetch\s*\([^)]{0,300}?method\s*:\s*[\"'](?:POST|PUT)|\burlopen\s*\([^)]{0,300}?data\s*="
    r"|\bnc\s+(?:-\w+\s+)*[\w.-]+\s+\d{2,5}\b|\bscp\s+\S+\s+\S+@|\bsmtplib\b"
    r"|discord(?:app)?\.com/api/webhooks|hooks\.slack\.com|api\.telegram\.org/bot"
    r"|Invoke-(?:WebRequest|RestMethod)[^\n]{0,300}?-Method\s+Post",
    ("curl", "wget", "post", "put", "nc", "scp", "smtplib", "webhooks", "hooks.slack", "telegram"),
)
_SECRET_WORDS = (
    "sk-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "akia", "aiza",
    "sk_live_", "glpat-", "hf_", ":aa", "private key-----",
)  # fmt: skip
_SECRETS = gated(
    r"\bsk-ant-[a-z0-9]+-[A-Za-z0-9_-]{32,}|\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}"
    r"|\bgh[pousr]_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{60,}"
    r"|\bxox[baprs]-[A-Za-z0-9-]{20,}|\bAKIA[0-9A-Z]{16}\b|\bAIza[0-9A-Za-z_-]{35}\b"
    r"|\bsk_live_[0-9a-zA-Z]{24,}|\bglpat-[A-Za-z0-9_-]{20}\b|\bhf_[A-Za-z0-9]{34}\b"
    r"|\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b"
    # A private key block with a real first line of key material (not "..." or "<key>").
    r"|-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"
    r"[ \t]*\r?\n[A-Za-z0-9+/=]{40,}",
    _SECRET_WORDS,
    0,
)
_PLACEHOLDER = re.compile(r"x{4,}|\.\.\.|your|example|dummy|fake|test|sample|<|\*{3}", _I)


# The key handed to ssh itself: the key is used, not read out.
_KEY_USE = re.compile(
    r"\bssh-add\b|\bssh-keygen\b|\bssh\s+-i\b|\bscp\s+-i\b|IdentityFile|-i\s+~/\.ssh"
)


def credential_egress(package: Package) -> Iterator[Finding]:
    access = [
        (text, pos, found)
        for text, pos, found in matches(_CREDENTIALS, package.texts)
        if not _KEY_USE.search(text.near(pos))
    ]
    sends = list(matches(_EGRESS, package.texts)) if access else []
    for text, pos, found in access if sends else ():
        if _egress_on_line(text, pos):
            message = f"reads {found.strip()} and sends data out on the same line"
        elif text.is_script and any(t is text for t, _, _ in sends):
            message = f"reads {found.strip()} and sends data out in the same script"
        else:
            message = f"reads {found.strip()} in a skill that also sends data out"
            yield text.finding("credential-egress", Severity.HIGH, pos, message)
            continue
        yield text.finding("credential-egress", Severity.CRITICAL, pos, message)
    for text, pos, _found in matches(_DOTENV, package.texts):
        if _egress_on_line(text, pos):
            yield text.finding("credential-egress", Severity.CRITICAL, pos, "sends a .env file out")


def _egress_on_line(text: SourceText, pos: int) -> bool:
    return bool(_EGRESS.pattern.search(text.near(pos)))


def hardcoded_secret(package: Package) -> Iterator[Finding]:
    for text, pos, found in matches(_SECRETS, package.texts):
        if _PLACEHOLDER.search(found) or _entropy(found) < 3.5:
            continue
        message = f"a credential is written into the skill: {found[:12]}… (revoke it)"
        yield text.finding("hardcoded-secret", Severity.HIGH, pos, message)


def _entropy(value: str) -> float:
    """Shannon entropy in bits per character; real keys are near 5, filler far below."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
