"""``persistence``: writes that outlive the skill's run or change the agent itself.

A skill that writes to shell start-up files, cron, launchd or systemd runs
again later without being asked; one that writes the agent's memory or
instruction files (``MEMORY.md``, ``SOUL.md``, ``AGENTS.md``, ``CLAUDE.md``,
``~/.openclaw``, ``~/.claude``) or another skill's folder changes what the
agent believes and does in every later session (Snyk's "memory poisoning").
Only *writes* count — a redirect, ``tee``, a copy, a file opened for writing,
``crontab -``/``launchctl load``/``systemctl --user enable``, or prose
telling the agent to append, write or edit — never a mere mention.

Severity: medium (review) for all of them; high for ``authorized_keys``
and for a shell start-up line that fetches or evaluates code; low for a
plain ``export VAR=…`` into a shell start-up file, the commonest honest
setup step in real skills.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from registry.scan.context import Package, gated
from registry.scan.model import Finding, Severity

__all__ = ["persistence"]

_I = re.IGNORECASE
_TARGETS: tuple[tuple[str, str], ...] = (
    ("SSH authorized keys", r"\.ssh/authorized_keys\b"),
    (
        "a shell start-up file",
        r"(?:~|\$HOME|\$\{HOME\})/\.(?:bashrc|zshrc|bash_profile|zprofile|profile|zshenv|bash_login)\b"
        r"|\.config/fish/config\.fish",
    ),
    ("cron", r"\bcrontab\b|/etc/cron|/var/spool/cron"),
    ("launchd", r"Library/Launch(?:Agents|Daemons)\b|\blaunchctl\s+(?:load|bootstrap|submit)\b"),
    (
        "a systemd unit",
        r"\.config/systemd/user\b|/etc/systemd/system\b|\bsystemctl\s+--user\s+enable\b",
    ),
    (
        "another skill's files",
        r"(?:~/\.(?:openclaw|clawdbot|moltbot|claude|agents|codex)|\.claude|\.agents)/skills/",
    ),
    (
        "the agent's memory or instructions",
        r"\b(?:MEMORY|SOUL|AGENTS|CLAUDE|HEARTBEAT|IDENTITY)\.md\b"
        r"|~/\.(?:claude|openclaw|clawdbot|moltbot|codex)\b",
    ),
)
_TARGET = gated(
    "|".join(f"(?P<t{i}>{p})" for i, (_, p) in enumerate(_TARGETS)),
    (
        "authorized_keys", "bashrc", "zshrc", "bash_profile", "zprofile", "/.profile", "zshenv",
        "bash_login", "config.fish", "cron", "library/launch", "launchctl", "systemd",
        "systemctl", "/skills/", "memory.md", "soul.md", "agents.md", "claude.md",
        "heartbeat.md", "identity.md", "~/.claude", "~/.openclaw", "~/.clawdbot", "~/.moltbot",
        "~/.codex",
    ),
)  # fmt: skip
_WRITE = re.compile(
    r">>?\s*[\"']?\S{0,200}$|\btee\b|\b(?:cp|mv|install|ln|rsync)\b"
    r"|\bopen\([^)]{0,200}[\"'][wa]\+?b?[\"']|\b(?:write_text|write_bytes|writeFileSync|writeFile"
    r"|appendFileSync|appendFile|append_to_file)\b"
    r"|\b(?:append|add|write|insert|save|update|modify|edit|overwrite|inject|record|store)"
    r"(?:s|ed|ing)?\b[^\n]{0,60}$",
    _I,
)
_SCHEDULES = re.compile(
    r"\bcrontab\s+(?:-e\b|-\s|[\w./~-]+\.(?:txt|cron)\b)|\|\s*crontab\b"
    r"|\blaunchctl\s+(?:load|bootstrap|submit|enable)\b|\bsystemctl\s+--user\s+enable\b",
    _I,
)
_RISKY_RC = re.compile(r"\b(?:curl|wget|eval|base64|nc|source\s+<)\b|\balias\s+sudo\b", _I)
_EXPORT = re.compile(r"\bexport\s+\w+=|\bPATH=", _I)
# A public key written in place is a backdoor; one sent to a remote host is ssh-copy-id.
_LITERAL_KEY = re.compile(r"\b(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-\S+)\s+AAAA")
_REMOTE = re.compile(r"\bssh\s+(?:-\S+\s+)*\S+@|\bssh-copy-id\b")


def persistence(package: Package) -> Iterator[Finding]:
    for text in package.texts:
        for match in _TARGET.finditer(text):
            name = _TARGETS[int(str(match.lastgroup)[1:])][0]
            line = text.near(match.start())
            if not (_WRITE.search(text.before(match.start())) or _SCHEDULES.search(line)):
                continue
            severity = _severity(name, line, text.near(match.start(), lines=3))
            message = f"writes to {name} ({match.group(0)}), which persists beyond this skill"
            yield text.finding("persistence", severity, match.start(), message)


def _severity(name: str, line: str, nearby: str) -> Severity:
    """Worse for a literal key or code in a start-up file; milder for a plain ``export``."""
    if name == "SSH authorized keys":
        if _LITERAL_KEY.search(line):
            return Severity.CRITICAL
        return Severity.MEDIUM if _REMOTE.search(line) else Severity.HIGH
    if name == "a shell start-up file":
        if _RISKY_RC.search(nearby):
            return Severity.HIGH
        if _EXPORT.search(nearby):
            return Severity.LOW
    return Severity.MEDIUM
