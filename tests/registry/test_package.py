"""registry.package: SKILL.md (Agent Skills spec) leniently, skill.yaml strictly, YAML safely."""

from __future__ import annotations

import ast
import contextlib
import csv
import json
import os
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import registry
from registry import (
    LoadedSkill,
    ManifestError,
    SkillError,
    UnsafeYamlError,
    WarningCode,
    YamlError,
    load_skill,
    name_problems,
    safe_load,
)
from registry import scan as scanner
from registry.sidecar import sidecar_schema

REPO = Path(__file__).resolve().parents[2]
FIRST_PARTY = sorted(p for p in (REPO / "skills").iterdir() if (p / "SKILL.md").is_file())
CORPUS = Path(os.environ.get("SKILLYARD_SKILL_CORPUS", "/work/shared/corpus/skills"))

GOOD_FRONTMATTER = "name: demo\ndescription: Does demo things. Use when testing.\n"
GOOD_TOOL = {
    "name": "run",
    "description": "Run it.",
    "entrypoint": "scripts/run.py",
    "input": {"type": "object", "properties": {"text": {"type": "string"}}},
    "output": {"type": "object"},
}


def write_skill(
    root: Path,
    frontmatter: str = GOOD_FRONTMATTER,
    *,
    folder: str = "demo",
    body: str = "# Demo\n\nBody.\n",
    filename: str = "SKILL.md",
    sidecar: object | None = None,
) -> Path:
    skill = root / folder
    (skill / "scripts").mkdir(parents=True, exist_ok=True)
    (skill / "scripts" / "run.py").write_text("print('{}')\n")
    (skill / filename).write_text(f"---\n{frontmatter}---\n{body}", encoding="utf-8")
    if sidecar is not None:
        text = sidecar if isinstance(sidecar, str) else json.dumps(sidecar)
        (skill / "skill.yaml").write_text(text, encoding="utf-8")
    return skill


def codes(skill: LoadedSkill) -> set[WarningCode]:
    return {warning.code for warning in skill.warnings}


# ----------------------------------------------------------------------------- public API


def test_public_exports() -> None:
    assert set(registry.__all__) == {
        "ArchiveFormatError", "ArchiveLimitError", "ArchiveLimits", "CommandSpec", "Issue",
        "IssueCode", "IssueSeverity", "LoadedSkill", "ManifestError", "NameDecision",
        "NamePolicy", "NameVerdict", "PackageError", "PackageFile", "Permissions",
        "RegistryError", "Scope", "SkillError", "SkillManifest", "SkillWarning", "ToolSpec",
        "UnsafePathError", "UnsafeYamlError", "ValidationReport", "WarningCode", "YamlError",
        "check_new_name", "content_hash", "find_skill_file", "hash_folder", "load_skill",
        "name_problems", "pack", "read_folder", "safe_load", "unpack", "validate_for_publish",
        "write_tree",
    }  # fmt: skip
    assert all(hasattr(registry, name) for name in registry.__all__)
    assert set(scanner.__all__) == {
        "RULES", "RULESET_VERSION", "Finding", "RuleInfo", "ScanReport", "Severity", "Verdict",
        "scan",
    }  # fmt: skip


def test_registry_imports_nothing_of_ours() -> None:
    ours = {"gateway", "brain", "channels", "skills", "tests"}
    for module in (REPO / "registry").rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not {n.split(".")[0] for n in names} & ours, module


# ----------------------------------------------------------------------------- spec rules


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "1-64"),
        ("a" * 65, "1-64"),
        ("Demo", "lowercase"),
        ("demo_skill", "lowercase"),
        ("-demo", "start or end"),
        ("demo-", "start or end"),
        ("de--mo", "'--'"),
        ("dému", "lowercase"),
    ],
)
def test_name_rules(name: str, fragment: str) -> None:
    assert any(fragment in problem for problem in name_problems(name))


@pytest.mark.parametrize("name", ["a", "pdf", "unit-convert", "a1-b2", "x" * 64])
def test_valid_names(name: str) -> None:
    assert name_problems(name) == []


def test_a_clean_skill_loads_without_warnings(tmp_path: Path) -> None:
    frontmatter = GOOD_FRONTMATTER + textwrap.dedent("""\
        license: Apache-2.0
        compatibility: Needs Python 3.11
        metadata:
          author: someone
          version: "1.0"
        allowed-tools: Bash(git:*) Read
    """)
    skill = load_skill(write_skill(tmp_path, frontmatter))
    manifest = skill.manifest
    assert skill.warnings == ()
    assert (manifest.name, manifest.license, manifest.compatibility) == (
        "demo",
        "Apache-2.0",
        "Needs Python 3.11",
    )
    assert manifest.metadata == (("author", "someone"), ("version", "1.0"))
    assert manifest.allowed_tools == ("Bash(git:*)", "Read")
    assert manifest.body == "# Demo\n\nBody."
    assert manifest.path == (tmp_path / "demo").resolve()
    assert (skill.tools, skill.command, skill.version) == ((), None, None)


def test_a_skill_md_path_is_accepted_too(tmp_path: Path) -> None:
    assert load_skill(write_skill(tmp_path) / "SKILL.md").name == "demo"


def test_name_must_match_the_folder_but_only_warns(tmp_path: Path) -> None:
    skill = load_skill(write_skill(tmp_path, folder="other"))
    assert skill.name == "demo"
    assert codes(skill) == {WarningCode.NAME_MISMATCH}
    assert "'other'" in skill.warnings[0].message


def test_invalid_name_warns_with_every_problem(tmp_path: Path) -> None:
    skill = load_skill(write_skill(tmp_path, "name: My--Skill\ndescription: d\n", folder="x"))
    message = next(w.message for w in skill.warnings if w.code is WarningCode.NAME_INVALID)
    assert "lowercase" in message
    assert "'--'" in message


def test_missing_name_falls_back_to_the_folder(tmp_path: Path) -> None:
    skill = load_skill(write_skill(tmp_path, "description: d\n", folder="fallback"))
    assert skill.name == "fallback"
    assert codes(skill) == {WarningCode.NAME_MISSING}


@pytest.mark.parametrize("frontmatter", ["name: demo\n", "name: demo\ndescription: '  '\n"])
def test_missing_description_is_an_error_naming_the_file(tmp_path: Path, frontmatter: str) -> None:
    folder = write_skill(tmp_path, frontmatter)
    with pytest.raises(SkillError, match="no description") as caught:
        load_skill(folder)
    assert caught.value.path == folder.resolve() / "SKILL.md"
    assert str(folder.resolve() / "SKILL.md") in str(caught.value)


def test_overlong_fields_warn(tmp_path: Path) -> None:
    frontmatter = f"name: demo\ndescription: {'d' * 1025}\ncompatibility: {'c' * 501}\n"
    skill = load_skill(write_skill(tmp_path, frontmatter))
    messages = [w.message for w in skill.warnings if w.code is WarningCode.TOO_LONG]
    assert len(messages) == 2
    assert "description has 1025 characters; the limit is 1024" in messages
    assert len(skill.manifest.description) == 1025


def test_nested_metadata_is_kept_as_json_text(tmp_path: Path) -> None:
    frontmatter = GOOD_FRONTMATTER + (
        'metadata: { "openclaw": { "emoji": "🔐", "requires": { "bins": ["op"] }, }, }\n'
    )
    skill = load_skill(write_skill(tmp_path, frontmatter))
    assert codes(skill) == {WarningCode.METADATA_NESTED}
    raw = skill.manifest.metadata_value("openclaw")
    assert raw is not None
    assert json.loads(raw) == {"emoji": "🔐", "requires": {"bins": ["op"]}}


def test_unknown_keys_warn_once_listing_them(tmp_path: Path) -> None:
    frontmatter = GOOD_FRONTMATTER + "version: 1.0.0\nhomepage: https://x\ntags: [a, b]\n"
    skill = load_skill(write_skill(tmp_path, frontmatter))
    assert [w.message for w in skill.warnings] == [
        "keys outside the Agent Skills spec: homepage, tags, version"
    ]


def test_non_string_values_are_coerced_or_dropped(tmp_path: Path) -> None:
    frontmatter = "name: 123\ndescription: true\nlicense: [MIT]\nallowed-tools: [Read, Write]\n"
    skill = load_skill(write_skill(tmp_path, frontmatter, folder="123"))
    assert (skill.name, skill.manifest.description, skill.manifest.license) == ("123", "True", None)
    assert skill.manifest.allowed_tools == ("Read", "Write")
    assert WarningCode.NOT_A_STRING in codes(skill)


# ----------------------------------------------------------------------------- lenient quirks


def test_bom_and_crlf_are_accepted_with_warnings(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    text = "\ufeff---\r\nname: demo\r\ndescription: d\r\n---\r\n# Body\r\n"
    (folder / "SKILL.md").write_bytes(text.encode("utf-8"))
    skill = load_skill(folder)
    assert codes(skill) == {WarningCode.BOM, WarningCode.CRLF}
    assert skill.manifest.body == "# Body"


@pytest.mark.parametrize("filename", ["skill.md", "Skill.md"])
def test_other_cases_of_the_file_name_are_accepted(tmp_path: Path, filename: str) -> None:
    skill = load_skill(write_skill(tmp_path, filename=filename))
    assert codes(skill) == {WarningCode.FILENAME_CASE}


def test_unquoted_colon_is_repaired(tmp_path: Path) -> None:
    frontmatter = (
        "name: demo\ndescription: Use when: the user asks\n  for demos: any kind\nlicense: MIT\n"
    )
    skill = load_skill(write_skill(tmp_path, frontmatter))
    assert skill.manifest.description == "Use when: the user asks for demos: any kind"
    assert skill.manifest.license == "MIT"
    assert codes(skill) == {WarningCode.YAML_REPAIRED}


def test_missing_closing_fence_reads_up_to_the_first_blank_line(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "SKILL.md").write_text("---\nname: demo\ndescription: d\n\n# Title\n")
    skill = load_skill(folder)
    assert skill.manifest.description == "d"
    assert codes(skill) == {WarningCode.UNCLOSED_FRONTMATTER}


def test_blank_lines_before_the_fence_are_fine(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "SKILL.md").write_text("\n\n---\nname: demo\ndescription: d\n---\nbody\n")
    assert load_skill(folder).warnings == ()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("# Just markdown\n", "no YAML frontmatter"),
        ("---\n- a\n- b\n---\n", "must be a map"),
        ("---\nname: [unclosed\ndescription: d\n---\n", "frontmatter, line 3"),
    ],
)
def test_unusable_files_raise_clear_errors(tmp_path: Path, content: str, fragment: str) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "SKILL.md").write_text(content)
    with pytest.raises(SkillError, match=fragment.replace("[", r"\[")):
        load_skill(folder)


def test_a_folder_without_skill_md_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SkillError, match=r"no SKILL\.md"):
        load_skill(tmp_path)


def test_oversize_skill_md_is_refused(tmp_path: Path) -> None:
    folder = write_skill(tmp_path, body="x" * (1024 * 1024))
    with pytest.raises(SkillError, match="larger than"):
        load_skill(folder)


def test_invalid_utf8_is_replaced_with_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "SKILL.md").write_bytes(b"---\nname: demo\ndescription: caf\xe9\n---\n")
    skill = load_skill(folder)
    assert skill.manifest.description == "caf\ufffd"
    assert codes(skill) == {WarningCode.IGNORED}


# ----------------------------------------------------------------------------- safe YAML


BILLION_LAUGHS = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (BILLION_LAUGHS, "anchors"),
        ("a: *undefined\n", "aliases"),
        ("a: !!python/object/apply:os.system [ls]\n", "tags"),
        ("a: !custom x\n", "tags"),
        ("name: a\nname: b\n", "duplicate key 'name'"),
        ("m:\n  k: 1\n  k: 2\n", "duplicate key 'k'"),
        ("? [a, b]\n: c\n", "keys must be plain text"),
        ("[" * 100 + "]" * 100, "nested deeper"),
        ("a: " + "x" * (64 * 1024), "limit is 65536"),
    ],
)
def test_unsafe_yaml_is_refused(text: str, fragment: str) -> None:
    with pytest.raises(UnsafeYamlError, match=fragment):
        safe_load(text)


def test_duplicate_key_error_names_the_key_and_line() -> None:
    with pytest.raises(UnsafeYamlError) as caught:
        safe_load("a: 1\nb: 2\nb: 3\n")
    assert (caught.value.line, caught.value.problem) == (3, "duplicate key 'b'")


def test_unsafe_frontmatter_is_not_repaired_into_text(tmp_path: Path) -> None:
    frontmatter = "name: demo\nx: &a [1]\ny: *a\ndescription: Use when: anything\n"
    with pytest.raises(SkillError, match="anchors"):
        load_skill(write_skill(tmp_path, frontmatter))


def test_yaml_follows_the_json_data_model() -> None:
    text = (
        "b: no\nd: 2024-01-01\ni: 012\nn: 1.5\non: yes\nt: true\nz: ~\n"
        "big: 1234567890123456789012345678901234\n"
    )
    assert safe_load(text) == {
        "b": "no",
        "d": "2024-01-01",
        "i": "012",
        "n": 1.5,
        "on": "yes",
        "t": True,
        "z": None,
        "big": "1234567890123456789012345678901234",
    }


@pytest.mark.parametrize("text", ["a: [1, 2", "a: b: c", "\x00", "--- a\n--- b\n", "a:\t- b"])
def test_syntax_errors_are_yaml_errors(text: str) -> None:
    with pytest.raises(YamlError):
        safe_load(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(
        alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#\n\t ,?%@`~=<.0123456789"))
        | st.characters()
    )
)
def test_safe_load_raises_only_yaml_errors(text: str) -> None:
    with contextlib.suppress(YamlError):
        safe_load(text)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frontmatter=st.text(max_size=300))
def test_load_skill_raises_only_skill_errors(tmp_path: Path, frontmatter: str) -> None:
    folder = tmp_path / "fuzz"
    folder.mkdir(exist_ok=True)
    (folder / "SKILL.md").write_text(f"---\n{frontmatter}\n---\nbody", errors="surrogatepass")
    with contextlib.suppress(SkillError):
        load_skill(folder)


# ----------------------------------------------------------------------------- skill.yaml


BAD_INPUT_SCHEMA = {"type": "object", "properties": {"x": {"type": "nope"}}}


def sidecar(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {"version": "1.0.0", "tools": [dict(GOOD_TOOL)]}
    data.update(overrides)
    return data


def manifest_error(tmp_path: Path, data: object) -> ManifestError:
    with pytest.raises(ManifestError) as caught:
        load_skill(write_skill(tmp_path, sidecar=data))
    return caught.value


def test_schema_file_is_valid_and_closed() -> None:
    schema = sidecar_schema()
    Draft202012Validator.check_schema(schema)

    def closed(node: object, where: str) -> None:
        if isinstance(node, dict):
            if "properties" in node and where != "$defs.objectSchema":
                assert node.get("additionalProperties") is False, where
            for key, value in node.items():
                closed(value, f"{where}.{key}" if where else key)

    closed(schema, "")


def test_a_full_sidecar_loads(tmp_path: Path) -> None:
    data = sidecar(
        command={"tool": "run", "argument": "text"},
        permissions={"network": ["api.example.com"], "env": ["TOKEN"], "filesystem": ["data"]},
        requirements=[],
    )
    skill = load_skill(write_skill(tmp_path, sidecar=data))
    tool = skill.tools[0]
    assert (skill.version, tool.name, tool.timeout_s) == ("1.0.0", "run", 10.0)
    assert tool.entrypoint == (tmp_path / "demo" / "scripts" / "run.py").resolve()
    assert skill.command is not None
    assert (skill.command.tool, skill.command.argument) == ("run", "text")
    assert skill.permissions.network == ("api.example.com",)
    assert skill.permissions.env == ("TOKEN",)
    assert skill.permissions.data_dir
    assert skill.tool("run") is tool
    assert skill.tool("nope") is None


def test_the_sidecar_may_be_yaml(tmp_path: Path) -> None:
    text = textwrap.dedent("""\
        version: 0.1.0
        tools:
          - name: run
            description: Run it.
            entrypoint: scripts/run.py
            timeout: 0.5
            input: {type: object}
            output: {type: object}
    """)
    assert load_skill(write_skill(tmp_path, sidecar=text)).tools[0].timeout_s == 0.5


@pytest.mark.parametrize(
    ("change", "key", "fragment"),
    [
        ({"version": "1.0"}, "version", "does not match"),
        ({"version": None}, "version", "is not of type"),
        ({"extra": 1}, "extra", "unknown key"),
        ({"tools": [{**GOOD_TOOL, "nme": "x"}]}, "tools[0].nme", "unknown key"),
        ({"tools": [{k: v for k, v in GOOD_TOOL.items() if k != "entrypoint"}]},
         "tools[0].entrypoint", "is required"),
        ({"tools": [{**GOOD_TOOL, "timeout": 500}]}, "tools[0].timeout", "maximum of 120"),
        ({"tools": [{**GOOD_TOOL, "timeout": 0}]}, "tools[0].timeout", "less than or equal"),
        ({"tools": [{**GOOD_TOOL, "name": "Run-It"}]}, "tools[0].name", "does not match"),
        ({"tools": [{**GOOD_TOOL, "entrypoint": "../x.py"}]}, "tools[0].entrypoint", "match"),
        ({"tools": [{**GOOD_TOOL, "entrypoint": "/bin/sh"}]}, "tools[0].entrypoint", "match"),
        ({"tools": [{**GOOD_TOOL, "input": {"type": "string"}}]}, "tools[0].input.type", "object"),
        ({"permissions": {"filesystem": ["home"]}}, "permissions.filesystem[0]", "is not one of"),
        ({"permissions": {"network": ["bad host/x"]}}, "permissions.network[0]", "match"),
        ({"permissions": {"env": ["1BAD"]}}, "permissions.env[0]", "match"),
        ({"command": {"tool": "run"}}, "command.argument", "is required"),
    ],
)  # fmt: skip
def test_schema_errors_name_the_key(
    tmp_path: Path, change: dict[str, object], key: str, fragment: str
) -> None:
    error = manifest_error(tmp_path, sidecar(**change))
    assert error.key == key
    assert fragment in str(error)
    assert str(error).startswith(f"{(tmp_path / 'demo' / 'skill.yaml').resolve()}: {key}: ")


@pytest.mark.parametrize(
    ("change", "key", "fragment"),
    [
        ({"tools": [GOOD_TOOL, GOOD_TOOL]}, "tools[1].name", "duplicate tool name 'run'"),
        ({"tools": [{**GOOD_TOOL, "entrypoint": "scripts/missing.py"}]},
         "tools[0].entrypoint", "does not exist"),
        ({"tools": [{**GOOD_TOOL, "entrypoint": "scripts"}]},
         "tools[0].entrypoint", "does not exist"),
        ({"command": {"tool": "other", "argument": "text"}}, "command.tool", "tools: run"),
        ({"command": {"tool": "run", "argument": "missing"}},
         "command.argument", "string property"),
        ({"tools": [{**GOOD_TOOL, "input": BAD_INPUT_SCHEMA}]},
         "tools[0].input.properties.x.type", "not a valid JSON Schema"),
        ({"tools": [{**GOOD_TOOL, "output": {"type": "object", "$ref": "https://evil.example/s"}}]},
         "tools[0].output", "is not local"),
    ],
)  # fmt: skip
def test_rules_beyond_the_schema_name_the_key(
    tmp_path: Path, change: dict[str, object], key: str, fragment: str
) -> None:
    error = manifest_error(tmp_path, sidecar(**change))
    assert error.key == key
    assert fragment in str(error)


def test_entrypoint_symlinked_out_of_the_skill_is_refused(tmp_path: Path) -> None:
    folder = write_skill(tmp_path / "skills")
    outside = tmp_path / "outside.py"
    outside.write_text("print('{}')\n")
    (folder / "scripts" / "link.py").symlink_to(outside)
    data = sidecar(tools=[{**GOOD_TOOL, "entrypoint": "scripts/link.py"}])
    (folder / "skill.yaml").write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="leads outside") as caught:
        load_skill(folder)
    assert caught.value.key == "tools[0].entrypoint"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("version: 1.0.0\nversion: 1.0.1\n", "duplicate key 'version'"),
        ("version: &v 1.0.0\n", "anchors"),
        ("- 1\n", "must be a map"),
        ("version: [\n", "line"),
        ("a: " + "x" * 70000, "limit is 65536"),
    ],
)
def test_unsafe_or_broken_sidecar_yaml(tmp_path: Path, text: str, fragment: str) -> None:
    assert fragment in str(manifest_error(tmp_path, text))


def test_requirements_are_accepted_with_a_warning(tmp_path: Path) -> None:
    skill = load_skill(write_skill(tmp_path, sidecar=sidecar(requirements=["requests>=2"])))
    assert codes(skill) == {WarningCode.IGNORED}


# ----------------------------------------------------------------------------- first-party skills


@pytest.mark.parametrize("folder", FIRST_PARTY, ids=lambda p: p.name)
def test_first_party_skills_are_spec_clean(folder: Path) -> None:
    skill = load_skill(folder)
    assert skill.warnings == ()
    assert name_problems(skill.name) == []
    assert skill.version is not None
    assert skill.tools
    assert skill.command is not None
    assert skill.permissions.network == ()
    assert skill.manifest.body
    assert len(skill.manifest.description) <= 1024


def test_all_four_first_party_skills_exist() -> None:
    assert {p.name for p in FIRST_PARTY} >= {"calculator", "unit-convert", "time", "notes"}


# ----------------------------------------------------------------------------- real corpus


def must_parse_rows() -> list[dict[str, str]]:
    """The corpus README's "must-parse (lenient)" set (files with indicator hits excluded)."""
    with (CORPUS / "INDEX.tsv").open(encoding="utf-8", newline="") as index:
        rows = list(csv.DictReader(index, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [
        row
        for row in rows
        if row["has_frontmatter"] == "1"
        and row["yaml_ok_pyyaml"] == "1"
        and row["fm_name"] != ""
        and int(row["desc_len"] or 0) > 0
        and row["indicator_hits"] == ""
    ]


@pytest.mark.skipif(not (CORPUS / "INDEX.tsv").is_file(), reason=f"no skill corpus at {CORPUS}")
def test_every_must_parse_corpus_skill_loads() -> None:
    # Reading the corpus is safe: it is data, and nothing in it is executed.
    rows = must_parse_rows()
    assert len(rows) == 2372  # the README's count for this snapshot
    failures = []
    for row in rows:
        try:
            skill = load_skill(CORPUS / Path(row["local_path"]).parent)
        except SkillError as exc:
            failures.append(str(exc))
            continue
        assert skill.manifest.description
    assert failures == []


# ----------------------------------------------------------------------------- metadata.openclaw


def openclaw(
    tmp_path: Path, block: object, *, key: str = "openclaw", **kwargs: object
) -> LoadedSkill:
    text = json.dumps(block) if not isinstance(block, str) else block
    frontmatter = GOOD_FRONTMATTER + f"metadata:\n  {key}: '{text}'\n"
    return load_skill(write_skill(tmp_path, frontmatter, **kwargs))  # type: ignore[arg-type]


def openclaw_warnings(skill: LoadedSkill) -> list[str]:
    return [w.message for w in skill.warnings if w.code is WarningCode.OPENCLAW_UNMAPPED]


def test_openclaw_requirements_become_permissions(tmp_path: Path) -> None:
    block = {
        "emoji": "🔐",
        "requires": {"bins": ["op", "jq"], "env": ["OP_TOKEN"]},
        "primaryEnv": "OP_ACCOUNT",
        "envVars": [{"name": "OP_VAULT", "required": False}],
        "install": [{"kind": "brew", "formula": "1password-cli", "bins": ["op", "op-ssh"]}],
    }
    skill = openclaw(tmp_path, block)
    assert skill.permissions.binaries == ("op", "jq", "op-ssh")
    assert skill.permissions.env == ("OP_TOKEN", "OP_ACCOUNT", "OP_VAULT")
    assert skill.permissions.network == ()
    assert openclaw_warnings(skill) == [
        "metadata.openclaw.install is not run by skillyard (brew 1password-cli)"
    ]


@pytest.mark.parametrize("key", ["clawdbot", "clawdis", "moltbot"])
def test_older_openclaw_names_are_read_too(tmp_path: Path, key: str) -> None:
    skill = openclaw(tmp_path, {"requires": {"bins": ["gh"]}}, key=key)
    assert skill.permissions.binaries == ("gh",)


@pytest.mark.parametrize(
    ("block", "fragment"),
    [
        ({"requires": {"anyBins": ["rg", "grep"]}}, "any one is needed"),
        ({"requires": {"config": ["browser.enabled"]}}, "requires.config"),
        ({"os": ["darwin"]}, "os restrictions"),
        ({"always": True}, "always"),
        ({"requires": {"bins": ["bad name;rm"]}}, "'bad name;rm' is not a valid name"),
        ({"requires": {"env": ["1BAD"]}}, "'1BAD' is not a valid name"),
        (["not", "an", "object"], "not an object"),
        ("{not json", "not an object"),
    ],
)
def test_what_cannot_be_mapped_is_a_warning(tmp_path: Path, block: object, fragment: str) -> None:
    messages = openclaw_warnings(openclaw(tmp_path, block))
    assert any(fragment in message for message in messages), messages


def test_a_sidecar_wins_over_openclaw_metadata(tmp_path: Path) -> None:
    data = sidecar(permissions={"binaries": ["op"], "env": []})
    skill = openclaw(tmp_path, {"requires": {"bins": ["op", "jq"], "env": ["TOKEN"]}}, sidecar=data)
    assert skill.permissions.binaries == ("op",)
    assert skill.permissions.env == ()
    assert openclaw_warnings(skill) == [
        "metadata.openclaw requires jq, TOKEN, which skill.yaml does not declare"
    ]


@pytest.mark.skipif(not (CORPUS / "INDEX.tsv").is_file(), reason=f"no skill corpus at {CORPUS}")
def test_corpus_openclaw_metadata_maps_without_errors() -> None:
    mapped = 0
    for row in must_parse_rows():
        skill = load_skill(CORPUS / Path(row["local_path"]).parent)
        mapped += bool(skill.permissions.binaries or skill.permissions.env)
    assert mapped >= 500  # 629 of all loadable corpus skills declare bins or env this way
