"""Rules comparing what scripts do with what the manifest declares, and binary payloads.

* ``undeclared-permission`` (medium): a script reads an environment
  variable, contacts a host or runs a program that the skill's permissions
  (``skill.yaml``, or ``metadata.openclaw`` mapped on import) do not list.
  The sandbox would refuse it at run time anyway; at publish it means the
  manifest does not describe the skill, which is what a reviewer must see.
  Checked only for skills that declare something (a ``skill.yaml`` or
  OpenClaw requirements): without a manifest there is nothing to compare.
* ``binary-payload``: executables (ELF, Mach-O, PE) are high; archives
  inside the package are medium, encrypted ZIPs high (a password hides the
  content from every scanner, the ClawHavoc technique).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from registry.files import PackageFile
from registry.model import Permissions
from registry.scan.context import Package
from registry.scan.hosts import urls
from registry.scan.model import Finding, Severity
from registry.scan.source import SourceText

__all__ = ["binary_payload", "undeclared_permission"]

_ENV = re.compile(
    r"os\.environ(?:\.get)?\s*[\[(]\s*[\"']([A-Za-z_]\w*)[\"']|os\.getenv\(\s*[\"']([A-Za-z_]\w*)"
    r"|process\.env\.([A-Za-z_]\w*)|process\.env\[\s*[\"']([A-Za-z_]\w*)"
    r"|ENV\[\s*[\"']([A-Za-z_]\w*)"
)
_SHELL_ENV = re.compile(r"\$\{?([A-Z][A-Z0-9_]+)\b")
_SHELL_ASSIGNED = re.compile(
    r"^\s*(?:export\s+|local\s+|readonly\s+|declare\s+(?:-\w+\s+)?)?([A-Z][A-Z0-9_]+)=|"
    r"\bfor\s+([A-Z][A-Z0-9_]+)\s+in\b|\bread\s+(?:-\w+\s+)*([A-Z][A-Z0-9_]+)",
    re.MULTILINE,
)
_SHELL_SUFFIXES = (".sh", ".bash", ".zsh")
_PROGRAM = re.compile(
    r"subprocess\.(?:run|call|check_call|check_output|Popen)\(\s*\[\s*[\"']([\w.+-]+)[\"']"
    r"|os\.(?:system|popen)\(\s*[\"']([\w.+-]+)|shutil\.which\(\s*[\"']([\w.+-]+)[\"']"
    r"|\b(?:spawn|spawnSync|execFile|execFileSync)\(\s*[\"']([\w.+-]+)[\"']"
)
# Variables every shell sets, and hosts that are documentation rather than traffic.
_SHELL_VARS = frozenset(
    {
        "HOME", "PATH", "PWD", "OLDPWD", "USER", "SHELL", "TMPDIR", "LANG", "TERM", "IFS",
        "RANDOM", "SECONDS", "LINENO", "BASH_SOURCE", "BASH_VERSION", "HOSTNAME", "UID",
        "EUID", "PPID", "OSTYPE", "LC_ALL", "PIPESTATUS", "FUNCNAME", "OPTARG", "OPTIND",
    }
)  # fmt: skip
_QUIET_HOSTS = re.compile(
    r"^(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\]|(?:[\w-]+\.)*example\.(?:com|org|net)"
    r"|json-schema\.org|www\.w3\.org|schemas\.\S+)$"
)
_EXECUTABLE_MAGIC = {
    b"\x7fELF": "a Linux executable (ELF)",
    b"\xcf\xfa\xed\xfe": "a macOS executable (Mach-O)",
    b"\xce\xfa\xed\xfe": "a macOS executable (Mach-O)",
    b"\xca\xfe\xba\xbe": "a macOS universal binary",
    b"MZ": "a Windows executable (PE)",
}
_ARCHIVE_MAGIC = {
    b"PK\x03\x04": "a ZIP archive",
    b"\x1f\x8b": "a gzip archive",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
}


def undeclared_permission(package: Package) -> Iterator[Finding]:
    skill = package.skill
    if skill is None or (skill.version is None and skill.permissions == Permissions()):
        return
    declared = skill.permissions
    for text in package.scripts():
        yield from _undeclared_env(text, declared)
        yield from _undeclared_hosts(text, declared)
        yield from _undeclared_programs(text, declared)


def _env_reads(text: SourceText) -> Iterator[tuple[int, str]]:
    for match in _ENV.finditer(text.text):
        yield match.start(), next(group for group in match.groups() if group)
    first_line = text.text.split("\n", 1)[0]
    if text.path.endswith(_SHELL_SUFFIXES) or (first_line.startswith("#!") and "sh" in first_line):
        assigned = {g for m in _SHELL_ASSIGNED.finditer(text.text) for g in m.groups() if g}
        for match in _SHELL_ENV.finditer(text.text):
            if match.group(1) not in assigned:
                yield match.start(), match.group(1)


def _undeclared_env(text: SourceText, declared: Permissions) -> Iterator[Finding]:
    seen: set[str] = set()
    for pos, name in _env_reads(text):
        if name in declared.env or name in _SHELL_VARS or name in seen:
            continue
        seen.add(name)
        message = f"reads the environment variable {name}, which the manifest does not declare"
        yield text.finding("undeclared-permission", Severity.MEDIUM, pos, message)


def _undeclared_hosts(text: SourceText, declared: Permissions) -> Iterator[Finding]:
    seen: set[str] = set()
    for url in urls(text):
        if url.host in seen or _QUIET_HOSTS.match(url.host) or _allowed(url.host, declared):
            continue
        seen.add(url.host)
        message = f"contacts {url.host}, which the manifest's network hosts do not include"
        yield text.finding("undeclared-permission", Severity.MEDIUM, url.start, message)


def _allowed(host: str, declared: Permissions) -> bool:
    for pattern in declared.network:
        bare = pattern.split(":", 1)[0].lower()
        if host == bare or (bare.startswith("*.") and host.endswith(bare[1:])):
            return True
    return False


def _undeclared_programs(text: SourceText, declared: Permissions) -> Iterator[Finding]:
    seen: set[str] = set()
    for match in _PROGRAM.finditer(text.text):
        name = next(group for group in match.groups() if group)
        if name in declared.binaries or name in seen:
            continue
        seen.add(name)
        message = f"runs the program {name}, which the manifest's binaries do not include"
        yield text.finding("undeclared-permission", Severity.MEDIUM, match.start(), message)


def binary_payload(package: Package) -> Iterator[Finding]:
    for file in package.binaries:
        finding = _binary_finding(file)
        if finding is not None:
            yield finding


def _binary_finding(file: PackageFile) -> Finding | None:
    head = file.data[:8]
    what = next((w for magic, w in _EXECUTABLE_MAGIC.items() if head.startswith(magic)), None)
    if what is not None:
        return Finding("binary-payload", Severity.HIGH, file.path, 1, "", f"ships {what}")
    what = next((w for magic, w in _ARCHIVE_MAGIC.items() if head.startswith(magic)), None)
    if what is None:
        return None
    # ZIP local file header, general purpose flag bit 0: the entry is encrypted.
    encrypted = head.startswith(b"PK\x03\x04") and len(file.data) > 7 and file.data[6] & 1
    severity = Severity.HIGH if encrypted else Severity.MEDIUM
    extra = " protected by a password" if encrypted else ""
    return Finding("binary-payload", severity, file.path, 1, "", f"ships {what}{extra}")
