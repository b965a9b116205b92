"""The built-ins through whole ``Brain`` turns: offered to the model, run, and remembered."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from brain import Brain
from brain.guard.permissions import PermissionPolicy
from brain.guard.settings import GuardSettings
from brain.memory import Memory
from brain.tools import workspace_dir
from gateway.events import ToolActivity, ToolPhase
from tests.brain.conftest import final_text, run, settings_for
from tests.fakes.openai_server import FakeOpenAI

SESSION = "web:default:c1"  # what tests.brain.conftest.turn() uses

STEPS = """
- tool_calls:
    - name: write_file
      arguments: {path: notes/plan.md, content: "step one\\nstep two\\n"}
    - name: edit_file
      arguments: {path: notes/plan.md, old_string: "step two", new_string: "step 2"}
    - name: memory_set_block
      arguments: {label: task, value: "Writing a plan."}
    - name: read_file
      arguments: {path: ../escape.txt}
- reply: Done.
"""


def script(tmp_path: Path, text: str) -> str:
    path = tmp_path / "script.yaml"
    path.write_text(text, encoding="utf-8")
    return f"scripted:{path}"


async def test_a_scripted_turn_uses_the_builtins(tmp_path: Path) -> None:
    # accept_edits: workspace and memory edits run without asking (the guard's rule).
    guard = GuardSettings(permissions=PermissionPolicy.from_config("accept_edits"))
    brain = await Brain.open(settings_for(tmp_path, model=script(tmp_path, STEPS), guard=guard))
    try:
        events = await run(brain, "make a plan", user="web:alice")
    finally:
        await brain.aclose()
    assert final_text(events) == "Done."
    phases = [(e.tool, e.phase) for e in events if isinstance(e, ToolActivity)]
    assert phases[1::2] == [
        ("write_file", ToolPhase.END),
        ("edit_file", ToolPhase.END),
        ("memory_set_block", ToolPhase.END),
        ("read_file", ToolPhase.ERROR),  # the escape is an observation, the turn goes on
    ]
    data_dir = tmp_path / "data"
    plan = workspace_dir(data_dir, SESSION) / "notes" / "plan.md"
    assert plan.read_text() == "step one\nstep 2\n"
    assert Memory.open(data_dir).blocks("web:alice")["task"].value == "Writing a plan."
    assert Memory.open(data_dir).blocks("web:bob")["task"].value == ""


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


async def test_a_tool_choosing_model_is_offered_builtins_and_skill_tools(
    tmp_path: Path, skill_dir: Path, fake: FakeOpenAI
) -> None:
    fake.tool_call("read_file", '{"path": "missing.txt"}', call_id="call_1")
    fake.reply("No such file.")
    settings = settings_for(
        tmp_path,
        skill_dir,
        model="openai:fake-model",
        openai_base_url=fake.base_url,
        openai_api_key="sk-test",
        openai_max_retries=0,
    )
    brain = await Brain.open(settings)
    try:
        events = await run(brain, "read missing.txt")
    finally:
        await brain.aclose()
    assert final_text(events) == "No such file."
    first, second = fake.requests
    names = [tool["function"]["name"] for tool in first["tools"]]
    assert names[:3] == ["read_file", "write_file", "edit_file"]
    assert "run_python" in names and "memory_search" in names and "run_skill_tool" in names
    assert names[-3:] == ["calc__evaluate", "counter__bump", "shout__upper"]
    observation = json.loads(second["messages"][-1]["content"])
    assert observation == {"error": "missing.txt: no such file", "kind": "not_found"}
