"""Check installed registry skills against the lockfile, as the brain does on every load.

:func:`check_installed` looks at an install root (``$SKILLYARD_HOME/skills``):
every skill the lockfile pins is re-hashed and refused if its files no longer
hash to the pinned content hash, if its folder is gone, or if its scan
verdict is ``block``; a ``<owner>/<name>`` folder the lockfile does not know
is refused too (it was never verified).  Folders directly under the root
(``skills/<name>/``, copied by hand) are not registry installs and are left
to the caller.  Nothing here raises for what it finds on disk: every problem
is a message for the person who reads ``skillyard skills list``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from registry.client_errors import LockfileError
from registry.errors import PackageError
from registry.files import DEFAULT_LIMITS, ArchiveLimits
from registry.hashing import hash_folder
from registry.lockfile import LOCKFILE_NAME, LockedSkill, read_lockfile

__all__ = ["InstalledState", "check_installed", "check_one"]


@dataclass(frozen=True, slots=True)
class InstalledState:
    """``problem`` is None when ``folder`` is exactly what the lockfile pins."""

    skill: str  # owner/name
    folder: Path
    entry: LockedSkill | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_installed(root: Path, *, limits: ArchiveLimits = DEFAULT_LIMITS) -> list[InstalledState]:
    """Every registry-installed skill under ``root``; empty when ``root`` has no lockfile."""
    path = root / LOCKFILE_NAME
    nested = _nested_folders(root)
    if not path.is_file():
        return [_unlisted(skill, folder) for skill, folder in nested]
    try:
        lock = read_lockfile(path)
    except LockfileError as exc:
        return [InstalledState(s, f, None, f"cannot be verified: {exc}") for s, f in nested]
    states = [check_one(entry, root, limits=limits) for entry in lock.skills.values()]
    states += [_unlisted(s, f) for s, f in nested if lock.get(s) is None]
    return sorted(states, key=lambda state: state.skill)


def check_one(
    entry: LockedSkill, root: Path, *, limits: ArchiveLimits = DEFAULT_LIMITS
) -> InstalledState:
    folder = entry.folder(root)
    return InstalledState(entry.skill, folder, entry, _problem(entry, folder, limits))


def _problem(entry: LockedSkill, folder: Path, limits: ArchiveLimits) -> str | None:
    if entry.verdict == "block":
        return (
            f"the registry's scanner blocks {entry.skill}@{entry.version}; "
            f"remove it: skillyard skill remove {entry.skill}"
        )
    if not folder.is_dir():
        return f"its folder {folder} is missing; reinstall it or remove it from the lockfile"
    try:
        digest = hash_folder(folder, limits=limits)
    except (PackageError, OSError) as exc:
        return f"its files cannot be hashed ({exc}); reinstall it"
    if digest != entry.content_hash:
        return (
            f"its files changed since it was installed (they hash to {digest}, the "
            f"lockfile pins {entry.content_hash}); reinstall it: "
            f"skillyard skill install {entry.skill}@{entry.version} --reinstall"
        )
    return None


def _unlisted(skill: str, folder: Path) -> InstalledState:
    problem = "it is not in the lockfile, so it was never verified; install it with skillyard skill"
    return InstalledState(skill, folder, None, problem)


def _nested_folders(root: Path) -> list[tuple[str, Path]]:
    """``(owner/name, folder)`` for every ``root/<owner>/<name>/`` holding a SKILL.md."""
    found: list[tuple[str, Path]] = []
    for owner in _subdirs(root):
        if _is_skill(owner):
            continue  # a skill copied by hand into skills/<name>: not a registry install
        found += [(f"{owner.name}/{f.name}", f) for f in _subdirs(owner) if _is_skill(f)]
    return found


def _subdirs(folder: Path) -> list[Path]:
    try:
        children = sorted(folder.iterdir())
    except OSError:
        return []
    return [c for c in children if c.is_dir() and not c.name.startswith(".")]


def _is_skill(folder: Path) -> bool:
    return (folder / "SKILL.md").is_file() or (folder / "skill.md").is_file()
