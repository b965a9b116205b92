"""The strict publish validator: may this skill folder be published as it is?

Theory of operation
-------------------
:func:`validate_for_publish` runs four readings of one folder and reports
every issue it finds, never stopping at the first:

1. SKILL.md against the Agent Skills spec (:mod:`registry.specrules`):
   ``spec`` issues agree exactly with the reference validator ``skills-ref``;
   ``strict`` ones add the spec's rules it leaves unchecked;
2. the lenient load (:func:`registry.package.load_skill`), which also
   validates ``skill.yaml`` strictly and maps ``metadata.openclaw``; its
   result is returned in the report for the scanner and the store;
3. the folder as a package (:func:`registry.files.read_folder`): no links,
   special files, unportable or colliding names, within the size caps;
4. the token budgets (:mod:`registry.budget`): a body over ~2,000 tokens
   and a catalog entry over ~100 are warnings, since both get cut.

Errors refuse publishing; warnings are shown to the author.
"""

from __future__ import annotations

from pathlib import Path

from registry.budget import BODY_MAX_TOKENS, CATALOG_ENTRY_MAX_TOKENS, estimate_tokens
from registry.errors import ManifestError, PackageError, SkillError
from registry.files import DEFAULT_LIMITS, ArchiveLimits, read_folder
from registry.model import LoadedSkill, WarningCode
from registry.package import load_skill
from registry.report import Issue, IssueCode, ValidationReport, make_issue
from registry.sidecar import SIDECAR_FILE
from registry.specrules import read_skill_md

__all__ = ["validate_for_publish"]


def validate_for_publish(
    folder: Path, *, limits: ArchiveLimits = DEFAULT_LIMITS
) -> ValidationReport:
    """Every reason ``folder`` cannot be published (errors) or should be improved (warnings).

    ``folder``'s name is the skill's name as the spec requires.  Never raises
    for anything in the folder; :attr:`ValidationReport.ok` is the verdict.
    """
    folder = folder.resolve()
    if not folder.is_dir():
        issue = make_issue(IssueCode.SKILL_MD_MISSING, folder.name, "is not a folder")
        return ValidationReport(folder, (issue,))
    reading = read_skill_md(folder)
    issues = list(reading.issues)
    skill = _load(folder, issues)
    issues += _package_issues(folder, limits)
    if skill is not None:
        issues += _skill_issues(skill, reading.file)
    return ValidationReport(folder, tuple(issues), skill)


def _load(folder: Path, issues: list[Issue]) -> LoadedSkill | None:
    try:
        return load_skill(folder)
    except ManifestError as exc:
        # ManifestError.problem reads "key: problem"; the issue keeps the two apart.
        problem = exc.problem.removeprefix(f"{exc.key}: ") if exc.key else exc.problem
        issues.append(
            make_issue(IssueCode.SIDECAR_INVALID, SIDECAR_FILE, problem, key=exc.key or None)
        )
    except SkillError:
        pass  # SKILL.md's own faults are already reported as spec issues
    return None


def _package_issues(folder: Path, limits: ArchiveLimits) -> list[Issue]:
    try:
        read_folder(folder, limits=limits)
    except PackageError as exc:
        return [make_issue(IssueCode.PACKAGE_INVALID, exc.member or ".", exc.problem)]
    return []


def _skill_issues(skill: LoadedSkill, file: str) -> list[Issue]:
    manifest = skill.manifest
    issues = [
        make_issue(IssueCode.OPENCLAW_UNMAPPED, file, warning.message, key="metadata")
        for warning in skill.warnings
        if warning.code is WarningCode.OPENCLAW_UNMAPPED
    ]
    body = estimate_tokens(manifest.body)
    if not manifest.body.strip():
        issues.append(make_issue(IssueCode.BODY_EMPTY, file, "the body has no instructions"))
    elif body > BODY_MAX_TOKENS:
        problem = (
            f"the body is about {body} tokens; past {BODY_MAX_TOKENS} it is cut at a section "
            "boundary when activated (move detail into references/)"
        )
        issues.append(make_issue(IssueCode.BODY_BUDGET, file, problem))
    entry = estimate_tokens(f"{manifest.name}: {' '.join(manifest.description.split())}")
    if entry > CATALOG_ENTRY_MAX_TOKENS:
        problem = (
            f"name and description are about {entry} tokens; the catalog cuts them to "
            f"{CATALOG_ENTRY_MAX_TOKENS} (put what matters first)"
        )
        issues.append(make_issue(IssueCode.CATALOG_BUDGET, file, problem, key="description"))
    return issues
