"""The lockfile: which registry skills are installed, pinned to what was verified.

``$SKILLYARD_HOME/skills/skillyard.lock`` is JSON (sorted keys, one format
version), written atomically (temporary file, ``fsync``, rename)::

    {"lockfile": 1,
     "skills": {"alice/weather": {"version": "1.2.0", "content_hash": "sha256:…",
                                  "signer": {"key_id": …, "public_key": …, "fingerprint": …},
                                  "publisher_signature": …, "registry": {"url": …, "key_id": …},
                                  "registry_signature": …, "log_index": 7, "verdict": "pass",
                                  "permissions": {…}, "requested": "^1.0", "env": false,
                                  "installed_at": "2026-…Z"}}}

A skill ``owner/name`` lives in ``skills/<owner>/<name>/``.  The signatures
are kept so ``skillyard skill verify`` can check them again offline; the
brain re-hashes each folder against ``content_hash`` whenever it loads skills
and refuses the ones that differ or whose ``verdict`` is ``block``.

Reading validates the whole file against :data:`LOCKFILE_SCHEMA` and raises
:class:`~registry.client_errors.LockfileError` naming the key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from registry.client_errors import LockfileError
from registry.diskio import write_atomic
from registry.model import Permissions

__all__ = [
    "LOCKFILE_NAME",
    "LOCKFILE_SCHEMA",
    "LockedSkill",
    "Lockfile",
    "read_lockfile",
    "write_json_atomic",
    "write_lockfile",
]

LOCKFILE_NAME = "skillyard.lock"
_FORMAT = 1
_MAX_BYTES = 4 * 1024 * 1024
_B64 = {"type": "string", "pattern": "^[A-Za-z0-9+/]*={0,2}$"}
_STRINGS = {"type": "array", "items": {"type": "string"}}
_ENTRY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "version",
        "content_hash",
        "signer",
        "publisher_signature",
        "registry",
        "registry_signature",
        "log_index",
        "verdict",
        "permissions",
        "requested",
        "env",
        "installed_at",
    ],
    "properties": {
        "version": {"type": "string", "minLength": 1, "maxLength": 64},
        "content_hash": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
        "signer": {
            "type": "object",
            "additionalProperties": False,
            "required": ["key_id", "public_key", "fingerprint"],
            "properties": {
                "key_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                "public_key": _B64,
                "fingerprint": {"type": "string"},
            },
        },
        "publisher_signature": _B64,
        "registry": {
            "type": "object",
            "additionalProperties": False,
            "required": ["url", "key_id"],
            "properties": {"url": {"type": "string"}, "key_id": {"type": "string"}},
        },
        "registry_signature": _B64,
        "log_index": {"type": "integer", "minimum": 0},
        "verdict": {"enum": ["pass", "review", "block"]},
        "permissions": {
            "type": "object",
            "additionalProperties": False,
            "required": ["network", "env", "binaries", "filesystem"],
            "properties": dict.fromkeys(("network", "env", "binaries", "filesystem"), _STRINGS),
        },
        "requested": {"type": "string", "minLength": 1, "maxLength": 256},
        "env": {"type": "boolean"},
        "installed_at": {"type": "string"},
    },
}
LOCKFILE_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["lockfile", "skills"],
    "properties": {
        "lockfile": {"const": _FORMAT},
        "skills": {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z0-9]+(-[a-z0-9]+)*/[a-z0-9]+(-[a-z0-9]+)*$"},
            "additionalProperties": _ENTRY,
        },
    },
}


@dataclass(frozen=True, slots=True)
class LockedSkill:
    """One installed skill as it was verified at install time."""

    skill: str  # owner/name
    version: str
    content_hash: str
    signer_key_id: str
    signer_public_key: str  # base64
    signer_fingerprint: str
    publisher_signature: str  # base64
    registry_url: str
    registry_key_id: str
    registry_signature: str  # base64
    log_index: int
    verdict: str
    permissions: Permissions
    requested: str = "latest"
    env: bool = False
    installed_at: str = ""

    @property
    def owner(self) -> str:
        return self.skill.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.skill.split("/", 1)[1]

    def folder(self, root: Path) -> Path:
        """Where the skill's files are under the install root ``root``."""
        return root / self.owner / self.name

    def with_verdict(self, verdict: str) -> LockedSkill:
        return replace(self, verdict=verdict)


def _entry_json(entry: LockedSkill) -> dict[str, Any]:
    p = entry.permissions
    return {
        "version": entry.version,
        "content_hash": entry.content_hash,
        "signer": {
            "key_id": entry.signer_key_id,
            "public_key": entry.signer_public_key,
            "fingerprint": entry.signer_fingerprint,
        },
        "publisher_signature": entry.publisher_signature,
        "registry": {"url": entry.registry_url, "key_id": entry.registry_key_id},
        "registry_signature": entry.registry_signature,
        "log_index": entry.log_index,
        "verdict": entry.verdict,
        "permissions": {
            "network": list(p.network),
            "env": list(p.env),
            "binaries": list(p.binaries),
            "filesystem": list(p.filesystem),
        },
        "requested": entry.requested,
        "env": entry.env,
        "installed_at": entry.installed_at,
    }


def _entry_from(skill: str, raw: Mapping[str, Any]) -> LockedSkill:
    p, signer = raw["permissions"], raw["signer"]
    return LockedSkill(
        skill=skill,
        version=raw["version"],
        content_hash=raw["content_hash"],
        signer_key_id=signer["key_id"],
        signer_public_key=signer["public_key"],
        signer_fingerprint=signer["fingerprint"],
        publisher_signature=raw["publisher_signature"],
        registry_url=raw["registry"]["url"],
        registry_key_id=raw["registry"]["key_id"],
        registry_signature=raw["registry_signature"],
        log_index=raw["log_index"],
        verdict=raw["verdict"],
        permissions=Permissions(
            tuple(p["network"]), tuple(p["env"]), tuple(p["binaries"]), tuple(p["filesystem"])
        ),
        requested=raw["requested"],
        env=raw["env"],
        installed_at=raw["installed_at"],
    )


@dataclass(frozen=True, slots=True)
class Lockfile:
    """The installed skills by ``owner/name``; change it with :meth:`with_skill`/:meth:`without`."""

    skills: Mapping[str, LockedSkill] = field(default_factory=dict)

    def get(self, skill: str) -> LockedSkill | None:
        return self.skills.get(skill)

    def named(self, name: str) -> LockedSkill | None:
        """The installed skill called ``name``, whoever its owner (names must be unique)."""
        return next((e for e in self.skills.values() if e.name == name), None)

    def with_skill(self, entry: LockedSkill) -> Lockfile:
        return Lockfile({**self.skills, entry.skill: entry})

    def without(self, skill: str) -> Lockfile:
        return Lockfile({k: v for k, v in self.skills.items() if k != skill})

    def to_json(self) -> dict[str, Any]:
        entries = {k: _entry_json(v) for k, v in sorted(self.skills.items())}
        return {"lockfile": _FORMAT, "skills": entries}


_LOCKFILE_VALIDATOR = Draft202012Validator(LOCKFILE_SCHEMA)  # read on every install and load


def read_lockfile(path: Path) -> Lockfile:
    """The lockfile at ``path`` (an empty one if there is no file)."""
    try:
        with path.open("rb") as file:
            data = file.read(_MAX_BYTES + 1)
    except FileNotFoundError:
        return Lockfile()
    except OSError as exc:
        raise LockfileError(path, f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > _MAX_BYTES:
        raise LockfileError(path, f"is over {_MAX_BYTES} bytes")
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise LockfileError(path, f"is not JSON: {exc}") from None
    error = next(iter(_LOCKFILE_VALIDATOR.iter_errors(raw)), None)
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        raise LockfileError(path, f"{where}: {error.message}")
    return Lockfile({k: _entry_from(k, v) for k, v in raw["skills"].items()})


def write_lockfile(path: Path, lockfile: Lockfile) -> None:
    """Replace the lockfile at ``path`` atomically (readers see the old or the new one)."""
    write_json_atomic(path, lockfile.to_json())


def write_json_atomic(path: Path, value: object, *, mode: int = 0o644) -> None:
    """Write ``value`` as JSON to ``path`` through a temporary file and a rename.

    The file gets ``mode`` from its creation on (secrets never exist with a wider mode).
    """
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    write_atomic(path, text.encode("utf-8"), mode=mode)
