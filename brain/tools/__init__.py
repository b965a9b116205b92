"""Tools a model can call: a registry with schemas and risk levels, and the built-ins.

Usage (the brain does this once, at start-up)::

    registry = build_registry(settings, skills, memory=memory)
    registry.offered(skill_tool_names)        # ToolDefs for a tool-choosing model
    registry.risk_of(call)                    # Risk, for the permission layer
    await registry.execute(call, CallContext(user=..., session=...))  # ToolOutcome

Every call is validated against the tool's JSON Schema before it runs, and
every fault comes back as a structured error observation (``ToolError``:
``{"error": message, "kind": ..., "problems": [...]}``), never an exception.
Results are capped head-and-tail at ``tools.output_cap_chars``.

Modules: ``core`` (vocabulary, exception tree), ``registry``,
``inspection`` (risk by argument), ``workspace`` (path confinement),
``paging`` (long text by lines),
``files``, ``python_tool``, ``sql_tool``, ``http_tool``, ``memory_tools``,
``skill_docs``, ``skill_tools``, ``build``.  This package knows nothing of
the permission layer (``brain.guard``) built on its risk levels.
"""

from __future__ import annotations

from brain.tools.build import build_registry
from brain.tools.core import (
    CallContext,
    DuplicateToolError,
    ErrorKind,
    Risk,
    Tool,
    ToolError,
    ToolFailed,
    ToolReply,
    ToolsError,
)
from brain.tools.registry import DEFAULT_OUTPUT_CAP, ToolRegistry
from brain.tools.skill_tools import render_output, skill_data_dir
from brain.tools.workspace import workspace_dir

__all__ = [
    "DEFAULT_OUTPUT_CAP",
    "CallContext",
    "DuplicateToolError",
    "ErrorKind",
    "Risk",
    "Tool",
    "ToolError",
    "ToolFailed",
    "ToolRegistry",
    "ToolReply",
    "ToolsError",
    "build_registry",
    "render_output",
    "skill_data_dir",
    "workspace_dir",
]
