"""registry.validate: the strict publish validator, rule by rule."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.report import RULES, IssueCode, IssueSeverity, Scope, ValidationReport
from registry.validate import validate_for_publish

REPO = Path(__file__).resolve().parents[2]
C = IssueCode
GOOD = "name: demo\ndescription: Does demo things. Use when testing.\n"
TOOL = {
    "name": "run",
    "description": "Run it.",
    "entrypoint": "scripts/run.py",
    "input": {"type": "object", "properties": {"text": {"type": "string"}}},
    "output": {"type": "object"},
}


def skill(
    root: Path,
    frontmatter: str = GOOD,
    *,
    folder: str = "demo",
    body: str = "# Demo\n\nBody.\n",
    raw: bytes | None = None,
    filename: str = "SKILL.md",
    sidecar: object | None = None,
) -> Path:
    path = root / folder
    (path / "scripts").mkdir(parents=True, exist_ok=True)
    (path / "scripts" / "run.py").write_text("print('{}')\n")
    content = raw if raw is not None else f"---\n{frontmatter}---\n{body}".encode()
    (path / filename).write_bytes(content)
    if sidecar is not None:
        (path / "skill.yaml").write_text(json.dumps(sidecar))
    return path


def report(root: Path, frontmatter: str = GOOD, **kwargs: object) -> ValidationReport:
    return validate_for_publish(skill(root, frontmatter, **kwargs))  # type: ignore[arg-type]


def codes(result: ValidationReport) -> set[IssueCode]:
    return set(result.codes())


def test_a_clean_skill_passes(tmp_path: Path) -> None:
    result = report(tmp_path, sidecar={"version": "1.0.0", "tools": [TOOL]})
    assert result.issues == ()
    assert result.ok and result.spec_ok
    assert result.skill is not None and result.skill.version == "1.0.0"


@pytest.mark.parametrize("folder", sorted(p for p in (REPO / "skills").iterdir() if p.is_dir()))
def test_first_party_skills_are_publishable(folder: Path) -> None:
    assert validate_for_publish(folder).issues == ()


def test_every_code_has_one_rule_row() -> None:
    assert set(RULES) == set(IssueCode)
    spec = {code for code, (scope, _) in RULES.items() if scope is Scope.SPEC}
    assert all(RULES[code][1] is IssueSeverity.ERROR for code in spec)


# ----------------------------------------------------------------------------- spec rules


@pytest.mark.parametrize(
    ("frontmatter", "folder", "expected", "line"),
    [
        ("description: d\n", "demo", C.NAME_MISSING, None),
        ("name: ''\ndescription: d\n", "demo", C.NAME_EMPTY, 2),
        ("name:\n  - a\ndescription: d\n", "demo", C.NAME_EMPTY, 2),
        (f"name: {'a' * 65}\ndescription: d\n", "a" * 65, C.NAME_TOO_LONG, 2),
        ("name: Demo\ndescription: d\n", "Demo", C.NAME_CASE, 2),
        ("name: -demo\ndescription: d\n", "-demo", C.NAME_HYPHEN, 2),
        ("name: de--mo\ndescription: d\n", "de--mo", C.NAME_DOUBLE_HYPHEN, 2),
        ("name: de_mo\ndescription: d\n", "de_mo", C.NAME_CHARS, 2),
        ("name: other\ndescription: d\n", "demo", C.NAME_MISMATCH, 2),
        ("name: demo\n", "demo", C.DESCRIPTION_MISSING, None),
        ("name: demo\ndescription: '  '\n", "demo", C.DESCRIPTION_EMPTY, 3),
        (f"name: demo\ndescription: {'d' * 1025}\n", "demo", C.DESCRIPTION_TOO_LONG, 3),
        ("name: demo\ndescription: d\ncompatibility:\n  a: b\n", "demo", C.COMPATIBILITY_TYPE, 4),
        (f"name: demo\ndescription: d\ncompatibility: {'c' * 501}\n", "demo",
         C.COMPATIBILITY_TOO_LONG, 4),
        ("name: demo\ndescription: d\nversion: 1.0.0\n", "demo", C.UNKNOWN_FIELD, 4),
        ("name: demo\ndescription: d\nmetadata: {a: b}\n", "demo", C.FRONTMATTER_YAML, 4),
        ("name: demo\ndescription: d\ntags: [a]\n", "demo", C.FRONTMATTER_YAML, 4),
        ("name: &n demo\ndescription: d\n", "demo", C.FRONTMATTER_YAML, 2),
        ("name: !!str demo\ndescription: d\n", "demo", C.FRONTMATTER_YAML, 2),
        ("name: demo\nname: demo\ndescription: d\n", "demo", C.FRONTMATTER_YAML, 3),
        ("name: demo\ndescription: Use when: x\n", "demo", C.FRONTMATTER_YAML, 3),
        ("name: demo\ndescription: a --- b\n", "demo", C.FRONTMATTER_FENCE, 3),
        ("- a\n- b\n", "demo", C.FRONTMATTER_NOT_MAP, 2),
    ],
)  # fmt: skip
def test_spec_rules(
    tmp_path: Path, frontmatter: str, folder: str, expected: IssueCode, line: int | None
) -> None:
    result = report(tmp_path, frontmatter, folder=folder)
    issue = next(i for i in result.issues if i.code is expected)
    assert (issue.scope, issue.severity, issue.line) == (Scope.SPEC, IssueSeverity.ERROR, line)
    assert issue.file == "SKILL.md"
    assert issue.message.startswith("SKILL.md")
    assert not result.ok and not result.spec_ok


def test_the_message_names_file_line_and_key(tmp_path: Path) -> None:
    result = report(tmp_path, "name: Demo\ndescription: d\n", folder="Demo")
    issue = next(i for i in result.issues if i.code is C.NAME_CASE)
    assert issue.message == "SKILL.md, line 2: name: 'Demo' must be lowercase"
    assert str(issue) == f"error: {issue.message} [name-case]"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"# no frontmatter\n", C.FRONTMATTER_MISSING),
        (b"\xef\xbb\xbf---\nname: demo\ndescription: d\n---\n", C.FRONTMATTER_MISSING),
        (b"\n---\nname: demo\ndescription: d\n---\n", C.FRONTMATTER_MISSING),
        (b"---\nname: demo\ndescription: d\n\n# Body\n", C.FRONTMATTER_UNCLOSED),
        (b"---\nname: demo\ndescription: caf\xe9\n---\n", C.NOT_UTF8),
        (b"---\nname: demo\ndescription: a\x07b\n---\n", C.FRONTMATTER_YAML),
    ],
)
def test_file_level_spec_rules(tmp_path: Path, raw: bytes, expected: IssueCode) -> None:
    result = report(tmp_path, raw=raw)
    assert expected in codes(result)
    assert not result.spec_ok


def test_crlf_is_fine(tmp_path: Path) -> None:
    raw = b"---\r\nname: demo\r\ndescription: d\r\n---\r\n# Body\r\n"
    assert report(tmp_path, raw=raw).issues == ()


def test_no_skill_md(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    result = validate_for_publish(folder)
    assert codes(result) == {C.SKILL_MD_MISSING}
    assert validate_for_publish(tmp_path / "absent").codes() == {C.SKILL_MD_MISSING}


def test_other_cases_of_skill_md_are_not_found(tmp_path: Path) -> None:
    # The reference validator looks for exactly SKILL.md or skill.md.
    assert C.SKILL_MD_MISSING in codes(report(tmp_path, filename="Skill.md"))


# ----------------------------------------------------------------------------- strict rules


@pytest.mark.parametrize(
    ("frontmatter", "folder", "filename", "expected"),
    [
        (GOOD, "demo", "skill.md", C.SKILL_MD_CASE),
        ("name: démo\ndescription: d\n", "démo", "SKILL.md", C.NAME_ASCII),
        ("name: ' demo'\ndescription: d\n", "demo", "SKILL.md", C.NAME_ASCII),
        ("name: demo\ndescription: d\nlicense:\n  - MIT\n", "demo", "SKILL.md", C.LICENSE_TYPE),
        ("name: demo\ndescription: d\nallowed-tools:\n  - Read\n", "demo", "SKILL.md",
         C.ALLOWED_TOOLS_TYPE),
        ("name: demo\ndescription: d\nmetadata:\n  - a\n", "demo", "SKILL.md", C.METADATA_TYPE),
    ],
)  # fmt: skip
def test_strict_rules_are_errors_but_not_spec(
    tmp_path: Path, frontmatter: str, folder: str, filename: str, expected: IssueCode
) -> None:
    result = report(tmp_path, frontmatter, folder=folder, filename=filename)
    assert codes(result) == {expected}
    assert result.spec_ok and not result.ok
    assert result.issues[0].scope is Scope.STRICT


def test_nested_metadata_and_long_bodies_are_warnings(tmp_path: Path) -> None:
    frontmatter = GOOD + "metadata:\n  openclaw:\n    emoji: x\n"
    body = "# Demo\n" + "line\n" * 600
    result = report(tmp_path, frontmatter, body=body)
    assert codes(result) == {C.METADATA_NESTED, C.BODY_LINES}
    assert result.ok and result.warnings[0].severity is not IssueSeverity.ERROR


# ----------------------------------------------------------------------------- registry rules


def test_an_invalid_sidecar_names_its_key(tmp_path: Path) -> None:
    result = report(tmp_path, sidecar={"version": "1.0.0", "tools": [{**TOOL, "timeout": 999}]})
    issue = next(i for i in result.issues if i.code is C.SIDECAR_INVALID)
    assert (issue.file, issue.key, issue.scope) == (
        "skill.yaml",
        "tools[0].timeout",
        Scope.REGISTRY,
    )
    assert issue.message.startswith("skill.yaml: tools[0].timeout: ")
    assert "maximum of 120" in issue.message
    assert result.spec_ok and not result.ok


def test_a_folder_that_cannot_be_packed(tmp_path: Path) -> None:
    folder = skill(tmp_path)
    os.symlink("/etc/passwd", folder / "passwd")
    result = validate_for_publish(folder)
    issue = next(i for i in result.issues if i.code is C.PACKAGE_INVALID)
    assert issue.file == "passwd"
    assert "symbolic link" in issue.message


def test_budgets_are_warnings(tmp_path: Path) -> None:
    description = " ".join(["word"] * 120)
    body = "# Demo\n\n" + "x" * 9000
    result = report(tmp_path, f"name: demo\ndescription: {description}\n", body=body)
    assert codes(result) == {C.BODY_BUDGET, C.CATALOG_BUDGET}
    assert result.ok
    assert "about 2252 tokens" in next(i.message for i in result.issues if i.code is C.BODY_BUDGET)


def test_an_empty_body_is_a_warning(tmp_path: Path) -> None:
    assert codes(report(tmp_path, body="")) == {C.BODY_EMPTY}


def test_openclaw_metadata_that_cannot_be_mapped_is_a_warning(tmp_path: Path) -> None:
    frontmatter = GOOD + textwrap.dedent("""\
        metadata:
          openclaw: '{"requires": {"bins": ["op"], "config": ["x"]},
            "install": [{"kind": "brew", "formula": "1password-cli"}]}'
    """)
    result = report(tmp_path, frontmatter)
    messages = [i.message for i in result.issues if i.code is C.OPENCLAW_UNMAPPED]
    assert any("requires.config" in m for m in messages)
    assert any("brew 1password-cli" in m for m in messages)
    assert result.ok
    assert result.skill is not None and result.skill.permissions.binaries == ("op",)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    frontmatter = "name: Other\ndescription: d\nversion: 1\n"
    folder = skill(tmp_path, frontmatter, sidecar={"version": "x"})
    (folder / "evil").symlink_to("/etc")
    found = codes(validate_for_publish(folder))
    assert {
        C.UNKNOWN_FIELD,
        C.NAME_CASE,
        C.NAME_MISMATCH,
        C.SIDECAR_INVALID,
        C.PACKAGE_INVALID,
    } <= found


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=400) | st.text(max_size=300).map(lambda t: ("---\n" + t).encode()))
def test_the_validator_never_raises(tmp_path: Path, raw: bytes) -> None:
    folder = tmp_path / "fuzz"
    folder.mkdir(exist_ok=True)
    (folder / "SKILL.md").write_bytes(raw)
    result = validate_for_publish(folder)
    assert result.ok == (not result.errors)


def test_unreadable_files_are_issues_not_crashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests may run as root, which reads any file; the refusal is simulated instead.
    folder = skill(tmp_path)
    real_open, real_path_open = os.open, Path.open

    def denied(path: object, *args: object, **kwargs: object) -> object:
        if str(path).endswith(("run.py", "SKILL.md")):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    def denied_path(self: Path, *args: object, **kwargs: object) -> object:
        if self.name == "SKILL.md":
            raise PermissionError(13, "Permission denied")
        return real_path_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", denied)
    monkeypatch.setattr(Path, "open", denied_path)
    result = validate_for_publish(folder)
    messages = [i.message for i in result.issues]
    assert {C.SKILL_MD_MISSING, C.PACKAGE_INVALID} <= codes(result), messages
    assert any("Permission denied" in m for m in messages)
