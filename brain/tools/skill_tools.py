"""Skill tools as registry tools: ``<skill>__<tool>`` for each one, and ``run_skill_tool``.

A call runs through ``brain.sandbox.run_tool`` (JSON in and out, limits,
bubblewrap).  Each (skill, user) pair gets a persistent private data dir,
``<data_dir>/skill-data/<skill>/<sha256(user)[:16]>/`` (mode 0700), created
only for skills whose ``skill.yaml`` asks for the ``data`` filesystem scope.
The user key is hashed so that a channel user id never becomes a path
component; a skill name that is not a plain lowercase name is hashed too.
Each call also gets a private work dir from ``sandbox.call_context``,
removed when the call ends.

Risk: ``execute``, or ``network`` for a skill that declares network hosts;
raised to ``destructive`` when any string argument looks like a deletion.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from brain import sandbox
from brain.sandbox import ToolFailure
from brain.skills import SkillSet, SkillTool, exposed_name
from brain.tools.core import CallContext, ErrorKind, Risk, Tool, ToolFailed, ToolReply
from brain.tools.inspection import text_risk
from brain.tools.workspace import digest

__all__ = ["SkillTools", "render_output", "skill_data_dir"]

_PLAIN_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_FAILURE_KINDS = {
    ToolFailure.INVALID_INPUT: ErrorKind.INVALID_ARGUMENTS,
    ToolFailure.TOOL_ERROR: ErrorKind.FAILED,
    ToolFailure.TIMEOUT: ErrorKind.TIMEOUT,
    ToolFailure.CRASHED: ErrorKind.FAILED,
    ToolFailure.BAD_OUTPUT: ErrorKind.FAILED,
    ToolFailure.OUTPUT_TOO_LARGE: ErrorKind.TOO_LARGE,
    ToolFailure.REFUSED: ErrorKind.REFUSED,
}
_RUN_DOC = (
    "Run a tool of an installed skill by skill and tool name (see activate_skill for "
    "a skill's tools) with its arguments as a JSON object."
)


def skill_data_dir(data_dir: Path, skill: str, user: str) -> Path:
    folder = skill if _PLAIN_NAME.fullmatch(skill) else f"x-{digest(skill)}"
    return data_dir / "skill-data" / folder / digest(user)


def render_output(output: Mapping[str, object] | None) -> str:
    """The user-facing text of a tool's output: its ``text`` field, else compact JSON."""
    if output is None:
        return ""
    text = output.get("text")
    if isinstance(text, str):
        return text
    return json.dumps(output, ensure_ascii=False, separators=(",", ":"))


class SkillTools:
    """Runs the tools of ``skills``; ``env`` is where declared variables come from,
    ``hidden_paths`` the dirs a tool must not see."""

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

    def exposed(self) -> tuple[Tool, ...]:
        """One tool per skill tool, named ``<skill>__<tool>``."""
        return tuple(self._exposed(tool) for tool in self._skills.tools)

    def _exposed(self, tool: SkillTool) -> Tool:
        async def handler(args: Mapping[str, Any], context: CallContext) -> ToolReply:
            return await self.run(tool, args, context)

        floor = Risk.NETWORK if tool.skill.permissions.network else Risk.EXECUTE
        spec = tool.spec
        return Tool(
            tool.name, spec.description, spec.input_schema, floor, handler, text_risk,
            skill=tool.skill.name,
        )  # fmt: skip

    def run_skill_tool(self) -> Tool:
        """The built-in that runs any skill's tool by name."""
        parameters = {
            "type": "object",
            "properties": {
                "skill": {"type": "string", "minLength": 1, "maxLength": 200},
                "tool": {"type": "string", "minLength": 1, "maxLength": 200},
                "arguments": {"type": "object"},
            },
            "required": ["skill", "tool"],
            "additionalProperties": False,
        }
        return Tool(
            "run_skill_tool", _RUN_DOC, parameters, Risk.EXECUTE, self._run_by_name, self._inspect
        )

    def _inspect(self, arguments: Mapping[str, Any]) -> Risk:
        tool = self._skills.tool(
            exposed_name(str(arguments.get("skill")), str(arguments.get("tool")))
        )
        network = tool is not None and bool(tool.skill.permissions.network)
        return max(Risk.NETWORK if network else Risk.EXECUTE, text_risk(arguments))

    async def _run_by_name(self, args: Mapping[str, Any], context: CallContext) -> ToolReply:
        skill_name, tool_name = args["skill"], args["tool"]
        skill = self._skills.skills.get(skill_name)
        if skill is None:
            raise ToolFailed(ErrorKind.NOT_FOUND, f"no skill {skill_name!r} is installed")
        tool = self._skills.tool(exposed_name(skill_name, tool_name))
        if tool is None:
            names = ", ".join(t.name for t in skill.tools) or "none"
            message = f"skill {skill_name!r} has no tool {tool_name!r} (its tools: {names})"
            raise ToolFailed(ErrorKind.NOT_FOUND, message)
        return await self.run(tool, args.get("arguments", {}), context)

    async def run(
        self, tool: SkillTool, arguments: Mapping[str, Any], context: CallContext
    ) -> ToolReply:
        """Run ``tool`` in the sandbox; a tool fault raises ``ToolFailed``."""
        with sandbox.call_context(
            tool.skill, user=context.user, session=context.session, now=time.time(), data_root=None
        ) as call:
            call = self._with_data_dir(call, tool, context.user)
            result = await sandbox.run_tool(
                tool.skill,
                tool.spec,
                dict(arguments),
                context=call,
                environ=self._env,
                hidden=self._hidden,
            )
        if not result.ok:
            kind = _FAILURE_KINDS.get(result.failure or ToolFailure.CRASHED, ErrorKind.FAILED)
            raise ToolFailed(kind, result.error or "the tool failed")
        output = result.output or {}
        content = json.dumps(output, ensure_ascii=False, separators=(",", ":"))
        return ToolReply(content, render_output(output))

    def _with_data_dir(
        self, context: sandbox.ToolContext, tool: SkillTool, user: str
    ) -> sandbox.ToolContext:
        if not tool.skill.permissions.data_dir:
            return context
        data_dir = skill_data_dir(self._data_dir, tool.skill.name, user)
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return dataclasses.replace(context, data_dir=data_dir)
