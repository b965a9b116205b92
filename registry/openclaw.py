"""OpenClaw's ``metadata.openclaw`` read into our :class:`Permissions`, on import.

OpenClaw skills (docs/tools/skills.md; ClawHub's skill-format.md) declare
what they need under ``metadata.openclaw`` — or the older aliases
``clawdbot``, ``clawdis`` and ``moltbot`` — as a JSON5 object:

* ``requires.bins`` (all needed), ``requires.anyBins`` (one of them) and the
  ``bins`` of ``install`` specs → ``binaries``;
* ``requires.env``, ``primaryEnv`` and ClawHub's ``envVars[].name`` → ``env``.

Everything else that constrains or changes the host cannot be mapped and
becomes a warning: ``install`` specs (skillyard never runs installers),
``requires.config`` (OpenClaw's own settings), ``os``, ``always``, ``nix``.
Cosmetic keys (``emoji``, ``homepage``, ...) are ignored.  A name that our
``skill.yaml`` schema would not accept is dropped with a warning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from registry.model import Permissions, SkillManifest

__all__ = ["ALIASES", "OpenClawMapping", "install_specs", "map_openclaw", "openclaw_block"]

ALIASES = ("openclaw", "clawdbot", "clawdis", "moltbot")
# The same patterns as registry/schemas/skill.schema.json's permissions.
_BINARY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_UNMAPPED = {
    "config": "requires.config (OpenClaw settings) has no skillyard equivalent",
    "os": "os restrictions are not enforced by skillyard",
    "always": "always: skillyard checks requirements for every skill",
    "nix": "nix install specs are not run by skillyard",
}


@dataclass(frozen=True, slots=True)
class OpenClawMapping:
    """``permissions`` read from the metadata; ``warnings`` name what was left out."""

    key: str
    permissions: Permissions
    warnings: tuple[str, ...]


def openclaw_block(manifest: SkillManifest) -> tuple[str, object] | None:
    """``(alias, parsed block)`` of the first OpenClaw metadata found; the block may be
    any JSON value (or ``None`` when it is not JSON)."""
    key = next((k for k in ALIASES if manifest.metadata_value(k) is not None), None)
    if key is None:
        return None
    try:
        return key, json.loads(manifest.metadata_value(key) or "")
    except ValueError:
        return key, None


def install_specs(manifest: SkillManifest) -> list[Mapping[str, object]]:
    """The OpenClaw ``install`` specs that are objects (for the scanner's checks)."""
    found = openclaw_block(manifest)
    block = found[1] if found is not None else None
    installs = _list(block.get("install")) if isinstance(block, dict) else []
    return [spec for spec in installs if isinstance(spec, Mapping)]


def map_openclaw(manifest: SkillManifest) -> OpenClawMapping | None:
    """The mapping of the first OpenClaw metadata block found; ``None`` when there is none."""
    found = openclaw_block(manifest)
    if found is None:
        return None
    key, block = found
    if not isinstance(block, dict):
        return OpenClawMapping(key, Permissions(), (f"metadata.{key} is not an object; ignored",))
    return _map(key, block)


def _map(key: str, block: Mapping[str, object]) -> OpenClawMapping:
    warnings: list[str] = []
    requires = block.get("requires")
    requires = requires if isinstance(requires, Mapping) else {}
    installs = [spec for spec in _list(block.get("install")) if isinstance(spec, Mapping)]
    binaries = [*_list(requires.get("bins")), *_list(requires.get("anyBins"))]
    binaries += [b for spec in installs for b in _list(spec.get("bins"))]
    env = [*_list(requires.get("env")), *_list(block.get("primaryEnv"))]
    env += [v.get("name") for v in _list(block.get("envVars")) if isinstance(v, Mapping)]
    if requires.get("anyBins"):
        warnings.append(f"metadata.{key}.requires.anyBins: any one is needed; all are declared")
    warnings += [
        f"metadata.{key}: {text}"
        for name, text in _UNMAPPED.items()
        if block.get(name) or requires.get(name)
    ]
    warnings += _install_warnings(key, installs)
    permissions = Permissions(
        env=_valid(env, _ENV, f"metadata.{key} env", warnings),
        binaries=_valid(binaries, _BINARY, f"metadata.{key} binary", warnings),
    )
    return OpenClawMapping(key, permissions, tuple(warnings))


def _list(value: object) -> list[object]:
    if isinstance(value, list):
        return value
    return [] if value is None or value == "" else [value]


def _install_warnings(key: str, installs: Iterable[Mapping[str, object]]) -> list[str]:
    described = []
    for spec in installs:
        target = next((spec[k] for k in ("formula", "package", "module", "url") if k in spec), "?")
        described.append(f"{spec.get('kind', '?')} {target}")
    if not described:
        return []
    return [f"metadata.{key}.install is not run by skillyard ({'; '.join(described)})"]


def _valid(
    names: Iterable[object], pattern: re.Pattern[str], what: str, warnings: list[str]
) -> tuple[str, ...]:
    kept: list[str] = []
    for name in names:
        if isinstance(name, str) and pattern.match(name):
            if name not in kept:
                kept.append(name)
        else:
            warnings.append(f"{what} {name!r} is not a valid name; dropped")
    return tuple(kept)
