"""What the publish validator found: issues with a code, a scope, a file, a key and a line.

Every :class:`IssueCode` has one row in :data:`RULES` saying how bad it is
and whose rule it is:

* ``spec`` — the Agent Skills spec as its reference validator, ``skills-ref``,
  enforces it.  On these the validator agrees with ``skills-ref`` exactly
  (``tests/registry/test_validate_differential.py`` proves it on the corpus).
* ``strict`` — rules of the spec's text that ``skills-ref`` does not check
  (``a-z0-9`` names, ``allowed-tools`` as a string, the file named
  ``SKILL.md``, string metadata, 500 lines).
* ``registry`` — skillyard's own: ``skill.yaml``, package limits, token
  budgets, ``metadata.openclaw`` that cannot be mapped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from registry.model import LoadedSkill

__all__ = [
    "RULES",
    "Issue",
    "IssueCode",
    "IssueSeverity",
    "Scope",
    "ValidationReport",
    "make_issue",
]


class IssueSeverity(StrEnum):
    ERROR = "error"  # publishing is refused
    WARNING = "warning"  # shown to the author; publishing goes on


class Scope(StrEnum):
    SPEC = "spec"
    STRICT = "strict"
    REGISTRY = "registry"


class IssueCode(StrEnum):
    SKILL_MD_MISSING = "skill-md-missing"
    NOT_UTF8 = "not-utf8"
    FRONTMATTER_MISSING = "frontmatter-missing"
    FRONTMATTER_UNCLOSED = "frontmatter-unclosed"
    FRONTMATTER_FENCE = "frontmatter-fence"
    FRONTMATTER_YAML = "frontmatter-yaml"
    FRONTMATTER_NOT_MAP = "frontmatter-not-map"
    UNKNOWN_FIELD = "unknown-field"
    NAME_MISSING = "name-missing"
    NAME_EMPTY = "name-empty"
    NAME_TOO_LONG = "name-too-long"
    NAME_CASE = "name-case"
    NAME_HYPHEN = "name-hyphen"
    NAME_DOUBLE_HYPHEN = "name-double-hyphen"
    NAME_CHARS = "name-chars"
    NAME_MISMATCH = "name-mismatch"
    DESCRIPTION_MISSING = "description-missing"
    DESCRIPTION_EMPTY = "description-empty"
    DESCRIPTION_TOO_LONG = "description-too-long"
    COMPATIBILITY_TYPE = "compatibility-type"
    COMPATIBILITY_TOO_LONG = "compatibility-too-long"
    SKILL_MD_CASE = "skill-md-case"
    NAME_ASCII = "name-ascii"
    LICENSE_TYPE = "license-type"
    ALLOWED_TOOLS_TYPE = "allowed-tools-type"
    METADATA_TYPE = "metadata-type"
    METADATA_NESTED = "metadata-nested"
    BODY_LINES = "body-lines"
    SKILL_MD_TOO_LARGE = "skill-md-too-large"
    SIDECAR_INVALID = "sidecar-invalid"
    PACKAGE_INVALID = "package-invalid"
    BODY_EMPTY = "body-empty"
    BODY_BUDGET = "body-budget"
    CATALOG_BUDGET = "catalog-budget"
    OPENCLAW_UNMAPPED = "openclaw-unmapped"


_E, _W = IssueSeverity.ERROR, IssueSeverity.WARNING
# The codes before SKILL_MD_CASE are the reference validator's rules, all errors.
_SPEC_CODES = list(IssueCode)[: list(IssueCode).index(IssueCode.SKILL_MD_CASE)]
RULES: dict[IssueCode, tuple[Scope, IssueSeverity]] = {
    **dict.fromkeys(_SPEC_CODES, (Scope.SPEC, _E)),
    IssueCode.SKILL_MD_CASE: (Scope.STRICT, _E),
    IssueCode.NAME_ASCII: (Scope.STRICT, _E),
    IssueCode.LICENSE_TYPE: (Scope.STRICT, _E),
    IssueCode.ALLOWED_TOOLS_TYPE: (Scope.STRICT, _E),
    IssueCode.METADATA_TYPE: (Scope.STRICT, _E),
    IssueCode.METADATA_NESTED: (Scope.STRICT, _W),
    IssueCode.BODY_LINES: (Scope.STRICT, _W),
    IssueCode.SKILL_MD_TOO_LARGE: (Scope.REGISTRY, _E),
    IssueCode.SIDECAR_INVALID: (Scope.REGISTRY, _E),
    IssueCode.PACKAGE_INVALID: (Scope.REGISTRY, _E),
    IssueCode.BODY_EMPTY: (Scope.REGISTRY, _W),
    IssueCode.BODY_BUDGET: (Scope.REGISTRY, _W),
    IssueCode.CATALOG_BUDGET: (Scope.REGISTRY, _W),
    IssueCode.OPENCLAW_UNMAPPED: (Scope.REGISTRY, _W),
}


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding; ``message`` is complete on its own (file, line, key and problem)."""

    code: IssueCode
    severity: IssueSeverity
    scope: Scope
    file: str
    message: str
    key: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.severity}: {self.message} [{self.code}]"


def make_issue(
    code: IssueCode, file: str, problem: str, *, key: str | None = None, line: int | None = None
) -> Issue:
    """An issue for ``code`` at ``file`` (relative to the skill folder), ``key`` and ``line``."""
    scope, severity = RULES[code]
    where = file + (f", line {line}" if line is not None else "")
    message = f"{where}: {key}: {problem}" if key else f"{where}: {problem}"
    return Issue(code, severity, scope, file, message, key, line)


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The verdict on a skill folder; ``skill`` is its lenient load, when one was possible.

    Publishing is allowed when :attr:`ok`; :attr:`spec_ok` is what the
    reference validator would say.
    """

    folder: Path
    issues: tuple[Issue, ...]
    skill: LoadedSkill | None = None

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(issue for issue in self.issues if issue.severity is IssueSeverity.ERROR)

    @property
    def warnings(self) -> tuple[Issue, ...]:
        return tuple(issue for issue in self.issues if issue.severity is IssueSeverity.WARNING)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def spec_ok(self) -> bool:
        return not any(issue.scope is Scope.SPEC for issue in self.errors)

    def codes(self, scope: Scope | None = None) -> frozenset[IssueCode]:
        """The codes found, optionally of one scope only."""
        return frozenset(i.code for i in self.issues if scope is None or i.scope is scope)
