"""200 malformed tool calls, generated: 200 structured error observations, 0 crashes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import uvloop
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from brain.memory import Memory
from brain.models.base import ToolCall
from brain.settings import BrainSettings, ToolSettings
from brain.skills import SkillSet
from brain.tools import CallContext, ToolRegistry, build_registry
from tests.brain.conftest import CALC_SCRIPT, CALC_YAML, write_skill

CONTEXT = CallContext(user="web:alice", session="web:default:c1")
EXAMPLES = 250  # enough for hypothesis to draw every tool (derandomized)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def plausible(schema: Mapping[str, Any]) -> object:
    """A value that satisfies one of our simple property schemas."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    samples: dict[str, object] = {"string": "a", "integer": 1, "number": 1, "boolean": True}
    if kind in samples:
        return samples[kind]
    return [] if kind == "array" else {}


@st.composite
def malformed_calls(draw: st.DrawFn, registry: ToolRegistry) -> ToolCall:
    name = draw(st.sampled_from(registry.names))
    tool = registry.get(name)
    assert tool is not None
    properties: Mapping[str, Any] = tool.parameters.get("properties", {})
    required = list(tool.parameters.get("required", []))
    arguments: Any = {key: plausible(properties[key]) for key in required}
    mutation = draw(st.sampled_from(["not_object", "missing", "wrong_type", "unknown_key"]))
    if mutation == "not_object":
        arguments = draw(json_values.filter(lambda v: not isinstance(v, dict)))
    elif mutation == "missing" and required:
        del arguments[draw(st.sampled_from(required))]
    elif mutation == "wrong_type" and properties:
        key = draw(st.sampled_from(sorted(properties)))
        value = draw(json_values)
        assume(not Draft202012Validator(properties[key]).is_valid(value))
        arguments[key] = value
    else:
        key = draw(st.text(min_size=1, max_size=12).filter(lambda k: k not in properties))
        arguments[key] = draw(json_values)
    return ToolCall(f"fuzz-{name}", name, arguments)


def full_registry(tmp_path: Path) -> ToolRegistry:
    root = tmp_path / "skills"
    write_skill(root, "calc", "Arithmetic.", CALC_YAML, {"evaluate.py": CALC_SCRIPT})
    config = BrainSettings(
        model="scripted:echo",
        data_dir=tmp_path / "data",
        tools=ToolSettings(http_allowlist=("api.example.org",)),
    )
    memory = Memory.open(tmp_path / "data")
    return build_registry(config, SkillSet.load([root]), memory=memory)


def test_malformed_arguments_always_come_back_as_structured_errors(tmp_path: Path) -> None:
    registry = full_registry(tmp_path)
    seen: list[str] = []
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
        )
        @given(malformed_calls(registry))
        def check(call: ToolCall) -> None:
            outcome = runner.run(registry.execute(call, CONTEXT))  # must never raise
            body = json.loads(outcome.content)
            assert not outcome.ok
            assert body["kind"] == "invalid_arguments", (call, body)
            assert body["error"] and outcome.error
            seen.append(call.name)

        check()
    assert len(seen) == EXAMPLES
    assert len(set(seen)) == len(registry.names)  # every tool was fuzzed
    assert not (tmp_path / "data" / "workspaces").exists()  # nothing ran
