"""The registry: validation, structured errors, output caps, what a model is offered."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from brain.memory import Memory
from brain.models.base import ToolCall
from brain.settings import BrainSettings, ToolSettings
from brain.skills import SkillSet
from brain.tools import (
    CallContext,
    DuplicateToolError,
    ErrorKind,
    Risk,
    Tool,
    ToolFailed,
    ToolRegistry,
    ToolReply,
    build_registry,
)
from tests.brain.conftest import CALC_SCRIPT, CALC_YAML, write_skill

CONTEXT = CallContext(user="web:alice", session="web:default:c1")
SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string", "maxLength": 5}, "n": {"type": "integer"}},
    "required": ["text"],
    "additionalProperties": False,
}


async def echo(args: Mapping[str, Any], context: CallContext) -> ToolReply:
    return ToolReply(f"{args['text']} for {context.user}")


async def huge(args: Mapping[str, Any], context: CallContext) -> ToolReply:
    return ToolReply("h" * 5_000 + "t" * 5_000, text="u" * 10_000)


async def refuse(args: Mapping[str, Any], context: CallContext) -> ToolReply:
    raise ToolFailed(ErrorKind.NOT_FOUND, "no such thing " + "e" * 10_000)


async def crash(args: Mapping[str, Any], context: CallContext) -> ToolReply:
    raise RuntimeError("a bug")


async def hang(args: Mapping[str, Any], context: CallContext) -> ToolReply:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


def tool(name: str, handler: Any = echo, risk: Risk = Risk.READ, **kw: Any) -> Tool:
    return Tool(name, f"The {name} tool.", SCHEMA, risk, handler, **kw)


@pytest.fixture
def registry() -> ToolRegistry:
    tools = [tool("echo"), tool("huge", huge), tool("refuse", refuse), tool("crash", crash)]
    return ToolRegistry([*tools, tool("hang", hang)], output_cap=1_000)


async def run(registry: ToolRegistry, name: str, arguments: Any) -> Any:
    outcome = await registry.execute(ToolCall("c9", name, arguments), CONTEXT)
    assert outcome.call_id == "c9"
    return outcome


def test_public_exports() -> None:
    import brain.tools

    assert set(brain.tools.__all__) == {
        "DEFAULT_OUTPUT_CAP", "CallContext", "DuplicateToolError", "ErrorKind", "Risk", "Tool",
        "ToolError", "ToolFailed", "ToolRegistry", "ToolReply", "ToolsError", "build_registry",
        "render_output", "skill_data_dir", "workspace_dir",
    }  # fmt: skip
    assert all(hasattr(brain.tools, name) for name in brain.tools.__all__)


# -- risk -----------------------------------------------------------------------------


def test_risk_levels_are_ordered_and_named() -> None:
    assert list(Risk) == sorted(Risk)
    assert [str(r) for r in Risk] == ["read", "write", "execute", "network", "destructive"]
    assert Risk.READ < Risk.WRITE < Risk.EXECUTE < Risk.NETWORK < Risk.DESTRUCTIVE
    assert Risk.parse(" Network ") is Risk.NETWORK
    with pytest.raises(ValueError, match="read, write, execute, network, destructive"):
        Risk.parse("scary")


def test_risk_of_uses_the_floor_the_inspector_and_unknowns() -> None:
    raising = tool(
        "code", risk=Risk.EXECUTE, inspect=lambda a: Risk.DESTRUCTIVE if "rm" in a else Risk.READ
    )
    lowering = tool("lower", risk=Risk.WRITE, inspect=lambda a: Risk.READ)
    registry = ToolRegistry([raising, lowering])
    assert registry.risk_of(ToolCall("1", "code", {"text": "ls"})) is Risk.EXECUTE
    assert registry.risk_of(ToolCall("1", "code", {"rm": 1})) is Risk.DESTRUCTIVE
    assert registry.risk_of(ToolCall("1", "lower", {})) is Risk.WRITE  # never below the floor
    assert registry.risk_of(ToolCall("1", "nope", {})) is Risk.DESTRUCTIVE


# -- execution ------------------------------------------------------------------------


async def test_a_valid_call_runs(registry: ToolRegistry) -> None:
    outcome = await run(registry, "echo", {"text": "hi"})
    assert (outcome.ok, outcome.content, outcome.text) == (
        True,
        "hi for web:alice",
        "hi for web:alice",
    )


async def test_an_unknown_tool_lists_the_tools(registry: ToolRegistry) -> None:
    outcome = await run(registry, "ech0", {})
    body = json.loads(outcome.content)
    assert body["kind"] == "unknown_tool"
    assert body["error"] == "unknown tool 'ech0'; the tools are: echo, huge, refuse, crash, hang"


@pytest.mark.parametrize(
    ("arguments", "problems"),
    [
        ({}, [{"at": "input.text", "problem": "is required"}]),
        ({"text": 5}, [{"at": "input.text", "problem": "5 is not of type 'string'"}]),
        ({"text": "toolong"}, [{"at": "input.text", "problem": "'toolong' is too long"}]),
        ({"text": "a", "x": 1}, [{"at": "input.x", "problem": "unknown key (allowed: n, text)"}]),
        ({"text": 1, "n": "2"}, [{"at": "input.n", "problem": "'2' is not of type 'integer'"},
                                 {"at": "input.text", "problem": "1 is not of type 'string'"}]),
    ],
)  # fmt: skip
async def test_invalid_arguments_name_each_problem(
    registry: ToolRegistry, arguments: dict[str, Any], problems: list[dict[str, str]]
) -> None:
    outcome = await run(registry, "echo", arguments)
    body = json.loads(outcome.content)
    assert not outcome.ok and body["kind"] == "invalid_arguments"
    assert body["problems"] == problems
    assert body["error"].startswith("invalid arguments for echo: ")


@pytest.mark.parametrize("arguments", [["text"], "text=hi", None, 42])
async def test_arguments_that_are_not_an_object(registry: ToolRegistry, arguments: Any) -> None:
    body = json.loads((await run(registry, "echo", arguments)).content)
    assert body == {
        "error": "arguments for echo must be a JSON object",
        "kind": "invalid_arguments",
    }


async def test_a_handlers_failure_and_a_crash_are_observations(
    registry: ToolRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    refused = await run(registry, "refuse", {"text": "a"})
    assert json.loads(refused.content)["kind"] == "not_found"
    assert len(refused.error) < 530 and refused.error.startswith("no such thing")
    crashed = await run(registry, "crash", {"text": "a"})
    body = json.loads(crashed.content)
    assert body == {"error": "crash failed unexpectedly", "kind": "internal"}
    assert "a bug" in caplog.text  # the details go to the log, not to the model


async def test_cancellation_propagates(registry: ToolRegistry) -> None:
    task = asyncio.ensure_future(run(registry, "hang", {"text": "a"}))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_output_is_capped_head_and_tail(registry: ToolRegistry) -> None:
    outcome = await run(registry, "huge", {"text": "a"})
    assert outcome.content == "h" * 500 + "[… 9000 chars omitted …]" + "t" * 500
    assert outcome.text == "u" * 500 + "[… 9000 chars omitted …]" + "u" * 500
    refused = await run(registry, "refuse", {"text": "a"})
    assert "chars omitted" in refused.content and len(refused.content) < 1_100


def test_the_cap_is_configurable_and_defaults_to_6000(tmp_path: Path) -> None:
    settings = BrainSettings(model="scripted:echo", data_dir=tmp_path)
    assert build_registry(settings, SkillSet([])).output_cap == 6_000
    capped = replace(settings, tools=ToolSettings(output_cap_chars=900))
    assert build_registry(capped, SkillSet([])).output_cap == 900


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(DuplicateToolError, match="'echo'"):
        ToolRegistry([tool("echo"), tool("echo")])


# -- what a model sees ----------------------------------------------------------------


@pytest.fixture
def full(tmp_path: Path) -> ToolRegistry:
    root = tmp_path / "skills"
    write_skill(root, "calc", "Arithmetic.", CALC_YAML, {"evaluate.py": CALC_SCRIPT})
    write_skill(root, "calc2", "More arithmetic.", CALC_YAML, {"evaluate.py": CALC_SCRIPT})
    settings = BrainSettings(
        model="scripted:echo",
        data_dir=tmp_path / "data",
        tools=ToolSettings(http_allowlist=("api.example.org",)),
    )
    return build_registry(settings, SkillSet.load([root]), memory=Memory.open(tmp_path / "data"))


BUILTINS = [
    "read_file", "write_file", "edit_file", "send_file", "run_python", "sql_query", "http_request",
    "memory_get_blocks", "memory_set_block", "memory_remember", "memory_search", "memory_forget",
    "activate_skill", "read_skill_resource", "run_skill_tool",
]  # fmt: skip


def test_a_model_is_offered_the_builtins_then_the_chosen_skill_tools(full: ToolRegistry) -> None:
    offered = full.offered(["calc2__evaluate", "nope__x", "calc2__evaluate"])
    assert [d.name for d in offered] == [*BUILTINS, "calc2__evaluate"]
    assert [d.name for d in full.offered([])] == BUILTINS
    assert [d.name for d in full.definitions()] == [*BUILTINS, "calc__evaluate", "calc2__evaluate"]


def test_optional_builtins_need_their_configuration(tmp_path: Path) -> None:
    bare = build_registry(BrainSettings(model="scripted:echo", data_dir=tmp_path), SkillSet([]))
    assert "http_request" not in bare.names
    assert not any(name.startswith("memory_") for name in bare.names)


def test_every_builtin_schema_is_a_closed_valid_schema(full: ToolRegistry) -> None:
    for definition in full.offered([]):
        Draft202012Validator.check_schema(definition.parameters)
        assert definition.parameters["additionalProperties"] is False, definition.name
        assert definition.description and len(definition.description) < 400
