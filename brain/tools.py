"""Run a model's (or a command's) tool call through the sandbox and describe the outcome.

Each (skill, user) pair gets a persistent private data dir,
``<data_dir>/skill-data/<skill>/<sha256(user)[:16]>/`` (mode 0700), created
only for skills whose ``skill.yaml`` asks for the ``data`` filesystem scope.
The user key is hashed so that a channel user id never becomes a path
component; a skill name that is not a plain lowercase name is hashed too.
Each call also gets a private work dir from ``sandbox.call_context``,
removed when the call ends.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import time
from collections.abc import Mapping
from pathlib import Path

from brain import sandbox
from brain.loop import ToolOutcome
from brain.models.base import ToolCall
from brain.skills import SkillSet, SkillTool

__all__ = ["ToolRunner", "render_output", "skill_data_dir"]

_PLAIN_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def skill_data_dir(data_dir: Path, skill: str, user: str) -> Path:
    folder = skill if _PLAIN_NAME.fullmatch(skill) else f"x-{_digest(skill)}"
    return data_dir / "skill-data" / folder / _digest(user)


def render_output(output: Mapping[str, object] | None) -> str:
    """The user-facing text of a tool's output: its ``text`` field, else compact JSON."""
    if output is None:
        return ""
    text = output.get("text")
    if isinstance(text, str):
        return text
    return json.dumps(output, ensure_ascii=False, separators=(",", ":"))


class ToolRunner:
    def __init__(
        self,
        skills: SkillSet,
        *,
        data_dir: Path,
        env: Mapping[str, str],
        hidden_paths: tuple[Path, ...],
    ) -> None:
        self._skills = skills
        self._data_dir = data_dir
        self._env = env
        self._hidden = hidden_paths

    async def run(self, call: ToolCall, *, user: str, session: str) -> ToolOutcome:
        """Run ``call``; tool faults become a failed outcome, contract breaks raise."""
        tool = self._skills.tool(call.name)
        if tool is None:
            return ToolOutcome.failure(call.id, f"unknown tool {call.name!r}")
        with sandbox.call_context(
            tool.skill, user=user, session=session, now=time.time(), data_root=None
        ) as context:
            context = self._with_data_dir(context, tool, user)
            result = await sandbox.run_tool(
                tool.skill,
                tool.spec,
                dict(call.arguments),
                context=context,
                environ=self._env,
                hidden=self._hidden,
            )
        if not result.ok:
            return ToolOutcome.failure(call.id, result.error or "the tool failed")
        output = result.output or {}
        content = json.dumps(output, ensure_ascii=False, separators=(",", ":"))
        return ToolOutcome(call.id, ok=True, content=content, text=render_output(output))

    def _with_data_dir(
        self, context: sandbox.ToolContext, tool: SkillTool, user: str
    ) -> sandbox.ToolContext:
        if not tool.skill.permissions.data_dir:
            return context
        data_dir = skill_data_dir(self._data_dir, tool.skill.name, user)
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return dataclasses.replace(context, data_dir=data_dir)
