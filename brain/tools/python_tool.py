"""``run_python``: model-written Python in the sandbox, in the session's workspace.

The code goes to ``python -I -S -B -`` on stdin (never through a shell, never
as a file the model could later be tricked into running elsewhere) under
``brain.sandbox.run_confined``: a wall-clock timeout, an address-space limit,
CPU, process and file limits, an environment of base variables only, and
under bubblewrap no network, a read-only root, the server's data dir and
HOME hidden, and only the workspace writable.  ``-S`` means the standard
library only: the gateway's own packages are not the model's to import.

Without bubblewrap the code could read whatever the server's user can and
reach the network, so the tool refuses to run unless ``require_isolation``
is turned off explicitly.  A non-zero exit is a result (the model should
read the traceback), not an error; a timeout, a refusal or an output flood
is an error observation that still carries the output so far.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from brain import sandbox
from brain.sandbox import ConfinedRun, SandboxLimits, SandboxMode
from brain.tools.core import CallContext, ErrorKind, Risk, Tool, ToolFailed, ToolReply
from brain.tools.inspection import code_risk
from brain.tools.workspace import workspace_dir

__all__ = ["PythonTool"]

_MAX_CODE_CHARS = 200_000
_DOC = (
    "Run Python 3 code (standard library only) in a sandbox: no network, your workspace "
    "as the working directory. Print what you need to see; stdout and stderr come back."
)


class PythonTool:
    """``run_python`` for sessions under ``data_dir``.

    ``hidden`` are dirs the code must not see (the server's data dir, HOME);
    ``isolate=False`` forces rlimit-only even where bubblewrap works (tests).
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        timeout_s: float = 30.0,
        memory_bytes: int = 512 * 1024 * 1024,
        require_isolation: bool = True,
        isolate: bool = True,
        hidden: Sequence[Path] = (),
    ) -> None:
        self._data_dir = data_dir
        self._timeout = timeout_s
        self._require_isolation = require_isolation
        self._hidden = tuple(hidden)
        self._limits = SandboxLimits(
            memory_bytes=memory_bytes,
            cpu_seconds=max(1, int(timeout_s) + 1),
            max_output_bytes=1 << 20,
            max_stderr_bytes=64 << 10,  # a traceback must survive; its tail matters most
            isolate=isolate,
        )

    def tool(self) -> Tool:
        parameters = {
            "type": "object",
            "properties": {
                "code": {"type": "string", "minLength": 1, "maxLength": _MAX_CODE_CHARS},
                "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": self._timeout},
            },
            "required": ["code"],
            "additionalProperties": False,
        }
        return Tool("run_python", _DOC, parameters, Risk.EXECUTE, self._run, _inspect)

    async def _run(self, args: Mapping[str, Any], context: CallContext) -> ToolReply:
        mode = await asyncio.to_thread(sandbox.sandbox_mode)  # probes once, then cached
        self._check_isolation(mode)
        work = await asyncio.to_thread(workspace_dir, self._data_dir, context.session)
        timeout = float(args.get("timeout_s", self._timeout))
        run = await sandbox.run_confined(
            [*sandbox.python_argv(), "-"],
            stdin=args["code"].encode("utf-8", "replace"),
            work_dir=work,
            timeout_s=timeout,
            limits=self._limits,
            hidden=self._hidden,
        )
        return _reply(run, timeout)

    def _check_isolation(self, mode: SandboxMode) -> None:
        isolated = mode is SandboxMode.BWRAP and self._limits.isolate
        if self._require_isolation and not isolated:
            message = (
                f"run_python needs bubblewrap isolation and the sandbox here is {mode.value}; "
                "an administrator can install bubblewrap (or turn off "
                "tools.python_require_isolation on a host that is confined otherwise)"
            )
            raise ToolFailed(ErrorKind.REFUSED, message)


def _inspect(arguments: Mapping[str, Any]) -> Risk:
    return code_risk(arguments.get("code"))


def _reply(run: ConfinedRun, timeout: float) -> ToolReply:
    if run.start_error is not None:
        raise ToolFailed(ErrorKind.FAILED, f"python could not start: {run.start_error}")
    output = _streams(run)
    if run.timed_out:
        raise ToolFailed(ErrorKind.TIMEOUT, f"run_python timed out after {timeout:g} s{output}")
    if run.overflowed:
        message = f"the code printed more than {len(run.stdout)} bytes and was stopped{output}"
        raise ToolFailed(ErrorKind.TOO_LARGE, message)
    if run.returncode == 0:
        status = "exit status 0"
    else:
        status = sandbox.exit_problem("python", run.returncode, run.mode)
    return ToolReply(status + (output or " (no output)"))


def _streams(run: ConfinedRun) -> str:
    parts = []
    stdout = run.stdout.decode("utf-8", errors="replace")
    if stdout:
        parts.append(f"\n--- stdout ---\n{stdout}")
    if run.stderr:
        parts.append(f"\n--- stderr ---\n{run.stderr}")
    return "".join(parts)
