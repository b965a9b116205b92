"""The scanner's values: severities, verdicts, findings, reports (frozen, JSON-ready).

A verdict is the worst severity found: any ``critical`` finding blocks, any
``high`` or ``medium`` one sends the skill to review, ``low`` ones are shown
but pass.  Only conjoined, high-precision rules ever say ``critical``; a
single regex hit never blocks (ClawHub's experience, and our corpus: most
"ignore previous instructions" are defensive skills quoting the attack).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum

__all__ = ["Finding", "RuleInfo", "ScanReport", "Severity", "Verdict", "verdict_of"]


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 (a verdict, not a password)
    REVIEW = "review"
    BLOCK = "block"


_VERDICT = {
    Severity.LOW: Verdict.PASS,
    Severity.MEDIUM: Verdict.REVIEW,
    Severity.HIGH: Verdict.REVIEW,
    Severity.CRITICAL: Verdict.BLOCK,
}
_ORDER = (Verdict.PASS, Verdict.REVIEW, Verdict.BLOCK)


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """One rule of the ruleset, for documentation and the marketplace page."""

    id: str
    title: str
    why: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One hit: ``line`` is 1-based in ``file``; ``excerpt`` is safe to display (escaped)."""

    rule: str
    severity: Severity
    file: str
    line: int
    excerpt: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity} {self.rule} {self.file}:{self.line}: {self.message}"


def verdict_of(findings: tuple[Finding, ...]) -> Verdict:
    """The worst verdict any finding calls for; ``pass`` when there is none."""
    verdicts = {_VERDICT[finding.severity] for finding in findings}
    return max(verdicts, key=_ORDER.index, default=Verdict.PASS)


@dataclass(frozen=True, slots=True)
class ScanReport:
    """The scanner's verdict on one package, stamped with the ruleset that produced it.

    Stored reports whose ``ruleset`` differs from the current
    :data:`~registry.scan.RULESET_VERSION` are due for a rescan.
    """

    verdict: Verdict
    findings: tuple[Finding, ...]
    ruleset: str

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready data; :meth:`from_dict` reads it back."""
        return {
            "verdict": str(self.verdict),
            "ruleset": self.ruleset,
            "findings": [asdict(finding) for finding in self.findings],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ScanReport:
        """The report :meth:`to_dict` wrote; raises ``KeyError``/``ValueError`` on other data."""
        raw = data["findings"]
        if not isinstance(raw, list):
            raise ValueError("findings must be a list")
        findings = tuple(
            Finding(
                rule=str(item["rule"]),
                severity=Severity(item["severity"]),
                file=str(item["file"]),
                line=int(item["line"]),
                excerpt=str(item["excerpt"]),
                message=str(item["message"]),
            )
            for item in raw
        )
        return cls(Verdict(str(data["verdict"])), findings, str(data["ruleset"]))
