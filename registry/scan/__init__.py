"""The static scanner run at publish (and again whenever :data:`RULESET_VERSION` changes).

``scan(files, manifest) -> ScanReport``: a verdict (``pass`` / ``review`` /
``block``) and findings with rule id, severity, file, line, a safe excerpt
and a message.  The rules and their calibration on 2,679 real skills are
described in :mod:`registry.scan.engine` and each ``rules_*`` module.
"""

from registry.scan.engine import RULES, RULESET_VERSION, scan
from registry.scan.model import Finding, RuleInfo, ScanReport, Severity, Verdict

__all__ = [
    "RULES",
    "RULESET_VERSION",
    "Finding",
    "RuleInfo",
    "ScanReport",
    "Severity",
    "Verdict",
    "scan",
]
