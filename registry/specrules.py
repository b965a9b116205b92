"""The Agent Skills spec's rules for SKILL.md, checked strictly for publishing.

Theory of operation
-------------------
:func:`read_skill_md` reads a skill folder's SKILL.md the way the spec's
reference validator (``skills-ref`` 0.1.1) reads it, and reports what that
validator would report, as ``spec``-scoped issues: the file is ``SKILL.md``
or ``skill.md``; its text is UTF-8 and starts with ``---``; the frontmatter
is closed; it is StrictYAML (:func:`registry.yamlsafe.strict_load`: block
style, no anchors, tags or duplicate keys); it is a mapping with only the
six spec fields; ``name`` and ``description`` are non-empty strings within
their lengths, the name (NFKC) is lowercase letters, digits and single inner
hyphens and equals the folder's name; ``compatibility`` is a string of at
most 500 characters.

Where the reference reads more loosely than the spec's text, ``strict``
issues say so (non-ASCII names, ``skill.md``, non-string ``license`` or
``allowed-tools``, nested metadata, over 500 lines).  One case is ours to
decide: the reference ends the frontmatter at the first ``---`` *anywhere*
(``content.split("---", 2)``), so a ``---`` inside a value silently cuts it;
we refuse that as a ``spec`` error rather than publish a cut description.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from registry.errors import YamlError
from registry.package import MAX_SKILL_MD_BYTES, SKILL_FILE
from registry.report import Issue, IssueCode, make_issue
from registry.skillmd import COMPATIBILITY_MAX, DESCRIPTION_MAX, NAME_MAX, SPEC_KEYS, name_problems
from registry.yamlsafe import strict_load

__all__ = ["BODY_MAX_LINES", "SkillMdReading", "read_skill_md"]

BODY_MAX_LINES = 500  # spec: "keep SKILL.md under 500 lines"
_FENCE = "---"
_C = IssueCode


@dataclass(slots=True)
class SkillMdReading:
    """What :func:`read_skill_md` found; ``fields`` is ``None`` unless the YAML was a mapping."""

    file: str = SKILL_FILE
    issues: list[Issue] = field(default_factory=list)
    fields: dict[str, object] | None = None
    key_lines: Mapping[str, int] = field(default_factory=dict)
    body: str = ""

    def add(self, code: IssueCode, problem: str, *, line: int | None = None) -> None:
        self.issues.append(make_issue(code, self.file, problem, line=line))

    def at(self, key: str, code: IssueCode, problem: str) -> None:
        """An issue about frontmatter field ``key``, at the line where it is."""
        line = self.key_lines.get(key)
        self.issues.append(make_issue(code, self.file, problem, key=key, line=line))


def read_skill_md(folder: Path) -> SkillMdReading:
    """Check ``folder``'s SKILL.md against the spec; never raises for bad content."""
    reading = SkillMdReading()
    source = _source(folder, reading)
    if source is None:
        return reading
    text = _text(source, reading)
    if text is not None:
        _read_document(text, reading)
    if reading.fields is not None:
        _check_fields(reading.fields, folder.name, reading)
    return reading


def _source(folder: Path, reading: SkillMdReading) -> Path | None:
    # skills-ref looks for exactly these two names; ``Skill.md`` is not found.
    for name in (SKILL_FILE, "skill.md"):
        if (folder / name).is_file():
            reading.file = name
            if name != SKILL_FILE:
                reading.add(_C.SKILL_MD_CASE, f"rename it to {SKILL_FILE} (the spec's file name)")
            return folder / name
    reading.add(_C.SKILL_MD_MISSING, f"no {SKILL_FILE} in {folder.name}/")
    return None


def _text(source: Path, reading: SkillMdReading) -> str | None:
    try:
        with source.open("rb") as file:
            raw = file.read(MAX_SKILL_MD_BYTES + 1)
    except OSError as exc:
        reading.add(_C.SKILL_MD_MISSING, f"cannot be read: {exc.strerror or exc}")
        return None
    if len(raw) > MAX_SKILL_MD_BYTES:
        reading.add(_C.SKILL_MD_TOO_LARGE, f"larger than {MAX_SKILL_MD_BYTES} bytes")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        reading.add(_C.NOT_UTF8, f"not UTF-8 text (byte {exc.start})")
        return None
    # Universal newlines, as Path.read_text gives them to the reference validator.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_document(text: str, reading: SkillMdReading) -> None:
    lines = text.split("\n")
    if not text.startswith(_FENCE) or lines[0].rstrip() != _FENCE:
        bom = " (it starts with a byte order mark)" if text.startswith("\ufeff") else ""
        reading.add(_C.FRONTMATTER_MISSING, f"must start with a '---' line{bom}", line=1)
        return
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == _FENCE), None)
    if end is None:
        reading.add(_C.FRONTMATTER_UNCLOSED, "the frontmatter has no closing '---' line", line=1)
        return
    inner = next((i for i in range(1, end) if _FENCE in lines[i]), None)
    if inner is not None:
        problem = "'---' inside the frontmatter; readers end it there (quote or reword)"
        reading.add(_C.FRONTMATTER_FENCE, problem, line=inner + 1)
        return
    reading.body = "\n".join(lines[end + 1 :]).strip()
    _parse(lines[1:end], reading)


def _parse(yaml_lines: list[str], reading: SkillMdReading) -> None:
    try:
        document = strict_load("\n".join(yaml_lines))
    except YamlError as exc:
        line = exc.line + 1 if exc.line is not None else None
        reading.add(_C.FRONTMATTER_YAML, f"frontmatter: {exc.problem}", line=line)
        return
    if not isinstance(document.data, dict):
        reading.add(_C.FRONTMATTER_NOT_MAP, "the frontmatter must be a map of keys", line=2)
        return
    reading.fields = document.data
    reading.key_lines = {key: line + 1 for key, line in document.key_lines.items()}


def _check_fields(fields: dict[str, object], folder_name: str, reading: SkillMdReading) -> None:
    unknown = sorted(set(fields) - SPEC_KEYS)
    if unknown:
        allowed = ", ".join(sorted(SPEC_KEYS))
        problem = f"fields outside the Agent Skills spec: {', '.join(unknown)} (allowed: {allowed})"
        reading.at(unknown[0], _C.UNKNOWN_FIELD, problem)
    _check_name(fields, folder_name, reading)
    _check_description(fields, reading)
    _check_optional(fields, reading)


def _check_name(fields: dict[str, object], folder_name: str, reading: SkillMdReading) -> None:
    if "name" not in fields:
        reading.add(_C.NAME_MISSING, "the name field is required")
        return
    raw = fields["name"]
    if not isinstance(raw, str) or not raw.strip():
        reading.at("name", _C.NAME_EMPTY, "must be a non-empty string")
        return
    before = len(reading.issues)
    name = unicodedata.normalize("NFKC", raw.strip())
    for code, broken, problem in _name_rules(name):
        if broken:
            reading.at("name", code, problem)
    if unicodedata.normalize("NFKC", folder_name) != name:
        problem = f"{name!r} must equal the folder name {folder_name!r}"
        reading.at("name", _C.NAME_MISMATCH, problem)
    if len(reading.issues) == before and (name_problems(raw) or raw != folder_name):
        problem = f"{raw!r} must be exactly the folder name, in a-z, 0-9 and '-'"
        reading.at("name", _C.NAME_ASCII, problem)


def _name_rules(name: str) -> list[tuple[IssueCode, bool, str]]:
    return [
        (_C.NAME_TOO_LONG, len(name) > NAME_MAX, f"{name!r} is over {NAME_MAX} characters"),
        (_C.NAME_CASE, name != name.lower(), f"{name!r} must be lowercase"),
        (_C.NAME_HYPHEN, name[0] == "-" or name[-1] == "-", "must not start or end with '-'"),
        (_C.NAME_DOUBLE_HYPHEN, "--" in name, "must not contain '--'"),
        (
            _C.NAME_CHARS,
            not all(c.isalnum() or c == "-" for c in name),
            f"{name!r} may only hold letters, digits and '-'",
        ),
    ]


def _check_description(fields: dict[str, object], reading: SkillMdReading) -> None:
    if "description" not in fields:
        reading.add(_C.DESCRIPTION_MISSING, "the description field is required")
        return
    value = fields["description"]
    if not isinstance(value, str) or not value.strip():
        reading.at("description", _C.DESCRIPTION_EMPTY, "must be a non-empty string")
    elif len(value) > DESCRIPTION_MAX:
        problem = f"has {len(value)} characters; the limit is {DESCRIPTION_MAX}"
        reading.at("description", _C.DESCRIPTION_TOO_LONG, problem)


def _check_optional(fields: dict[str, object], reading: SkillMdReading) -> None:
    for key, code in (
        ("compatibility", _C.COMPATIBILITY_TYPE),
        ("license", _C.LICENSE_TYPE),
        ("allowed-tools", _C.ALLOWED_TOOLS_TYPE),
    ):
        if key in fields and not isinstance(fields[key], str):
            reading.at(key, code, "must be a string")
    compatibility = fields.get("compatibility")
    if isinstance(compatibility, str) and len(compatibility) > COMPATIBILITY_MAX:
        problem = f"has {len(compatibility)} characters; the limit is {COMPATIBILITY_MAX}"
        reading.at("compatibility", _C.COMPATIBILITY_TOO_LONG, problem)
    _check_metadata(fields.get("metadata"), reading)
    lines = reading.body.count("\n") + 1 if reading.body else 0
    if lines > BODY_MAX_LINES:
        problem = f"the body has {lines} lines; the spec asks for under {BODY_MAX_LINES}"
        reading.add(_C.BODY_LINES, problem)


def _check_metadata(metadata: object, reading: SkillMdReading) -> None:
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        reading.at("metadata", _C.METADATA_TYPE, "must be a map of strings")
        return
    nested = sorted(key for key, value in metadata.items() if not isinstance(value, str))
    if nested:
        problem = f"values must be strings; nested under {', '.join(nested)}"
        reading.at("metadata", _C.METADATA_NESTED, problem)
