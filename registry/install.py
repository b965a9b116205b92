"""Install, update and remove registry skills: staged, verified, agreed to, then swapped in.

Theory of operation
-------------------
An :class:`Installer` holds an exclusive lock on the install root
(``$SKILLYARD_HOME/skills/.lock``) for its whole life, so two commands never
interleave.  Installing is two steps with a person in between:

1. :meth:`Installer.stage` resolves nothing itself: it takes the release the
   caller resolved, downloads it, verifies everything
   (:func:`~registry.install_verify.verify_download`), writes the files into
   a staging folder on the same file system, loads them with the lenient
   loader and scans them locally.  The :class:`Candidate` it returns carries
   what the person must see: the permissions *from the files*, the worse of
   the registry's and the local scanner's verdicts, the findings, and for an
   update the permission difference and the reasons to ask again;
2. :meth:`Installer.commit` builds the skill's Python environment if it has
   requirements (:mod:`registry.envs`), renames the staged folder into
   ``skills/<owner>/<name>`` (moving an older version aside first), and
   writes the lockfile.  :meth:`Installer.discard` drops a candidate.

A crash between the rename and the lockfile write leaves files whose hash
the lockfile does not pin: the brain refuses that skill until the command is
run again, it never runs unverified files.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Self

from registry.client import Progress, RegistryClient
from registry.client_errors import Declined, LockfileError, VerificationError
from registry.client_models import Release
from registry.envs import Requirement, build_env, env_dir, remove_env, requirements_of
from registry.errors import RegistryError
from registry.files import DEFAULT_LIMITS, ArchiveLimits, write_tree
from registry.install_plan import PermissionDiff, consent_reasons, permission_diff, worse_verdict
from registry.install_trust import TrustStore
from registry.install_verify import Verified, verify_download
from registry.lockfile import LOCKFILE_NAME, LockedSkill, Lockfile, read_lockfile, write_lockfile
from registry.model import LoadedSkill
from registry.package import load_skill
from registry.scan import Finding, scan
from registry.signing import b64encode

__all__ = ["Candidate", "InstallSettings", "Installer"]

_STAGING = ".staging"


@dataclass(frozen=True, slots=True)
class InstallSettings:
    """``home`` is ``$SKILLYARD_HOME``; ``python`` the interpreter per-skill envs are based on."""

    home: Path
    python: Path = field(default_factory=lambda: Path(sys.executable))
    limits: ArchiveLimits = DEFAULT_LIMITS

    @property
    def root(self) -> Path:
        return self.home / "skills"

    @property
    def lockfile(self) -> Path:
        return self.root / LOCKFILE_NAME


@dataclass(frozen=True, slots=True)
class Candidate:
    """A verified release staged on disk, waiting for a yes (see the module docstring)."""

    verified: Verified
    skill: LoadedSkill
    verdict: str
    findings: tuple[Finding, ...]
    requirements: tuple[Requirement, ...]
    requested: str
    staged: Path
    current: LockedSkill | None = None
    diff: PermissionDiff | None = None
    reasons: tuple[str, ...] = ()

    @property
    def release(self) -> Release:
        return self.verified.release

    @property
    def label(self) -> str:
        return f"{self.release.skill}@{self.release.version}"


class Installer:
    """Use as a context manager: entering takes the install lock, leaving drops stale staging."""

    def __init__(self, settings: InstallSettings, client: RegistryClient, trust: TrustStore):
        self.settings = settings
        self.client = client
        self.trust = trust
        self._lock: IO[bytes] | None = None

    def __enter__(self) -> Self:
        root = self.settings.root
        root.mkdir(parents=True, exist_ok=True)
        handle = (root / ".lock").open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise LockfileError(
                root,
                "another skillyard skill command is changing the "
                "installed skills; try again when it is done",
            ) from None
        self._lock = handle
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.settings.root / _STAGING, ignore_errors=True)
        if self._lock is not None:
            self._lock.close()  # closing the file drops the flock
            self._lock = None

    def lockfile(self) -> Lockfile:
        return read_lockfile(self.settings.lockfile)

    def stage(
        self, release: Release, requested: str, *, progress: Progress | None = None
    ) -> Candidate:
        """Download and verify ``release`` and stage its files; nothing installed changes."""
        lock = self.lockfile()
        _check_conflicts(lock, release)
        archive = self.client.download(release, progress=progress)
        verified = verify_download(
            self.client, self.trust, release, archive, limits=self.settings.limits
        )
        staged = self._write_staged(verified)
        skill = _load(staged, verified)
        local = scan(verified.files, skill)
        candidate = Candidate(
            verified,
            skill,
            worse_verdict(release.verdict, str(local.verdict)),
            local.findings,
            requirements_of(release.skill, staged),
            requested,
            staged,
        )
        return _with_current(candidate, lock.get(release.skill))

    def _write_staged(self, verified: Verified) -> Path:
        area = self.settings.root / _STAGING
        area.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(dir=area)) / verified.release.name
        write_tree(verified.files, staged)
        return staged

    def commit(self, candidate: Candidate) -> LockedSkill:
        """Put ``candidate`` in place and pin it; raises ``Declined`` for a ``block`` verdict."""
        if candidate.verdict == "block":
            raise Declined(f"{candidate.label} is blocked by the scanner; it is never installed")
        release, home = candidate.release, self.settings.home
        if candidate.requirements:
            build_env(
                release.skill,
                env_dir(home, release.skill),
                candidate.requirements,
                python=self.settings.python,
            )
        _swap_into(candidate.staged, self.settings.root / release.owner / release.name)
        if not candidate.requirements:
            remove_env(home, release.skill)
        entry = _locked(candidate)
        write_lockfile(self.settings.lockfile, self.lockfile().with_skill(entry))
        return entry

    def discard(self, candidate: Candidate) -> None:
        shutil.rmtree(candidate.staged.parent, ignore_errors=True)

    def remove(self, skill: str) -> LockedSkill:
        """Delete ``owner/name``'s files, environment and lockfile entry."""
        lock = self.lockfile()
        entry = lock.get(skill)
        if entry is None:
            raise LockfileError(self.settings.lockfile, f"{skill} is not installed")
        write_lockfile(self.settings.lockfile, lock.without(skill))
        shutil.rmtree(entry.folder(self.settings.root), ignore_errors=True)
        remove_env(self.settings.home, skill)
        _remove_if_empty(self.settings.root / entry.owner)
        return entry

    def record_verdict(self, skill: str, verdict: str) -> None:
        """Pin a new scan verdict (a ``block`` keeps the brain from loading the skill)."""
        lock = self.lockfile()
        entry = lock.get(skill)
        if entry is not None and entry.verdict != verdict:
            write_lockfile(self.settings.lockfile, lock.with_skill(entry.with_verdict(verdict)))


def _check_conflicts(lock: Lockfile, release: Release) -> None:
    same_name = lock.named(release.name)
    if same_name is not None and same_name.skill != release.skill:
        raise Declined(
            f"{same_name.skill} is installed and the brain knows skills by name; "
            f"remove it before installing {release.skill}"
        )
    current = lock.get(release.skill)
    if (
        current
        and current.version == release.version
        and current.content_hash != release.content_hash
    ):
        raise VerificationError(
            f"{release.skill}@{release.version}",
            "log consistency",
            f"this version was installed with hash {current.content_hash}; "
            f"the registry now says {release.content_hash} (a forked log)",
        )


def _load(staged: Path, verified: Verified) -> LoadedSkill:
    label = f"{verified.release.skill}@{verified.release.version}"
    try:
        skill = load_skill(staged)
    except RegistryError as exc:
        raise VerificationError(label, "package", f"the skill cannot be loaded: {exc}") from exc
    if skill.name != verified.release.name:
        raise VerificationError(label, "package", f"SKILL.md names it {skill.name!r}")
    return skill


def _with_current(candidate: Candidate, current: LockedSkill | None) -> Candidate:
    if current is None:
        return candidate
    diff = permission_diff(current.permissions, candidate.skill.permissions)
    reasons = consent_reasons(
        diff,
        current.verdict,
        candidate.verdict,
        current.signer_key_id,
        candidate.verified.signer.key_id,
    )
    return Candidate(
        candidate.verified,
        candidate.skill,
        candidate.verdict,
        candidate.findings,
        candidate.requirements,
        candidate.requested,
        candidate.staged,
        current,
        diff,
        reasons,
    )


def _swap_into(staged: Path, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    old = staged.parent / f"{final.name}.old"
    if final.exists():
        os.rename(final, old)
    os.rename(staged, final)
    shutil.rmtree(old, ignore_errors=True)


def _remove_if_empty(folder: Path) -> None:
    # An OSError: other skills of this owner are still there.
    with contextlib.suppress(OSError):
        folder.rmdir()


def _locked(candidate: Candidate) -> LockedSkill:
    verified, release = candidate.verified, candidate.release
    return LockedSkill(
        skill=release.skill,
        version=release.version,
        content_hash=verified.content_hash,
        signer_key_id=verified.signer.key_id,
        signer_public_key=verified.signer.key.to_base64(),
        signer_fingerprint=verified.signer.fingerprint,
        publisher_signature=b64encode(release.publisher.signature),
        registry_url=verified.registry.url,
        registry_key_id=verified.registry.key.key_id,
        registry_signature=b64encode(release.registry_signature),
        log_index=release.log_index,
        verdict=candidate.verdict,
        permissions=candidate.skill.permissions,
        requested=candidate.requested,
        env=bool(candidate.requirements),
        installed_at=datetime.fromtimestamp(time.time(), UTC).isoformat().replace("+00:00", "Z"),
    )
