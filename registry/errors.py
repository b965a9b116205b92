"""The registry's exceptions, classed by what the caller should do.

Tree::

    RegistryError                 root of everything the registry raises
    ├── YamlError                 the text is not YAML we can read (syntax); ``line`` if known
    │   └── UnsafeYamlError       refused on purpose (alias/anchor, tag, duplicate key,
    │                             too large, too deep): never retried leniently
    └── SkillError                a skill folder cannot be used; ``path`` and ``problem``
        └── ManifestError         ``skill.yaml`` breaks its schema or a rule around it;
                                  ``key`` is the dotted key path (``tools[0].timeout``)

A lenient load turns quirks into warnings and raises :class:`SkillError` only
when nothing usable is left (no description, unreadable frontmatter).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ManifestError", "RegistryError", "SkillError", "UnsafeYamlError", "YamlError"]


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
