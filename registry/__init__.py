"""The skill registry: skill package parsing (and later store, server, signing, scan).

This package imports nothing else of ours.
"""

from registry.errors import ManifestError, RegistryError, SkillError, UnsafeYamlError, YamlError
from registry.model import (
    CommandSpec,
    LoadedSkill,
    Permissions,
    SkillManifest,
    SkillWarning,
    ToolSpec,
    WarningCode,
)
from registry.package import find_skill_file, load_skill
from registry.skillmd import name_problems
from registry.yamlsafe import safe_load

__all__ = [
    "CommandSpec",
    "LoadedSkill",
    "ManifestError",
    "Permissions",
    "RegistryError",
    "SkillError",
    "SkillManifest",
    "SkillWarning",
    "ToolSpec",
    "UnsafeYamlError",
    "WarningCode",
    "YamlError",
    "find_skill_file",
    "load_skill",
    "name_problems",
    "safe_load",
]
