"""The tool registry: what a model may call, how risky one call is, and running it.

Theory of operation
-------------------
:meth:`ToolRegistry.execute` is the only way a call runs.  In order:

1. an unknown name is an ``unknown_tool`` error observation;
2. the arguments must be a JSON object that passes the tool's JSON Schema,
   else an ``invalid_arguments`` observation names each problem by key path
   (``input.path: is required``);
3. the handler runs; a :class:`~brain.tools.core.ToolFailed` becomes its
   error observation, and any other exception is logged and becomes an
   ``internal`` observation, so a model can never crash a turn;
4. content and text are capped (head and tail kept, ``[… N chars omitted …]``).

:meth:`ToolRegistry.risk_of` is pure: it never runs anything, so a
permission layer may ask it before deciding whether to ask a person.  The
registry knows nothing about that layer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from jsonschema import Draft202012Validator

from brain.models.base import ToolCall, ToolDef
from brain.steps import ToolOutcome
from brain.tools.core import (
    CallContext,
    DuplicateToolError,
    ErrorKind,
    Risk,
    Tool,
    ToolError,
    ToolFailed,
)
from registry.schemaerrors import schema_problems

__all__ = ["DEFAULT_OUTPUT_CAP", "ToolRegistry"]

log = logging.getLogger(__name__)

DEFAULT_OUTPUT_CAP = 6_000  # chars of one result a model sees (Letta's cap)
_MAX_PROBLEMS = 5


class ToolRegistry:
    """An immutable set of tools, in the order given."""

    def __init__(self, tools: Iterable[Tool], *, output_cap: int = DEFAULT_OUTPUT_CAP) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            if tool.name in self._tools:
                raise DuplicateToolError(tool.name)
            self._tools[tool.name] = tool
        self._builtins = tuple(name for name, tool in self._tools.items() if tool.skill is None)
        self._defs = {name: tool.definition() for name, tool in self._tools.items()}
        # Compiled on first use: with thousands of skill tools most are never called.
        self._validators: dict[str, Draft202012Validator] = {}
        self._cap = output_cap

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._tools)

    @property
    def output_cap(self) -> int:
        return self._cap

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def definitions(self, names: Iterable[str] | None = None) -> tuple[ToolDef, ...]:
        """Definitions of ``names`` in the order given, skipping unknown names
        (all tools, in registry order, when ``None``)."""
        if names is None:
            return tuple(self._defs.values())
        found = (self._defs.get(name) for name in dict.fromkeys(names))
        return tuple(definition for definition in found if definition is not None)

    def offered(self, skill_tools: Iterable[str]) -> tuple[ToolDef, ...]:
        """What a tool-choosing model sees: every built-in, then ``skill_tools``
        (exposed names, e.g. the skills ranked for this turn) in the order given."""
        return self.definitions([*self._builtins, *skill_tools])

    def risk_of(self, call: ToolCall) -> Risk:
        """The risk of running ``call`` now: the tool's floor, raised by its inspector.

        An unknown tool is ``DESTRUCTIVE``, the strictest level: nothing is
        known about it (it will not run anyway).
        """
        tool = self._tools.get(call.name)
        if tool is None:
            return Risk.DESTRUCTIVE
        arguments = call.arguments if isinstance(call.arguments, Mapping) else {}
        if tool.inspect is None:
            return tool.risk
        return max(tool.risk, tool.inspect(arguments))

    async def execute(self, call: ToolCall, context: CallContext) -> ToolOutcome:
        """Run ``call`` for ``context``; every fault is an error observation, never an exception.

        Cancellation propagates (the handler cleans up on the way out).
        """
        tool = self._tools.get(call.name)
        if tool is None:
            known = ", ".join(self._tools) or "none"
            message = f"unknown tool {call.name!r}; the tools are: {known}"
            return ToolError(ErrorKind.UNKNOWN_TOOL, message).outcome(call.id, self._cap)
        invalid = self._invalid(tool, call.arguments)
        if invalid is not None:
            return invalid.outcome(call.id, self._cap)
        try:
            reply = await tool.handler(dict(call.arguments), context)
        except ToolFailed as exc:
            return exc.error.outcome(call.id, self._cap)
        except Exception:
            log.exception("tool %s failed unexpectedly (session %s)", tool.name, context.session)
            error = ToolError(ErrorKind.INTERNAL, f"{tool.name} failed unexpectedly")
            return error.outcome(call.id, self._cap)
        return reply.outcome(call.id, self._cap)

    def _invalid(self, tool: Tool, arguments: object) -> ToolError | None:
        if not isinstance(arguments, Mapping):
            message = f"arguments for {tool.name} must be a JSON object"
            return ToolError(ErrorKind.INVALID_ARGUMENTS, message)
        validator = self._validators.get(tool.name)
        if validator is None:
            validator = self._validators[tool.name] = Draft202012Validator(tool.parameters)
        try:
            if validator.is_valid(dict(arguments)):
                return None
        except RecursionError:
            pass  # described below
        return _invalid(tool, arguments)


def _invalid(tool: Tool, arguments: Mapping[str, Any]) -> ToolError:
    """The problems (by key path) of arguments known to be invalid."""
    problems = _problems(tool.parameters, arguments) or [("input", "is invalid")]
    detail = "; ".join(f"{at}: {what}" for at, what in problems)
    message = f"invalid arguments for {tool.name}: {detail}"
    return ToolError(ErrorKind.INVALID_ARGUMENTS, message, tuple(problems))


def _problems(schema: Mapping[str, Any], arguments: Mapping[str, Any]) -> list[tuple[str, str]]:
    try:
        return schema_problems(schema, dict(arguments), root="input", limit=_MAX_PROBLEMS)
    except RecursionError:
        return [("input", "is nested too deeply")]
