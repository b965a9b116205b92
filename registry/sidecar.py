"""Read and check a skill's ``skill.yaml`` (what the skill can run).

The file is parsed with :func:`registry.yamlsafe.safe_load`, validated against
``registry/schemas/skill.schema.json`` (draft 2020-12, closed objects), and
then checked for what a schema cannot say: unique tool names, entrypoints
that exist inside the skill folder, valid input/output schemas without remote
``$ref``, and a command that names a real tool and a string argument of it.
Every failure is a :class:`ManifestError` naming the key path.  Unlike SKILL.md
this file is ours, so it is strict: no lenient repairs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

from jsonschema import Draft202012Validator

from registry.errors import ManifestError, YamlError
from registry.model import CommandSpec, Permissions, SkillWarning, ToolSpec, WarningCode
from registry.schemaerrors import key_path, schema_problems
from registry.yamlsafe import MAX_YAML_BYTES, safe_load

__all__ = ["DEFAULT_TIMEOUT_S", "SIDECAR_FILE", "Sidecar", "load_sidecar", "sidecar_schema"]

SIDECAR_FILE = "skill.yaml"
DEFAULT_TIMEOUT_S = 10.0
_MAX_REPORTED = 5


@dataclass(frozen=True, slots=True)
class Sidecar:
    version: str
    tools: tuple[ToolSpec, ...]
    permissions: Permissions
    command: CommandSpec | None
    warnings: tuple[SkillWarning, ...]


@cache
def sidecar_schema() -> Mapping[str, Any]:
    """The JSON Schema of ``skill.yaml``, shipped in this package."""
    text = resources.files("registry").joinpath("schemas/skill.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def load_sidecar(folder: Path) -> Sidecar | None:
    """Read ``folder/skill.yaml``; ``None`` when the skill has none.

    ``folder`` must be absolute and resolved (entrypoints are checked to stay
    inside it).  Raises :class:`ManifestError` naming the offending key.
    """
    path = folder / SIDECAR_FILE
    if not path.is_file():
        return None
    data = _parse(path)
    _validate(path, data, sidecar_schema())
    tools = tuple(_tool(path, i, raw) for i, raw in enumerate(data.get("tools", [])))
    _check_unique(path, tools)
    return Sidecar(
        version=data["version"],
        tools=tools,
        permissions=_permissions(data.get("permissions", {})),
        command=_command(path, data.get("command"), tools),
        warnings=_requirement_warnings(data.get("requirements", [])),
    )


def _parse(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_YAML_BYTES + 1)
    except OSError as exc:
        raise ManifestError(path, "", f"cannot be read: {exc.strerror or exc}") from None
    try:
        data = safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ManifestError(path, "", f"not UTF-8 text (byte {exc.start})") from None
    except YamlError as exc:
        raise ManifestError(path, "", str(exc)) from None
    if not isinstance(data, dict):
        raise ManifestError(path, "", "must be a map of keys (version, tools, ...)")
    return data


def _validate(path: Path, instance: object, schema: Mapping[str, Any]) -> None:
    problems = schema_problems(schema, instance, limit=_MAX_REPORTED)
    if not problems:
        return
    key, problem = problems[0]
    more = "; ".join(f"{k}: {p}" for k, p in problems[1:])
    raise ManifestError(path, key, problem + (f" (also {more})" if more else ""))


def _tool(path: Path, index: int, raw: Mapping[str, Any]) -> ToolSpec:
    key = f"tools[{index}]"
    for side in ("input", "output"):
        _check_schema(path, f"{key}.{side}", raw[side])
    return ToolSpec(
        name=raw["name"],
        description=raw["description"].strip(),
        entrypoint=_entrypoint(path, f"{key}.entrypoint", raw["entrypoint"]),
        timeout_s=float(raw.get("timeout", DEFAULT_TIMEOUT_S)),
        input_schema=raw["input"],
        output_schema=raw["output"],
    )


def _entrypoint(path: Path, key: str, relative: str) -> Path:
    """The absolute script path; it must exist inside the skill folder, even via symlinks."""
    folder = path.parent
    if ".." in PurePosixPath(relative).parts or relative.startswith("/"):
        raise ManifestError(path, key, f"{relative!r} must be a relative path inside the skill")
    target = (folder / relative).resolve()
    if not target.is_relative_to(folder):
        raise ManifestError(path, key, f"{relative!r} leads outside the skill folder")
    if not target.is_file():
        raise ManifestError(path, key, f"{relative!r} does not exist in the skill folder")
    return target


@cache
def _metaschema() -> Draft202012Validator:
    """What ``Draft202012Validator.check_schema`` builds on every call, built once."""
    meta = Draft202012Validator.META_SCHEMA
    return Draft202012Validator(meta, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _check_schema(path: Path, key: str, schema: Mapping[str, Any]) -> None:
    # As check_schema (its first error), with the metaschema's validator built once:
    # loading an installed skill checks two schemas per tool.
    error = next(_metaschema().iter_errors(schema), None)
    if error is not None:
        where = key_path(error.absolute_path, key)
        raise ManifestError(path, where, f"not a valid JSON Schema: {error.message}")
    remote = next(_remote_refs(schema), None)
    if remote is not None:
        raise ManifestError(path, key, f"$ref {remote!r} is not local (only '#...' refs)")


def _remote_refs(node: object) -> Iterator[str]:
    """Every ``$ref``/``$dynamicRef`` that would make a validator fetch something."""
    if isinstance(node, dict):
        for name, value in node.items():
            if name in ("$ref", "$dynamicRef") and isinstance(value, str):
                if not value.startswith("#"):
                    yield value
            else:
                yield from _remote_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _remote_refs(item)


def _check_unique(path: Path, tools: Sequence[ToolSpec]) -> None:
    seen: set[str] = set()
    for index, tool in enumerate(tools):
        if tool.name in seen:
            raise ManifestError(path, f"tools[{index}].name", f"duplicate tool name {tool.name!r}")
        seen.add(tool.name)


def _command(
    path: Path, raw: Mapping[str, str] | None, tools: Sequence[ToolSpec]
) -> CommandSpec | None:
    if raw is None:
        return None
    tool = next((t for t in tools if t.name == raw["tool"]), None)
    if tool is None:
        names = ", ".join(t.name for t in tools) or "none"
        raise ManifestError(path, "command.tool", f"no tool named {raw['tool']!r} (tools: {names})")
    argument = tool.input_schema.get("properties", {}).get(raw["argument"])
    if not isinstance(argument, dict) or argument.get("type") != "string":
        raise ManifestError(
            path,
            "command.argument",
            f"{raw['argument']!r} must be a string property of {tool.name}'s input",
        )
    return CommandSpec(tool=tool.name, argument=raw["argument"])


def _permissions(raw: Mapping[str, list[str]]) -> Permissions:
    return Permissions(
        network=tuple(raw.get("network", ())),
        env=tuple(raw.get("env", ())),
        binaries=tuple(raw.get("binaries", ())),
        filesystem=tuple(raw.get("filesystem", ())),
    )


def _requirement_warnings(requirements: Sequence[str]) -> tuple[SkillWarning, ...]:
    if not requirements:
        return ()
    message = (
        "requirements are not installed yet (no per-skill environments); tools get stdlib only"
    )
    return (SkillWarning(WarningCode.IGNORED, message),)
