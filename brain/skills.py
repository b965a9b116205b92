"""Installed skills, and their tools as functions a model can call.

Loading: every folder under each of ``settings.skill_dirs`` (or the dir
itself, when it holds a ``SKILL.md``) is read with the registry's lenient
loader.  Later dirs override earlier ones by skill name, so user-installed
skills shadow first-party ones.  A folder that fails to load is logged and
skipped; start-up never fails because of one bad skill.  Skills installed
from a registry (``<dir>/<owner>/<name>``, pinned in ``<dir>/skillyard.lock``)
load only while their files hash to the pinned content hash and their scan
verdict is not ``block`` (:func:`registry.install_check.check_installed`);
the others are logged and kept in :attr:`SkillSet.refused` with the reason.

Naming: tool ``T`` of skill ``S`` is exposed to models as ``S__T`` (two
underscores).  Skill names use lowercase letters, digits and hyphens and tool
names lowercase letters, digits and single underscores, so the split is
unambiguous.  OpenAI function names must match ``^[a-zA-Z0-9_-]{1,64}$``:
other characters (from leniently loaded names) become ``-`` and a name over
64 chars is cut and suffixed with a short hash.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from brain.models.base import ToolDef
from gateway.events import SkillSummary
from registry.errors import RegistryError
from registry.install_check import check_installed
from registry.model import LoadedSkill, ToolSpec
from registry.package import load_skill

__all__ = ["SkillSet", "SkillTool", "exposed_name"]

log = logging.getLogger(__name__)

_MAX_NAME = 64
_BAD_CHARS = re.compile(r"[^A-Za-z0-9_-]")


def exposed_name(skill: str, tool: str) -> str:
    """The function name a model sees for ``tool`` of ``skill`` (see the module docstring)."""
    name = _BAD_CHARS.sub("-", f"{skill}__{tool}")
    if len(name) <= _MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: _MAX_NAME - 9]}-{digest}"


@dataclass(frozen=True, slots=True)
class SkillTool:
    skill: LoadedSkill
    spec: ToolSpec
    name: str

    def definition(self) -> ToolDef:
        return ToolDef(self.name, self.spec.description, self.spec.input_schema)

    def search_text(self) -> str:
        """What retrieval matches a message against."""
        manifest = self.skill.manifest
        return f"{manifest.name} {manifest.description} {self.spec.name} {self.spec.description}"


class SkillSet:
    """The loaded skills; immutable once built."""

    def __init__(
        self, skills: Iterable[LoadedSkill], refused: Mapping[str, str] | None = None
    ) -> None:
        self._skills: dict[str, LoadedSkill] = {s.name: s for s in skills}
        self._refused = dict(refused or {})
        self._tools = {
            t.name: t
            for s in self._skills.values()
            for t in (SkillTool(s, spec, exposed_name(s.name, spec.name)) for spec in s.tools)
        }

    @classmethod
    def load(cls, dirs: Sequence[Path]) -> SkillSet:
        """Load every skill folder under ``dirs``; later dirs win by name."""
        found: dict[str, LoadedSkill] = {}
        refused: dict[str, str] = {}
        for folder in (f for d in dirs for f in _skill_folders(d, refused)):
            skill = _load_one(folder)
            if skill is not None:
                found[skill.name] = skill
        return cls(sorted(found.values(), key=lambda s: s.name), refused)

    @property
    def skills(self) -> Mapping[str, LoadedSkill]:
        return self._skills

    @property
    def refused(self) -> Mapping[str, str]:
        """Registry installs that were not loaded (``owner/name`` → why)."""
        return self._refused

    @property
    def tools(self) -> tuple[SkillTool, ...]:
        return tuple(self._tools.values())

    def tool(self, name: str) -> SkillTool | None:
        """The tool exposed as ``name``, or None."""
        return self._tools.get(name)

    def tools_of(self, skill_name: str) -> tuple[SkillTool, ...]:
        """The tools of ``skill_name``, in declaration order (empty if unknown or none)."""
        skill = self._skills.get(skill_name)
        if skill is None:
            return ()
        found = (self._tools.get(exposed_name(skill.name, spec.name)) for spec in skill.tools)
        return tuple(t for t in found if t is not None)

    def command_tool(self, skill_name: str) -> tuple[SkillTool, str] | None:
        """The tool and argument name behind ``/<skill_name>``, or None."""
        skill = self._skills.get(skill_name)
        if skill is None or skill.command is None:
            return None
        tool = self._tools.get(exposed_name(skill.name, skill.command.tool))
        return None if tool is None else (tool, skill.command.argument)

    def commands(self) -> tuple[str, ...]:
        """Names of the skills that offer ``/<name>``."""
        return tuple(n for n in self._skills if self.command_tool(n) is not None)

    def command_tool_names(self) -> frozenset[str]:
        """Exposed names of the tools behind ``/<skill>`` commands."""
        resolved = (self.command_tool(n) for n in self._skills)
        return frozenset(r[0].name for r in resolved if r is not None)

    def summaries(self) -> tuple[SkillSummary, ...]:
        return tuple(_summary(s) for s in self._skills.values())


def _summary(skill: LoadedSkill) -> SkillSummary:
    command = f"/{skill.name}" if skill.command is not None else None
    tools = tuple(exposed_name(skill.name, t.name) for t in skill.tools)
    return SkillSummary(skill.name, skill.manifest.description, tools, command)


def _skill_folders(root: Path, refused: dict[str, str]) -> list[Path]:
    if _has_manifest(root):
        return [root]
    try:
        children = sorted(root.iterdir())
    except FileNotFoundError:
        return []  # nothing installed there yet
    except OSError as exc:
        log.warning("skill dir %s is not readable: %s", root, exc)
        return []
    visible = (c for c in children if c.is_dir() and not c.name.startswith("."))
    return [c for c in visible if _has_manifest(c)] + _installed_folders(root, refused)


def _installed_folders(root: Path, refused: dict[str, str]) -> list[Path]:
    """The registry installs under ``root`` that still match the lockfile."""
    folders = []
    for state in check_installed(root):
        if state.problem is None:
            folders.append(state.folder)
        else:
            refused[state.skill] = state.problem
            log.warning("refusing skill %s: %s", state.skill, state.problem)
    return folders


def _has_manifest(folder: Path) -> bool:
    return (folder / "SKILL.md").is_file() or (folder / "skill.md").is_file()


def _load_one(folder: Path) -> LoadedSkill | None:
    try:
        skill = load_skill(folder)
    except (RegistryError, OSError) as exc:
        log.warning("skipping skill %s: %s", folder, exc)
        return None
    for warning in skill.warnings:
        log.info("skill %s: %s", skill.name, warning)
    return skill
