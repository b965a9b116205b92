"""The registry's exceptions, classed by what the caller should do.

Tree::

    RegistryError                 root of everything the registry raises
    ├── YamlError                 the text is not YAML we can read (syntax); ``line`` if known
    │   └── UnsafeYamlError       refused on purpose (alias/anchor, tag, duplicate key,
    │                             too large, too deep): never retried leniently
    ├── SkillError                a skill folder cannot be used; ``path`` and ``problem``
    │   └── ManifestError         ``skill.yaml`` breaks its schema or a rule around it;
    │                             ``key`` is the dotted key path (``tools[0].timeout``)
    └── PackageError              a package (files, folder or archive) is refused;
        │                         ``member`` names the offending file when there is one
        ├── UnsafePathError       a file name that could escape, collide or not be written
        │                         everywhere (``..``, absolute, links, case collisions)
        ├── ArchiveFormatError    not a gzip'd tar as we write it (garbage, truncation)
        └── ArchiveLimitError     over a cap (file count, file or total size, ratio);
                                  ``limit`` names the :class:`ArchiveLimits` field

Every :class:`PackageError` means "this input is hostile or broken": the
caller reports it and keeps nothing from it; retrying cannot help.

A lenient load turns quirks into warnings and raises :class:`SkillError` only
when nothing usable is left (no description, unreadable frontmatter).
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ArchiveFormatError",
    "ArchiveLimitError",
    "ManifestError",
    "PackageError",
    "RegistryError",
    "SkillError",
    "UnsafePathError",
    "UnsafeYamlError",
    "YamlError",
]


class RegistryError(Exception):
    """Root of the registry's exceptions."""


class YamlError(RegistryError):
    """YAML text that does not parse; ``line`` is 1-based within that text."""

    def __init__(self, problem: str, *, line: int | None = None) -> None:
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"{where}{problem}")
        self.problem = problem
        self.line = line


class UnsafeYamlError(YamlError):
    """YAML refused for safety (bombs, tags, duplicates, size): do not retry it."""


class SkillError(RegistryError):
    """A skill folder that cannot be loaded; the message names the file and the fault."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class ManifestError(SkillError):
    """``skill.yaml`` is invalid at ``key`` (a dotted path such as ``tools[0].name``)."""

    def __init__(self, path: Path, key: str, problem: str) -> None:
        super().__init__(path, f"{key}: {problem}" if key else problem)
        self.key = key


class PackageError(RegistryError):
    """A package refused as a whole; ``member`` is the offending file's name, if any."""

    def __init__(self, problem: str, *, member: str | None = None) -> None:
        super().__init__(f"{member!r}: {problem}" if member is not None else problem)
        self.problem = problem
        self.member = member


class UnsafePathError(PackageError):
    """A member name that is unsafe or unportable (escape, link, collision, bad character)."""


class ArchiveFormatError(PackageError):
    """Bytes that are not a package archive: not gzip, not tar, truncated, trailing data."""


class ArchiveLimitError(PackageError):
    """An archive or folder over one of :class:`~registry.archive.ArchiveLimits`' caps."""

    def __init__(self, problem: str, *, limit: str, member: str | None = None) -> None:
        super().__init__(problem, member=member)
        self.limit = limit
