"""Assemble the registry from the brain's settings: built-ins first, then skill tools.

Built-ins, in the order a model sees them: ``read_file``, ``write_file``,
``edit_file``, ``send_file``, ``run_python``, ``sql_query``, ``http_request`` (only when
``tools.http_allowlist`` names a host), the five memory tools (only when a
``Memory`` is given), ``activate_skill``, ``read_skill_resource`` and
``run_skill_tool``; then one ``<skill>__<tool>`` per installed skill tool.
"""

from __future__ import annotations

from brain.memory import Memory
from brain.settings import BrainSettings
from brain.skills import SkillSet
from brain.tools.core import Tool
from brain.tools.files import FileTools
from brain.tools.http_tool import Allowlist, HttpTool
from brain.tools.memory_tools import MemoryTools
from brain.tools.python_tool import PythonTool
from brain.tools.registry import ToolRegistry
from brain.tools.send_file import SendFileTool
from brain.tools.skill_docs import SkillDocs
from brain.tools.skill_tools import SkillTools
from brain.tools.sql_tool import SqlTool

__all__ = ["build_registry"]


def build_registry(
    settings: BrainSettings, skills: SkillSet, *, memory: Memory | None = None
) -> ToolRegistry:
    """Every tool the brain offers, limited as ``settings.tools`` says.

    Builds values only: nothing is created on disk until a call needs it.
    """
    limits = settings.tools
    cap = limits.output_cap_chars
    files = FileTools(settings.data_dir, output_cap=cap)
    python = PythonTool(
        settings.data_dir,
        timeout_s=limits.python_timeout_s,
        memory_bytes=limits.python_memory_bytes,
        require_isolation=limits.python_require_isolation,
        hidden=settings.sandbox_hidden_paths,
    )
    sql = SqlTool(settings.data_dir, timeout_s=limits.sql_timeout_s, max_rows=limits.sql_max_rows)
    sender = SendFileTool(settings.data_dir, max_bytes=limits.send_file_max_bytes)
    tools: list[Tool] = [*files.tools(), sender.tool(), python.tool(), sql.tool()]
    if limits.http_allowlist:
        http = HttpTool(
            Allowlist(limits.http_allowlist),
            timeout_s=limits.http_timeout_s,
            max_response_bytes=limits.http_max_response_bytes,
        )
        tools.append(http.tool())
    if memory is not None:
        tools += MemoryTools(memory).tools()
    runner = SkillTools(
        skills,
        data_dir=settings.data_dir,
        env=settings.skill_env,
        hidden_paths=settings.sandbox_hidden_paths,
    )
    docs = SkillDocs(skills, output_cap=cap)
    tools += [*docs.tools(), runner.run_skill_tool(), *runner.exposed()]
    return ToolRegistry(tools, output_cap=cap)
