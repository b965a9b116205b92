"""Turn parsed SKILL.md frontmatter into a :class:`SkillManifest`, leniently.

The Agent Skills spec (agentskills.io ``specification.mdx``) sets the rules
checked here: ``name`` 1-64 chars of ``a-z0-9-`` with no leading, trailing or
doubled hyphen, equal to the folder name; ``description`` 1-1024 chars;
``compatibility`` at most 500; ``metadata`` a string-to-string map;
``allowed-tools`` a space-separated string.  Skills in the wild break these
rules constantly (see ``shared/corpus/skills``), so every break here becomes a
:class:`SkillWarning`; only a missing description is fatal, as in the spec's
client guide ("skip a skill only when its description is missing").
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from registry.errors import SkillError
from registry.model import SkillManifest, SkillWarning, WarningCode

__all__ = [
    "COMPATIBILITY_MAX",
    "DESCRIPTION_MAX",
    "NAME_MAX",
    "SPEC_KEYS",
    "build_manifest",
    "name_problems",
]

NAME_MAX = 64
DESCRIPTION_MAX = 1024
COMPATIBILITY_MAX = 500
SPEC_KEYS = frozenset(
    {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
)
_NAME_CHARS = re.compile(r"^[a-z0-9-]+$")


def name_problems(name: str) -> list[str]:
    """Every way ``name`` breaks the spec's name rule; empty when it is valid."""
    problems = []
    if not 1 <= len(name) <= NAME_MAX:
        problems.append(f"must be 1-{NAME_MAX} characters (has {len(name)})")
    if not _NAME_CHARS.match(name):
        problems.append("may only contain lowercase letters a-z, digits and hyphens")
    if name.startswith("-") or name.endswith("-"):
        problems.append("must not start or end with a hyphen")
    if "--" in name:
        problems.append("must not contain '--'")
    return problems


def build_manifest(
    data: Mapping[str, object], *, source: Path, body: str, warnings: list[SkillWarning]
) -> SkillManifest:
    """Build the manifest of the skill whose SKILL.md is ``source``.

    Appends what it tolerated to ``warnings``; raises :class:`SkillError` only
    when there is no usable description.
    """
    folder = source.parent
    _note_unknown_keys(data, warnings)
    return SkillManifest(
        name=_name(data, folder.name, warnings),
        description=_description(data, source, warnings),
        path=folder,
        body=body,
        license=_text(data, "license", warnings),
        compatibility=_capped(data, "compatibility", COMPATIBILITY_MAX, warnings),
        metadata=_metadata(data.get("metadata"), warnings),
        allowed_tools=_allowed_tools(data.get("allowed-tools"), warnings),
    )


def _note_unknown_keys(data: Mapping[str, object], warnings: list[SkillWarning]) -> None:
    unknown = sorted(set(data) - SPEC_KEYS)
    if unknown:
        listed = ", ".join(unknown)
        _warn(warnings, WarningCode.UNKNOWN_KEY, f"keys outside the Agent Skills spec: {listed}")


def _warn(warnings: list[SkillWarning], code: WarningCode, message: str) -> None:
    warnings.append(SkillWarning(code, message))


def _text(data: Mapping[str, object], key: str, warnings: list[SkillWarning]) -> str | None:
    """A string field; scalars are coerced, lists and maps dropped, each with a warning."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, (bool, int, float)):
        _warn(
            warnings, WarningCode.NOT_A_STRING, f"{key} should be a string; read {value!r} as text"
        )
        return str(value)
    _warn(warnings, WarningCode.NOT_A_STRING, f"{key} should be a string; ignored a {_kind(value)}")
    return None


def _capped(
    data: Mapping[str, object], key: str, limit: int, warnings: list[SkillWarning]
) -> str | None:
    value = _text(data, key, warnings)
    if value is not None and len(value) > limit:
        _warn(
            warnings,
            WarningCode.TOO_LONG,
            f"{key} has {len(value)} characters; the limit is {limit}",
        )
    return value


def _name(data: Mapping[str, object], folder_name: str, warnings: list[SkillWarning]) -> str:
    name = _text(data, "name", warnings)
    if name is None:
        _warn(
            warnings,
            WarningCode.NAME_MISSING,
            f"name is missing; using the folder name {folder_name!r}",
        )
        return folder_name
    problems = name_problems(name)
    if problems:
        _warn(warnings, WarningCode.NAME_INVALID, f"name {name!r} " + "; ".join(problems))
    if name != folder_name:
        _warn(
            warnings,
            WarningCode.NAME_MISMATCH,
            f"name {name!r} does not match the folder name {folder_name!r}",
        )
    return name


def _description(data: Mapping[str, object], source: Path, warnings: list[SkillWarning]) -> str:
    description = _capped(data, "description", DESCRIPTION_MAX, warnings)
    if description is None:
        raise SkillError(
            source, "frontmatter has no description (required by the Agent Skills spec)"
        )
    return description


def _metadata(value: object, warnings: list[SkillWarning]) -> tuple[tuple[str, str], ...]:
    """A sorted tuple of string pairs; nested values are kept as JSON text."""
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        _warn(
            warnings,
            WarningCode.NOT_A_STRING,
            f"metadata should be a map; ignored a {_kind(value)}",
        )
        return ()
    pairs = []
    for key, item in value.items():
        if not isinstance(item, str):
            _warn(
                warnings,
                WarningCode.METADATA_NESTED,
                f"metadata.{key} is a {_kind(item)}, not a string; kept as JSON text",
            )
            item = json.dumps(item, ensure_ascii=False, sort_keys=True)
        pairs.append((str(key), item))
    return tuple(sorted(pairs))


def _allowed_tools(value: object, warnings: list[SkillWarning]) -> tuple[str, ...]:
    """Spec: a space-separated string; a YAML list of names is accepted with a warning."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        _warn(
            warnings, WarningCode.NOT_A_STRING, "allowed-tools should be a space-separated string"
        )
        return tuple(item.strip() for item in value if item.strip())
    _warn(
        warnings,
        WarningCode.NOT_A_STRING,
        f"allowed-tools should be a string; ignored a {_kind(value)}",
    )
    return ()


def _kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, list):
        return "list"
    return type(value).__name__
