"""Run the real first-party skill scripts through the real sandbox, as the brain does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from brain.sandbox import ToolResult, call_context, run_tool
from registry import LoadedSkill, load_skill

SKILLS = Path(__file__).resolve().parents[2] / "skills"
# 2026-01-01T00:00:00Z: tools see this "now", never the clock.
NOW = 1767225600.0

Call = Callable[..., Awaitable[ToolResult]]


def skill_named(name: str) -> LoadedSkill:
    return load_skill(SKILLS / name)


async def call_tool(
    skill: LoadedSkill,
    tool: str,
    arguments: dict[str, Any],
    *,
    data_root: Path | None = None,
    user: str = "alice",
    now: float = NOW,
) -> ToolResult:
    spec = skill.tool(tool)
    assert spec is not None, f"{skill.name} has no tool {tool}"
    with call_context(skill, user=user, session="test", now=now, data_root=data_root) as context:
        return await run_tool(skill, spec, arguments, context=context)


async def run_command(skill: LoadedSkill, text: str, **kwargs: Any) -> ToolResult:
    """What ``/<skill> TEXT`` does: the command tool with ``{argument: TEXT}``."""
    assert skill.command is not None
    return await call_tool(skill, skill.command.tool, {skill.command.argument: text}, **kwargs)


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    return tmp_path / "skill-data"
