"""Run the ruleset over a package and decide: pass, review or block.

Theory of operation
-------------------
:func:`scan` decodes every file (binary files go to the binary rules only),
runs each check of :data:`CHECKS` over the whole package — some rules pair
evidence across files, like credential access in one file and egress in
another — and keeps at most :data:`MAX_PER_RULE_AND_FILE` findings per rule
and file, the most severe first, so a report stays readable.  The verdict is
the worst severity found (:func:`~registry.scan.model.verdict_of`).

The scanner is pure and deterministic: same files, same manifest, same
:data:`RULESET_VERSION`, same report.  Bump the version whenever a rule
changes what it finds; stored reports with another version are stale.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

from registry.files import PackageFile
from registry.model import LoadedSkill
from registry.scan import (
    rules_declared,
    rules_exec,
    rules_lure,
    rules_persist,
    rules_secrets,
    rules_text,
)
from registry.scan.context import Check, Package
from registry.scan.model import Finding, RuleInfo, ScanReport, Severity, verdict_of
from registry.scan.source import SourceText, decode

__all__ = ["CHECKS", "MAX_PER_RULE_AND_FILE", "RULES", "RULESET_VERSION", "scan"]

RULESET_VERSION = "2026.1"
MAX_PER_RULE_AND_FILE = 5

CHECKS: tuple[Check, ...] = (
    rules_lure.download_lures,
    rules_lure.known_campaign,
    rules_exec.remote_exec,
    rules_exec.decode_exec,
    rules_exec.obfuscated_blob,
    rules_exec.crypto_miner,
    rules_exec.unpinned_fetch,
    rules_secrets.credential_egress,
    rules_secrets.hardcoded_secret,
    rules_persist.persistence,
    rules_text.prompt_injection,
    rules_text.hidden_unicode,
    rules_declared.undeclared_permission,
    rules_declared.binary_payload,
)

RULES: tuple[RuleInfo, ...] = (
    RuleInfo("fake-prerequisite", "Fake prerequisite", "install/run text sends users to a lure"),
    RuleInfo("suspicious-download", "Suspicious download", "paste site, shortener, raw IP, .exe"),
    RuleInfo("known-campaign", "Known campaign", "a published ClawHavoc indicator"),
    RuleInfo("remote-exec", "Remote code piped to a shell", "runs what it downloads unchecked"),
    RuleInfo("decode-exec", "Decoded code executed", "base64/hex/char codes decoded and run"),
    RuleInfo("obfuscated-blob", "Obfuscated blob", "long encoded data nobody can read"),
    RuleInfo("crypto-miner", "Crypto miner", "mining software or pools"),
    RuleInfo("unpinned-fetch", "Unpinned runtime fetch", "installs without a pinned version"),
    RuleInfo("credential-egress", "Credential access and egress", "reads secrets, sends data"),
    RuleInfo("hardcoded-secret", "Hard-coded secret", "a live-looking key in the files"),
    RuleInfo("persistence", "Persistence", "writes shell rc, cron, agent memory, other skills"),
    RuleInfo("prompt-injection", "Prompt injection", "text that overrides the model's rules"),
    RuleInfo("hidden-unicode", "Hidden Unicode", "tag, bidi or zero-width characters"),
    RuleInfo("undeclared-permission", "Undeclared permission", "env, host or program not declared"),
    RuleInfo("binary-payload", "Binary payload", "executables or archives in the package"),
    RuleInfo("scan-limit", "Scan limit", "too many candidates to examine; a person must look"),
)

_RANK = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 3}


def scan(files: Sequence[PackageFile], manifest: LoadedSkill | None) -> ScanReport:
    """The scan report for a package's ``files``; ``manifest`` is its loaded skill, if any.

    ``files`` should come from :func:`~registry.archive.unpack` or
    :func:`~registry.files.read_folder` (names checked, sizes capped); the
    scanner itself never raises for their content.
    """
    texts: list[SourceText] = []
    binaries: list[PackageFile] = []
    for file in sorted(files, key=lambda f: f.path):
        text = decode(file)
        if text is None:
            binaries.append(file)
        else:
            texts.append(text)
    package = Package(tuple(texts), tuple(binaries), manifest)
    found = [finding for check in CHECKS for finding in check(package)]
    findings = _capped(found + list(_limits_hit(package)))
    return ScanReport(verdict_of(findings), findings, RULESET_VERSION)


def _limits_hit(package: Package) -> Iterator[Finding]:
    """A file with more candidate matches than a rule examines is reviewed by a person."""
    for text in package.texts:
        if text.overflow:
            listed = ", ".join(sorted(text.overflow))
            message = f"too many matches to examine them all (patterns keyed on: {listed})"
            yield Finding("scan-limit", Severity.MEDIUM, text.path, 1, "", message)


def _capped(findings: list[Finding]) -> tuple[Finding, ...]:
    """At most :data:`MAX_PER_RULE_AND_FILE` per (rule, file), worst first, one per line."""
    groups: dict[tuple[str, str], dict[int, Finding]] = defaultdict(dict)
    for finding in sorted(findings, key=lambda f: (_RANK[f.severity], f.line)):
        groups[(finding.rule, finding.file)].setdefault(finding.line, finding)
    kept = [f for group in groups.values() for f in list(group.values())[:MAX_PER_RULE_AND_FILE]]
    return tuple(sorted(kept, key=lambda f: (_RANK[f.severity], f.file, f.line, f.rule)))
