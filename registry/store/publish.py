"""The checks a publish passes before anything is stored (no database, no blobs).

:func:`inspect_upload` takes the uploaded archive through the pipeline's
pure steps, in order: the size cap, :func:`~registry.archive.unpack` (a safe
archive, in memory), :func:`~registry.validate.validate_for_publish` on the
files written to a private temporary folder named after the slug (so the
spec's "name matches the folder" rule checks the slug), the version in
``skill.yaml`` against the one published, and the content hash.  The
scanner and the signature check follow in :func:`check_scan` and
:func:`check_signature`; the name check needs the index and runs in
:mod:`registry.store.registry`.  Every refusal is a
:class:`~registry.store.errors.PublishRefused` whose ``details`` list every
problem found, so an author can fix them all at once.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from registry.archive import unpack
from registry.errors import PackageError
from registry.files import ArchiveLimits, PackageFile, write_tree
from registry.hashing import content_hash
from registry.model import LoadedSkill
from registry.package import SKILL_FILE
from registry.report import Issue
from registry.scan import Finding, ScanReport, Verdict, scan
from registry.signing import PublishStatement, SignatureError
from registry.store.errors import BadSignature, InvalidPackage, ScanBlocked, ValidationFailed
from registry.store.records import KeyRecord
from registry.validate import validate_for_publish

__all__ = [
    "PublishRequest",
    "Upload",
    "check_scan",
    "check_signature",
    "finding_dict",
    "inspect_upload",
]


@dataclass(frozen=True, slots=True)
class PublishRequest:
    """An upload: ``owner/name@version``, the archive, and the publisher's signature."""

    owner: str
    name: str
    version: str
    archive: bytes
    key_id: str
    signature: bytes

    @property
    def skill(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True, slots=True)
class Upload:
    """An upload that passed the package checks."""

    files: tuple[PackageFile, ...]
    skill: LoadedSkill
    content_hash: str
    skill_md: str
    warnings: tuple[str, ...]


def inspect_upload(request: PublishRequest, *, limits: ArchiveLimits, max_bytes: int) -> Upload:
    """The upload's files, loaded skill and hash.

    Raises a :class:`~registry.store.errors.PublishRefused` naming every problem.
    """
    if len(request.archive) > max_bytes:
        raise InvalidPackage(f"the archive is {len(request.archive)} bytes; at most {max_bytes}")
    try:
        files = tuple(unpack(request.archive, limits=limits))
        digest = content_hash(files)
    except PackageError as exc:
        raise InvalidPackage(f"not a valid package archive: {exc}") from None
    skill, warnings = _validate(files, request)
    text = next(f.data for f in files if f.path == SKILL_FILE).decode("utf-8", "replace")
    return Upload(files, skill, digest, text, warnings)


def _validate(
    files: tuple[PackageFile, ...], request: PublishRequest
) -> tuple[LoadedSkill, tuple[str, ...]]:
    with tempfile.TemporaryDirectory(prefix="skillyard-publish-") as tmp:
        folder = Path(tmp) / request.name
        write_tree(files, folder)
        report = validate_for_publish(folder)
    problems = [_issue(issue) for issue in report.errors]
    skill = report.skill
    if skill is not None and skill.version is not None and skill.version != request.version:
        problems.append(
            {
                "code": "version-mismatch",
                "file": "skill.yaml",
                "message": f"skill.yaml says version {skill.version}; "
                f"the upload is for {request.version}",
            }
        )
    if problems or skill is None:
        count = len(problems)
        raise ValidationFailed(
            f"{request.skill}@{request.version} breaks {count} publish rule(s); see details",
            details=problems,
        )
    return skill, tuple(issue.message for issue in report.warnings)


def _issue(issue: Issue) -> dict[str, object]:
    return {
        "code": str(issue.code),
        "file": issue.file,
        "message": issue.message,
        **({"key": issue.key} if issue.key else {}),
        **({"line": issue.line} if issue.line is not None else {}),
    }


def check_scan(upload: Upload, request: PublishRequest) -> ScanReport:
    """The scanner's report; raises :class:`ScanBlocked` with the findings on ``block``."""
    report = scan(upload.files, upload.skill)
    if report.verdict is Verdict.BLOCK:
        raise ScanBlocked(
            f"{request.skill}@{request.version} is blocked by the scanner "
            f"(ruleset {report.ruleset}); see details",
            details=[finding_dict(finding) for finding in report.findings],
        )
    return report


def check_signature(upload: Upload, request: PublishRequest, key: KeyRecord | None) -> None:
    """Return if ``key`` is a live key of the owner that signed this exact statement."""
    if key is None:
        raise BadSignature(f"no signing key {request.key_id!r} is registered")
    if key.publisher != request.owner:
        raise BadSignature(f"key {key.key_id} belongs to {key.publisher!r}, not {request.owner!r}")
    if key.revoked_at is not None:
        raise BadSignature(f"key {key.key_id} was revoked; sign with a current key")
    statement = PublishStatement(request.skill, request.version, upload.content_hash)
    try:
        key.public_key.verify(request.signature, statement.encode(), what="publisher")
    except SignatureError as exc:
        raise BadSignature(
            f"{exc}: the signature must cover {statement.encode().decode()}"
        ) from None


def finding_dict(finding: Finding) -> dict[str, object]:
    """A finding as the API shows it."""
    return {
        "rule": finding.rule,
        "severity": str(finding.severity),
        "file": finding.file,
        "line": finding.line,
        "excerpt": finding.excerpt,
        "message": finding.message,
    }
