"""activate_skill, read_skill_resource, run_skill_tool and the <skill>__<tool> tools."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from brain.models.base import ToolCall
from brain.skills import SkillSet
from brain.steps import ToolOutcome
from brain.tools import CallContext, Risk, ToolRegistry
from brain.tools.skill_docs import SkillDocs
from brain.tools.skill_tools import SkillTools
from tests.brain.conftest import CALC_SCRIPT, CALC_YAML, write_skill

CONTEXT = CallContext(user="web:alice", session="web:default:c1")


def long_body() -> str:
    sections = [f"## Step {i}\n\n" + f"Do thing {i} carefully. " * 60 + "\n" for i in range(12)]
    return "# Guide\n\nIntro.\n\n" + "\n".join(sections)


@pytest.fixture
def skills(tmp_path: Path) -> SkillSet:
    root = tmp_path / "skills"
    calc = write_skill(root, "calc", "Arithmetic.", CALC_YAML, {"evaluate.py": CALC_SCRIPT})
    (calc / "references").mkdir()
    (calc / "references" / "grammar.md").write_text("expr := term (+ term)*")
    (calc / "assets").mkdir()
    (calc / "assets" / "logo.bin").write_bytes(b"\x89PNG\x00\xff")
    (calc / "assets" / "huge.txt").write_text("y" * 300_000)
    (calc / "scripts" / "secret.txt").write_text("not a resource")
    (tmp_path / "outside.txt").write_text("host secret")
    (calc / "references" / "escape.md").symlink_to(tmp_path / "outside.txt")
    guide = write_skill(root, "guide", "A long guide.", None, {})
    manifest = guide / "SKILL.md"
    manifest.write_text(f"---\nname: guide\ndescription: A long guide.\n---\n{long_body()}")
    return SkillSet.load([root])


@pytest.fixture
def registry(skills: SkillSet, tmp_path: Path) -> ToolRegistry:
    runner = SkillTools(skills, data_dir=tmp_path / "data", env={}, hidden_paths=())
    docs = SkillDocs(skills, output_cap=2_000)
    return ToolRegistry(
        [*docs.tools(), runner.run_skill_tool(), *runner.exposed()], output_cap=2_000
    )


async def call(registry: ToolRegistry, tool: str, /, **args: Any) -> ToolOutcome:
    return await registry.execute(ToolCall("k1", tool, args), CONTEXT)


def kind(outcome: ToolOutcome) -> str:
    assert not outcome.ok, outcome
    return str(json.loads(outcome.content)["kind"])


# -- activate_skill ---------------------------------------------------------------------


async def test_activation_lists_tools_and_resources(registry: ToolRegistry) -> None:
    outcome = await call(registry, "activate_skill", name="calc")
    assert outcome.content.startswith("# Skill calc\n\n# calc")
    assert "- evaluate: Evaluate an arithmetic expression" in outcome.content
    assert "references/grammar.md" in outcome.content and "assets/logo.bin" in outcome.content
    assert "references/escape.md" not in outcome.content  # a symlink is not offered


async def test_a_long_body_is_cut_at_a_section_and_read_on_by_line(
    registry: ToolRegistry, skills: SkillSet
) -> None:
    body = skills.skills["guide"].manifest.body  # SKILL.md after the frontmatter
    first = (await call(registry, "activate_skill", name="guide")).content
    assert len(first) <= 2_000 and "chars omitted" not in first  # fits the registry's cap
    assert first == first.strip() and first.startswith("# Skill guide\n\n# Guide")
    pointer = first[first.index("[Cut at about") :]
    assert 'read_skill_resource (name "guide", path "SKILL.md", offset: that line)' in pointer
    line = int(pointer.split(" from line ")[1].split(" ")[0])
    assert body.splitlines()[line - 1].startswith("## Step")  # the cut is at a heading
    pages, offset = [], line
    while True:
        args = {"name": "guide", "path": "SKILL.md", "offset": offset}
        content = (await call(registry, "read_skill_resource", **args)).content
        text, _, footer = content.rpartition("\n[lines ")
        pages.append(text + "\n")
        if "read on with offset" not in footer:
            break
        offset = int(footer.rsplit(" ", 1)[1].rstrip("]"))
    rest = "".join(body.splitlines(keepends=True)[line - 1 :])
    assert "".join(pages).rstrip("\n") == rest.rstrip("\n")  # the body has no final newline


async def test_unknown_skills_are_named(registry: ToolRegistry) -> None:
    missing = await call(registry, "activate_skill", name="calk")
    assert kind(missing) == "not_found" and "did you mean calc" in (missing.error or "")


# -- read_skill_resource -----------------------------------------------------------------


async def test_a_reference_is_read(registry: ToolRegistry) -> None:
    outcome = await call(registry, "read_skill_resource", name="calc", path="references/grammar.md")
    assert outcome.content == "expr := term (+ term)*"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("scripts/secret.txt", "path_refused"),
        ("skill.yaml", "path_refused"),
        ("references/../scripts/secret.txt", "path_refused"),
        ("/etc/passwd", "path_refused"),
        ("references/escape.md", "path_refused"),
        ("references", "path_refused"),
        ("references/a\x00b", "path_refused"),
        ("references/" + "n" * 300, "path_refused"),
        ("references/none.md", "not_found"),
        ("assets/logo.bin", "failed"),
        ("assets/huge.txt", "too_large"),
    ],
)
async def test_resources_are_confined_and_capped(
    registry: ToolRegistry, path: str, expected: str
) -> None:
    outcome = await call(registry, "read_skill_resource", name="calc", path=path)
    assert kind(outcome) == expected
    assert "host secret" not in outcome.content and "not a resource" not in outcome.content


# -- running skill tools -----------------------------------------------------------------


async def test_a_skill_tool_runs_by_its_exposed_name_and_through_run_skill_tool(
    registry: ToolRegistry,
) -> None:
    direct = await call(registry, "calc__evaluate", expression="2*(3+4)")
    assert (direct.ok, direct.content, direct.text) == (True, '{"value":14,"text":"14"}', "14")
    generic = await call(
        registry, "run_skill_tool", skill="calc", tool="evaluate", arguments={"expression": "6*7"}
    )
    assert generic.ok and generic.text == "42"


async def test_skill_tool_faults_are_observations(registry: ToolRegistry) -> None:
    failed = await call(registry, "calc__evaluate", expression="1/0")
    assert kind(failed) == "failed" and "division by zero" in (failed.error or "")
    assert kind(await call(registry, "calc__evaluate", expression=5)) == "invalid_arguments"
    inner = await call(registry, "run_skill_tool", skill="calc", tool="evaluate", arguments={})
    assert kind(inner) == "invalid_arguments"
    assert kind(await call(registry, "run_skill_tool", skill="nope", tool="x")) == "not_found"
    no_tool = await call(registry, "run_skill_tool", skill="calc", tool="x")
    assert kind(no_tool) == "not_found" and "evaluate" in (no_tool.error or "")


def test_exposed_tools_carry_their_skill(registry: ToolRegistry) -> None:
    tool = registry.get("calc__evaluate")
    assert tool is not None and tool.skill == "calc"
    assert registry.get("run_skill_tool") is not None
    assert registry.get("run_skill_tool").skill is None  # type: ignore[union-attr]


NETWORK_SKILL = textwrap.dedent(
    """
    version: 1.0.0
    permissions: {network: [api.example.org]}
    tools:
      - name: fetch
        description: Fetch a thing.
        entrypoint: scripts/fetch.py
        input: {type: object, properties: {what: {type: string}}}
        output: {type: object}
    """
)


@pytest.mark.parametrize(
    ("name", "args", "risk"),
    [
        ("calc__evaluate", {"expression": "1+1"}, Risk.EXECUTE),
        ("calc__evaluate", {"expression": "rm -rf /"}, Risk.DESTRUCTIVE),
        ("net__fetch", {"what": "x"}, Risk.NETWORK),
        ("run_skill_tool", {"skill": "calc", "tool": "evaluate"}, Risk.EXECUTE),
        ("run_skill_tool", {"skill": "net", "tool": "fetch"}, Risk.NETWORK),
        ("run_skill_tool", {"skill": "calc", "tool": "evaluate",
                            "arguments": {"expression": "shutil.rmtree('/')"}}, Risk.DESTRUCTIVE),
        ("run_skill_tool", {"skill": "nope", "tool": "x"}, Risk.EXECUTE),
        ("activate_skill", {"name": "calc"}, Risk.READ),
        ("read_skill_resource", {"name": "calc", "path": "references/a.md"}, Risk.READ),
    ],
)  # fmt: skip
def test_risk(tmp_path: Path, name: str, args: dict[str, Any], risk: Risk) -> None:
    root = tmp_path / "skills"
    write_skill(root, "calc", "Arithmetic.", CALC_YAML, {"evaluate.py": CALC_SCRIPT})
    write_skill(root, "net", "Network.", NETWORK_SKILL, {"fetch.py": "print('{}')"})
    skills = SkillSet.load([root])
    runner = SkillTools(skills, data_dir=tmp_path, env={}, hidden_paths=())
    tools = [*SkillDocs(skills, output_cap=6_000).tools(), runner.run_skill_tool()]
    tools += runner.exposed()
    assert ToolRegistry(tools).risk_of(ToolCall("k1", name, args)) is risk


async def test_an_activation_always_fits_the_cap(tmp_path: Path) -> None:
    tools = [
        {"name": f"t{i}", "description": "d" * 500, "entrypoint": "scripts/t.py",
         "input": {"type": "object"}, "output": {"type": "object"}}
        for i in range(20)
    ]  # fmt: skip
    sidecar = json.dumps({"version": "1.0.0", "tools": tools})
    write_skill(tmp_path, "many", "Many tools.", sidecar, {"t.py": "print('{}')"})
    skills = SkillSet.load([tmp_path])
    registry = ToolRegistry(SkillDocs(skills, output_cap=2_000).tools(), output_cap=2_000)
    content = (await call(registry, "activate_skill", name="many")).content
    assert len(content) <= 2_000 and "chars omitted" not in content
    assert content.endswith("more lines of tools and files …]")
