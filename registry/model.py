"""The value objects a loaded skill is made of.

All are frozen, slotted dataclasses.  Paths are absolute: ``SkillManifest.path``
is the skill folder and ``ToolSpec.entrypoint`` a file inside it, so a runner
never joins untrusted relative paths itself.  JSON Schemas are kept as the
plain mappings read from ``skill.yaml``; callers must not mutate them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

__all__ = [
    "DATA_SCOPE",
    "CommandSpec",
    "LoadedSkill",
    "Permissions",
    "SkillManifest",
    "SkillWarning",
    "ToolSpec",
    "WarningCode",
]

# The only filesystem scope so far: a persistent private dir per (skill, user).
DATA_SCOPE = "data"


class WarningCode(StrEnum):
    """What a lenient load tolerated; a strict publish check turns these into errors."""

    BOM = "bom"
    CRLF = "crlf"
    FILENAME_CASE = "filename-case"
    UNCLOSED_FRONTMATTER = "unclosed-frontmatter"
    YAML_REPAIRED = "yaml-repaired"
    NAME_MISSING = "name-missing"
    NAME_INVALID = "name-invalid"
    NAME_MISMATCH = "name-mismatch"
    NOT_A_STRING = "not-a-string"
    TOO_LONG = "too-long"
    METADATA_NESTED = "metadata-nested"
    UNKNOWN_KEY = "unknown-key"
    IGNORED = "ignored"
    OPENCLAW_UNMAPPED = "openclaw-unmapped"


@dataclass(frozen=True, slots=True)
class SkillWarning:
    """One tolerated quirk; ``message`` is written for the skill's author."""

    code: WarningCode
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class SkillManifest:
    """What ``SKILL.md`` says (Agent Skills spec fields plus the markdown body).

    ``metadata`` is a sorted tuple of string pairs; nested values found in the
    wild (``metadata.openclaw``) are kept as their JSON text.
    """

    name: str
    description: str
    path: Path
    body: str = ""
    license: str | None = None
    compatibility: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    allowed_tools: tuple[str, ...] = ()

    def metadata_value(self, key: str) -> str | None:
        return dict(self.metadata).get(key)


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One runnable tool: JSON on stdin, JSON on stdout, within ``timeout_s``."""

    name: str
    description: str
    entrypoint: Path
    timeout_s: float
    input_schema: Mapping[str, Any] = field(compare=False)
    output_schema: Mapping[str, Any] = field(compare=False)


@dataclass(frozen=True, slots=True)
class Permissions:
    """What the skill's tools may reach; empty means nothing at all."""

    network: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    binaries: tuple[str, ...] = ()
    filesystem: tuple[str, ...] = ()

    @property
    def data_dir(self) -> bool:
        """True when the tools get a persistent private dir per (skill, user)."""
        return DATA_SCOPE in self.filesystem


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """``/<skill> TEXT`` runs ``tool`` with ``{argument: TEXT}``, no model involved."""

    tool: str
    argument: str


@dataclass(frozen=True, slots=True)
class LoadedSkill:
    """A skill folder as loaded: manifest, optional sidecar parts, and warnings.

    Without a ``skill.yaml`` a skill has no tools, no permissions, no command
    and ``version`` is ``None``: it is instructions only.
    """

    manifest: SkillManifest
    tools: tuple[ToolSpec, ...] = ()
    permissions: Permissions = Permissions()
    command: CommandSpec | None = None
    version: str | None = None
    warnings: tuple[SkillWarning, ...] = ()

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def path(self) -> Path:
        return self.manifest.path

    def tool(self, name: str) -> ToolSpec | None:
        """The tool called ``name``, or ``None``."""
        return next((tool for tool in self.tools if tool.name == name), None)
