"""Load a skill folder: ``SKILL.md`` (Agent Skills spec) plus an optional ``skill.yaml``.

Theory of operation
-------------------
:func:`load_skill` is the lenient loader for skills users already have.  It
reads at most :data:`MAX_SKILL_MD_BYTES` of ``SKILL.md`` (or ``skill.md`` in
another case, as some authors write it), splits off the frontmatter
(:mod:`registry.frontmatter`), parses it with the safe YAML loader
(:mod:`registry.yamlsafe`) and retries once with unquoted ``: `` values
quoted, then maps it onto a :class:`SkillManifest` (:mod:`registry.skillmd`).
Every tolerated quirk becomes a :class:`SkillWarning` on the result.

``skill.yaml`` (:mod:`registry.sidecar`) is ours and therefore strict.
Without one, what OpenClaw's ``metadata.openclaw`` requires (binaries, env
vars) becomes the skill's permissions (:mod:`registry.openclaw`); with one,
``skill.yaml`` alone decides and a requirement it leaves out is a warning.

Refusals raise :class:`SkillError` naming the file and the fault: no
SKILL.md, no frontmatter, YAML that is unreadable or unsafe (aliases, tags,
duplicate keys, oversize), no description, or an invalid ``skill.yaml``.
"""

from __future__ import annotations

from pathlib import Path

from registry.errors import SkillError, UnsafeYamlError, YamlError
from registry.frontmatter import SplitDocument, quote_plain_values, split_frontmatter
from registry.model import LoadedSkill, Permissions, SkillManifest, SkillWarning, WarningCode
from registry.openclaw import OpenClawMapping, map_openclaw
from registry.sidecar import Sidecar, load_sidecar
from registry.skillmd import build_manifest
from registry.yamlsafe import safe_load

__all__ = ["MAX_SKILL_MD_BYTES", "SKILL_FILE", "find_skill_file", "load_skill"]

SKILL_FILE = "SKILL.md"
# The largest real SKILL.md in our corpus is 74 KB; 1 MiB leaves room
# without letting one file exhaust memory.  The frontmatter has its own cap.
MAX_SKILL_MD_BYTES = 1024 * 1024


def find_skill_file(folder: Path) -> Path | None:
    """``folder/SKILL.md``, else a file named so in another case (``skill.md``), else ``None``."""
    # Listing the folder rather than probing paths keeps the answer exact
    # on case-insensitive filesystems.
    names = sorted(entry.name for entry in folder.iterdir()) if folder.is_dir() else []
    candidates = [n for n in names if n == SKILL_FILE] + [
        n for n in names if n.lower() == "skill.md"
    ]
    return next((folder / n for n in candidates if (folder / n).is_file()), None)


def load_skill(path: Path) -> LoadedSkill:
    """Load the skill in folder ``path`` (or whose SKILL.md is ``path``).

    Never raises for quirks (they become ``warnings``); raises
    :class:`SkillError` when the skill has no usable name and description or
    its ``skill.yaml`` is invalid.
    """
    folder = (path.parent if path.is_file() else path).resolve()
    source = find_skill_file(folder)
    if source is None:
        raise SkillError(folder, f"not a skill folder: no {SKILL_FILE} here")
    warnings: list[SkillWarning] = []
    if source.name != SKILL_FILE:
        _warn(warnings, WarningCode.FILENAME_CASE, f"{source.name} should be named {SKILL_FILE}")
    document = _split(source, _read_text(source, warnings), warnings)
    data = _parse_frontmatter(source, document, warnings)
    manifest = build_manifest(data, source=source, body=document.body, warnings=warnings)
    return _assemble(manifest, load_sidecar(folder), warnings)


def _assemble(
    manifest: SkillManifest, sidecar: Sidecar | None, warnings: list[SkillWarning]
) -> LoadedSkill:
    """The loaded skill: ``skill.yaml`` when there is one, else what OpenClaw metadata says."""
    mapping = map_openclaw(manifest)
    warnings += _openclaw_warnings(mapping, sidecar)
    if sidecar is None:
        permissions = mapping.permissions if mapping is not None else Permissions()
        return LoadedSkill(manifest=manifest, permissions=permissions, warnings=tuple(warnings))
    return LoadedSkill(
        manifest=manifest,
        tools=sidecar.tools,
        permissions=sidecar.permissions,
        command=sidecar.command,
        version=sidecar.version,
        warnings=(*warnings, *sidecar.warnings),
    )


def _openclaw_warnings(
    mapping: OpenClawMapping | None, sidecar: Sidecar | None
) -> list[SkillWarning]:
    if mapping is None:
        return []
    texts = list(mapping.warnings)
    if sidecar is not None:
        declared = sidecar.permissions
        missing = [b for b in mapping.permissions.binaries if b not in declared.binaries]
        missing += [e for e in mapping.permissions.env if e not in declared.env]
        if missing:
            listed = ", ".join(missing)
            key = mapping.key
            texts.append(f"metadata.{key} requires {listed}, which skill.yaml does not declare")
    return [SkillWarning(WarningCode.OPENCLAW_UNMAPPED, text) for text in texts]


def _warn(warnings: list[SkillWarning], code: WarningCode, message: str) -> None:
    warnings.append(SkillWarning(code, message))


def _read_text(source: Path, warnings: list[SkillWarning]) -> str:
    try:
        with source.open("rb") as file:
            raw = file.read(MAX_SKILL_MD_BYTES + 1)
    except OSError as exc:
        raise SkillError(source, f"cannot be read: {exc.strerror or exc}") from None
    if len(raw) > MAX_SKILL_MD_BYTES:
        raise SkillError(source, f"larger than {MAX_SKILL_MD_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        _warn(warnings, WarningCode.IGNORED, f"not UTF-8 (byte {exc.start}); bad bytes replaced")
        return raw.decode("utf-8", errors="replace")


def _split(source: Path, text: str, warnings: list[SkillWarning]) -> SplitDocument:
    document = split_frontmatter(text)
    if document is None:
        raise SkillError(source, "no YAML frontmatter: the file must start with a '---' line")
    if document.had_bom:
        _warn(warnings, WarningCode.BOM, "the file starts with a UTF-8 byte order mark")
    if document.had_crlf:
        _warn(warnings, WarningCode.CRLF, "the file uses CRLF line ends")
    if not document.closed:
        message = "the frontmatter has no closing '---'; it was read up to the first blank line"
        _warn(warnings, WarningCode.UNCLOSED_FRONTMATTER, message)
    return document


def _parse_frontmatter(
    source: Path, document: SplitDocument, warnings: list[SkillWarning]
) -> dict[str, object]:
    try:
        data = _load_leniently(document.yaml_text, warnings)
    except YamlError as exc:
        raise SkillError(source, _frontmatter_problem(exc, document.yaml_line)) from None
    if not isinstance(data, dict):
        raise SkillError(source, "the frontmatter must be a map of keys (name, description, ...)")
    return data


def _load_leniently(yaml_text: str, warnings: list[SkillWarning]) -> object:
    """Parse; on a syntax error retry once with plain values quoted (never unsafe input)."""
    try:
        return safe_load(yaml_text)
    except UnsafeYamlError:
        raise
    except YamlError as first:
        repaired = quote_plain_values(yaml_text)
        if repaired is None:
            raise
        try:
            data = safe_load(repaired)
        except YamlError:
            raise first from None
    message = "the frontmatter is not valid YAML (an unquoted ': ' in a value?); quoted it"
    _warn(warnings, WarningCode.YAML_REPAIRED, message)
    return data


def _frontmatter_problem(exc: YamlError, first_line: int) -> str:
    """Restate a YAML error with the line number in SKILL.md, not in the frontmatter."""
    if exc.line is None:
        return f"frontmatter: {exc.problem}"
    return f"frontmatter, line {exc.line + first_line - 1}: {exc.problem}"
