"""Rows to records and back: the JSON columns of ``versions`` and the ``SELECT`` that reads them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from registry.model import LoadedSkill
from registry.scan.model import ScanReport
from registry.store.records import SkillSummary, ToolInfo, VersionInfo, VersionRecord

__all__ = [
    "SUMMARY_COLUMNS",
    "VERSION_SELECT",
    "info_from_skill",
    "info_json",
    "summary_from_row",
    "version_from_row",
]

VERSION_SELECT = """
SELECT s.owner, s.name, v.version, v.content_hash, v.archive_sha256, v.archive_size,
       v.published_at, v.publisher_key_id, v.publisher_signature, v.registry_key_id,
       v.registry_signature, v.log_index, v.scan, v.manifest, v.skill_md, v.warnings,
       v.yanked_at, v.yank_reason, v.deleted_at, s.held, v.id
FROM versions v JOIN skills s ON s.id = v.skill_id
"""
# What search and the skill page read of a ``skills s`` row (see :func:`summary_from_row`).
SUMMARY_COLUMNS = (
    "s.id, s.owner, s.name, s.description, s.current_version, s.verdict, s.has_tools,"
    " s.downloads, s.updated_at, s.tags, s.held"
)
_MAX_TAGS = 12


def info_from_skill(skill: LoadedSkill) -> VersionInfo:
    """What the store keeps of a loaded skill (paths and schemas stay in the package)."""
    manifest, permissions = skill.manifest, skill.permissions
    return VersionInfo(
        description=manifest.description,
        license=manifest.license,
        compatibility=manifest.compatibility,
        allowed_tools=manifest.allowed_tools,
        network=permissions.network,
        env=permissions.env,
        binaries=permissions.binaries,
        filesystem=permissions.filesystem,
        tools=tuple(ToolInfo(tool.name, tool.description) for tool in skill.tools),
        command=skill.command.tool if skill.command else None,
        tags=_tags(manifest.metadata_value("tags") or manifest.metadata_value("keywords")),
        metadata=manifest.metadata,
    )


def _tags(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    # Authors write "a, b", "a b" or a JSON list kept as text: keep the words.
    words = [w.strip(" \"'[]").lower() for w in text.replace(",", " ").split()]
    return tuple(dict.fromkeys(w for w in words if w))[:_MAX_TAGS]


def info_json(info: VersionInfo) -> str:
    value = {
        "description": info.description,
        "license": info.license,
        "compatibility": info.compatibility,
        "allowed_tools": list(info.allowed_tools),
        "network": list(info.network),
        "env": list(info.env),
        "binaries": list(info.binaries),
        "filesystem": list(info.filesystem),
        "tools": [[tool.name, tool.description] for tool in info.tools],
        "command": info.command,
        "tags": list(info.tags),
        "metadata": [list(pair) for pair in info.metadata],
    }
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _info(text: str) -> VersionInfo:
    data: dict[str, Any] = json.loads(text)
    return VersionInfo(
        description=data["description"],
        license=data["license"],
        compatibility=data["compatibility"],
        allowed_tools=tuple(data["allowed_tools"]),
        network=tuple(data["network"]),
        env=tuple(data["env"]),
        binaries=tuple(data["binaries"]),
        filesystem=tuple(data["filesystem"]),
        tools=tuple(ToolInfo(name, description) for name, description in data["tools"]),
        command=data["command"],
        tags=tuple(data["tags"]),
        metadata=tuple((key, value) for key, value in data["metadata"]),
    )


def version_from_row(row: Sequence[Any]) -> VersionRecord:
    """A record from a row of :data:`VERSION_SELECT` (its last column, the id, is not kept)."""
    return VersionRecord(
        owner=row[0],
        name=row[1],
        version=row[2],
        content_hash=row[3],
        archive_sha256=row[4],
        archive_size=row[5],
        published_at=row[6],
        publisher_key_id=row[7],
        publisher_signature=bytes(row[8]),
        registry_key_id=row[9],
        registry_signature=bytes(row[10]),
        log_index=row[11],
        scan=ScanReport.from_dict(json.loads(row[12])),
        info=_info(row[13]),
        skill_md=row[14],
        warnings=tuple(json.loads(row[15])),
        yanked_at=row[16],
        yank_reason=row[17],
        deleted_at=row[18],
        held=bool(row[19]),
    )


def summary_from_row(row: Sequence[object]) -> SkillSummary:
    """A summary from a row starting with :data:`SUMMARY_COLUMNS`' columns."""
    (_, owner, name, description, current, verdict, has_tools, downloads, updated, tags,
     held) = row[:11]  # fmt: skip
    return SkillSummary(
        owner=str(owner),
        name=str(name),
        description=str(description),
        current_version=None if current is None else str(current),
        verdict=str(verdict),
        has_tools=bool(has_tools),
        downloads=int(str(downloads)),
        updated_at=float(str(updated)),
        tags=tuple(str(tags).split()),
        held=bool(held),
    )
