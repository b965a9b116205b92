"""Run one skill tool as a confined subprocess: JSON in on stdin, JSON out on stdout.

Theory of operation
-------------------
:func:`run_tool` validates the arguments against the tool's input schema,
then starts the entrypoint *without a shell* as::

    [bwrap <isolation> --] prlimit <rlimits> -- python -I -S -B script.py

(A registry skill with Python requirements runs with its own environment's
``python -I -B`` instead: see :func:`registry.envs.skill_python`.)

* **bubblewrap** (when :func:`sandbox_mode` is ``"bwrap"``): the whole
  filesystem read-only, a fresh ``/tmp``, ``/proc`` and ``/dev``; the caller's
  ``hidden`` dirs (the server's data dir, HOME) covered by empty tmpfs; only
  the call's work dir and, if declared, the (skill, user) data dir writable;
  new PID, IPC and UTS namespaces; no network unless the skill declares hosts;
  no capabilities even when the server runs as root.
* **prlimit** sets address space, CPU seconds, processes, open files and file
  size for the tool alone (inside bwrap), as a wrapper command: never
  ``preexec_fn``, which is unsafe in a threaded server.
* **environment**: ``PATH``, ``LANG``, ``HOME`` and ``TMPDIR`` (the work dir),
  ``PYTHONDONTWRITEBYTECODE``, plus the variables the skill declares, taken
  from the ``environ`` mapping the caller passes (never ``os.environ``).

The child leads a new session, so its whole process group is killed on
timeout, on oversized output, on cancellation and when the child exits (no
background leftovers), and it is always reaped before :func:`run_tool`
returns or re-raises.  Under bwrap the tool also lives
in its own PID namespace, which the kernel empties when bwrap dies, so even a
process that called ``setsid`` goes with it.

Every fault of the *tool* (bad arguments, timeout, crash, bad or oversized
output, an error it reports) is a :class:`ToolResult` with ``ok=False`` and a
:class:`ToolFailure` saying which; only a caller breaking the contract raises
:class:`SandboxError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, cast

from brain.errors import BrainError
from registry import LoadedSkill, ToolSpec
from registry.envs import skill_python
from registry.schemaerrors import schema_problems

__all__ = [
    "PRLIMIT",
    "ConfinedRun",
    "SandboxError",
    "SandboxLimits",
    "SandboxMode",
    "ToolContext",
    "ToolFailure",
    "ToolResult",
    "call_context",
    "exit_problem",
    "python_argv",
    "run_confined",
    "run_tool",
    "sandbox_mode",
]

PRLIMIT = "/usr/bin/prlimit"
# Fixed directories, not the server's PATH: a writable directory early in
# PATH must not be able to stand in for the sandbox itself.
_TRUSTED_PATH = "/usr/local/bin:/usr/bin:/bin"
_TOOL_PATH = "/usr/bin:/bin"
_BASE_ENV_NAMES = frozenset({"PATH", "LANG", "HOME", "TMPDIR", "PYTHONDONTWRITEBYTECODE"})
_READ_CHUNK = 64 * 1024
_PROBE_TIMEOUT_S = 10.0
_BWRAP_FIXED = (
    "--ro-bind", "/", "/",
    "--dev", "/dev",
    "--proc", "/proc",
    "--tmpfs", "/tmp",  # noqa: S108 - a fresh, private tmpfs inside the sandbox
    "--unshare-pid", "--unshare-ipc", "--unshare-uts",
    # PR_SET_PDEATHSIG follows the *thread* that forked: the event loop's,
    # which lives as long as the server.
    "--die-with-parent", "--new-session",
    # As root, bwrap keeps every capability unless told otherwise.
    "--cap-drop", "ALL",
)  # fmt: skip


class SandboxError(BrainError):
    """The caller broke :func:`run_tool`'s contract (a bug, never tool behaviour)."""


class SandboxMode(StrEnum):
    BWRAP = "bwrap"
    RLIMIT_ONLY = "rlimit-only"
    UNAVAILABLE = "unavailable"  # no prlimit: every call is refused


class ToolFailure(StrEnum):
    """Why a call failed, classed by what the caller should do about it."""

    INVALID_INPUT = "invalid_input"  # fix the arguments and call again
    TOOL_ERROR = "tool_error"  # the tool answered with an error message meant for the user
    TIMEOUT = "timeout"  # killed after its wall-clock timeout
    CRASHED = "crashed"  # non-zero exit, or killed by a signal (a limit)
    BAD_OUTPUT = "bad_output"  # stdout is not one valid JSON envelope
    OUTPUT_TOO_LARGE = "output_too_large"
    REFUSED = "refused"  # the sandbox will not run it here (no prlimit, no data dir, ...)


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """Resource limits and isolation for one call; the defaults are safe.

    ``cpu_seconds`` is further capped to the tool's timeout plus one second.
    ``max_processes`` is RLIMIT_NPROC, which Linux counts per user and does
    not enforce for root.  ``isolate=False`` forces rlimit-only even where
    bubblewrap works (for hosts that confine the server themselves, and tests).
    """

    memory_bytes: int = 512 * 1024 * 1024
    cpu_seconds: int = 60
    max_processes: int = 64
    max_open_files: int = 256
    max_file_bytes: int = 64 * 1024 * 1024
    max_input_bytes: int = 1024 * 1024
    max_output_bytes: int = 1024 * 1024
    max_stderr_bytes: int = 4 * 1024
    isolate: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolContext:
    """Who a call is for and where it may write.

    ``data_dir`` is the persistent dir of this (skill, user); it is used (and
    created, mode 0700) only if the skill declares filesystem ``data``.
    ``work_dir`` is a private scratch dir: leave it ``None`` and
    :func:`run_tool` makes a fresh one and removes it afterwards; pass one and
    it must exist and is yours to remove.  ``now`` is the time the tool sees.
    """

    user: str
    session: str
    data_dir: Path | None = None
    work_dir: Path | None = None
    now: float


@dataclass(frozen=True, slots=True)
class ToolResult:
    """The outcome of one call: ``output`` when ``ok``, else ``failure`` and ``error``."""

    ok: bool
    output: dict[str, Any] | None = None
    error: str | None = None
    failure: ToolFailure | None = None
    stderr: str = ""
    duration_s: float = 0.0
    mode: SandboxMode | None = None

    @property
    def text(self) -> str:
        """The user-facing reply: the output's ``text`` field, or the error."""
        if self.output is not None:
            text = self.output.get("text")
            return text if isinstance(text, str) else json.dumps(self.output, ensure_ascii=False)
        return self.error or "the tool failed"


def _failed(failure: ToolFailure, error: str, stderr: str = "") -> ToolResult:
    return ToolResult(ok=False, failure=failure, error=error, stderr=stderr)


# --------------------------------------------------------------------------- detection


def sandbox_mode() -> SandboxMode:
    """How tools are confined on this host; probed once (runs ``bwrap ... true``).

    Blocks on the first call: call it at start-up, and warn loudly unless it
    says ``"bwrap"``.
    """
    return _detect()[0]


@cache
def _detect() -> tuple[SandboxMode, str | None]:
    if not os.access(PRLIMIT, os.X_OK):
        return SandboxMode.UNAVAILABLE, None
    bwrap = shutil.which("bwrap", path=_TRUSTED_PATH)
    if bwrap is None or not _bwrap_works(bwrap):
        return SandboxMode.RLIMIT_ONLY, None
    return SandboxMode.BWRAP, bwrap


def _bwrap_works(bwrap: str) -> bool:
    """bwrap may exist yet fail (no user namespaces in a container): try it once."""
    argv = [bwrap, *_BWRAP_FIXED, "--unshare-net", "--", "/bin/true"]
    try:
        done = subprocess.run(
            argv, env={"PATH": _TOOL_PATH}, capture_output=True, timeout=_PROBE_TIMEOUT_S
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


# --------------------------------------------------------------------------- one call


@dataclass(frozen=True, slots=True)
class _Call:
    """Everything one run needs, resolved: dirs exist, undeclared ones are dropped."""

    skill: LoadedSkill
    tool: ToolSpec
    context: ToolContext
    work_dir: Path
    data_dir: Path | None
    limits: SandboxLimits
    mode: SandboxMode


async def run_tool(
    skill: LoadedSkill,
    tool: ToolSpec,
    arguments: dict[str, Any],
    *,
    context: ToolContext,
    limits: SandboxLimits = SandboxLimits(),
    environ: Mapping[str, str] | None = None,
    hidden: Sequence[Path] = (),
) -> ToolResult:
    """Run ``tool`` of ``skill`` once with ``arguments``; never raises for tool faults.

    ``environ`` is where the skill's declared variables are taken from
    (nothing else passes); ``hidden`` lists directories the tool must not see
    (the server's data dir, HOME).  Raises :class:`SandboxError` if ``tool``
    is not one of ``skill``'s tools or a given ``context.work_dir`` is missing.
    Cancelling the awaiting task kills and reaps the tool before re-raising.
    """
    if skill.tool(tool.name) != tool:
        raise SandboxError(f"{tool.name!r} is not a tool of skill {skill.name!r}")
    if context.work_dir is not None and not context.work_dir.is_dir():
        raise SandboxError(f"work dir {context.work_dir} does not exist")
    started = time.monotonic()
    mode = _mode(limits)
    refusal = _refusal(skill, tool, arguments, context, mode)
    if refusal is not None:
        result = refusal
    else:
        with _work_dir(context) as work_dir:
            call = _Call(skill, tool, context, work_dir, _data_dir(skill, context), limits, mode)
            result = await _run(call, arguments, environ or {}, hidden)
    return dataclasses.replace(result, duration_s=time.monotonic() - started, mode=mode)


def _mode(limits: SandboxLimits) -> SandboxMode:
    mode = sandbox_mode()
    return SandboxMode.RLIMIT_ONLY if mode is SandboxMode.BWRAP and not limits.isolate else mode


def _refusal(
    skill: LoadedSkill, tool: ToolSpec, arguments: object, context: ToolContext, mode: SandboxMode
) -> ToolResult | None:
    if not isinstance(arguments, dict):
        return _failed(ToolFailure.INVALID_INPUT, "arguments must be a JSON object")
    try:
        problems = schema_problems(tool.input_schema, arguments, root="input", limit=3)
    except RecursionError:
        problems = [("input", "is nested too deeply")]
    if problems:
        detail = "; ".join(f"{key}: {problem}" for key, problem in problems)
        return _failed(ToolFailure.INVALID_INPUT, f"invalid arguments for {tool.name}: {detail}")
    if mode is SandboxMode.UNAVAILABLE:
        return _failed(ToolFailure.REFUSED, f"{PRLIMIT} is missing, so tools cannot be confined")
    if skill.permissions.data_dir and context.data_dir is None:
        return _failed(ToolFailure.REFUSED, f"{skill.name} needs a data dir and none was given")
    if tool.entrypoint.suffix != ".py" and not os.access(tool.entrypoint, os.X_OK):
        return _failed(ToolFailure.REFUSED, f"entrypoint {tool.entrypoint.name} is not executable")
    return None


@contextlib.contextmanager
def call_context(
    skill: LoadedSkill,
    *,
    user: str,
    session: str,
    now: float,
    data_root: Path | None,
    work_root: Path | None = None,
) -> Iterator[ToolContext]:
    """A :class:`ToolContext` with a fresh private work dir, removed on exit.

    The data dir is ``data_root/<skill>/<user>`` (both segments sanitised and
    hashed, so any user id is safe), set only when the skill declares
    filesystem ``data`` and ``data_root`` is given; :func:`run_tool` creates it.
    """
    data_dir = None
    if skill.permissions.data_dir and data_root is not None:
        data_dir = data_root / _segment(skill.name) / _segment(user)
    work_dir = Path(tempfile.mkdtemp(prefix="skillyard-tool-", dir=work_root))
    try:
        yield ToolContext(user=user, session=session, data_dir=data_dir, work_dir=work_dir, now=now)
    finally:
        shutil.rmtree(work_dir, onerror=_force_remove)


def _segment(text: str) -> str:
    """A readable, collision-free directory name for any string."""
    readable = re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:40].strip(".") or "x"
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{readable}-{digest}"


@contextlib.contextmanager
def _work_dir(context: ToolContext) -> Iterator[Path]:
    if context.work_dir is not None:
        yield context.work_dir
        return
    work_dir = Path(tempfile.mkdtemp(prefix="skillyard-tool-"))
    try:
        yield work_dir
    finally:
        shutil.rmtree(work_dir, onerror=_force_remove)


def _force_remove(function: Callable[..., Any], path: str, _exc_info: object) -> None:
    """A tool may leave read-only dirs behind: make the parent writable and retry once."""
    with contextlib.suppress(OSError):
        os.chmod(os.path.dirname(path), 0o700)
        function(path)


def _data_dir(skill: LoadedSkill, context: ToolContext) -> Path | None:
    """The data dir if the skill declared one (created on first use), else ``None``."""
    if not skill.permissions.data_dir or context.data_dir is None:
        return None
    context.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return context.data_dir


async def _run(
    call: _Call, arguments: dict[str, Any], environ: Mapping[str, str], hidden: Sequence[Path]
) -> ToolResult:
    try:
        stdin = _stdin(call, arguments)
    except (TypeError, ValueError, RecursionError) as exc:
        return _failed(ToolFailure.INVALID_INPUT, f"arguments are not plain JSON: {exc}")
    if len(stdin) > call.limits.max_input_bytes:
        message = f"arguments are over {call.limits.max_input_bytes} bytes of JSON"
        return _failed(ToolFailure.INVALID_INPUT, message)
    argv = _argv(call, hidden)
    env = _environment(call, environ)
    run = await _execute(
        argv, env, stdin, cwd=call.work_dir, timeout_s=call.tool.timeout_s, limits=call.limits
    )
    return _interpret(run, call)


def _stdin(call: _Call, arguments: dict[str, Any]) -> bytes:
    context = {
        "user": call.context.user,
        "session": call.context.session,
        "data_dir": None if call.data_dir is None else str(call.data_dir),
        "work_dir": str(call.work_dir),
        "now": call.context.now,
    }
    payload = {"tool": call.tool.name, "input": arguments, "context": context}
    return json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")


# --------------------------------------------------------------------------- any confined process


@dataclass(frozen=True, slots=True)
class ConfinedRun:
    """What one :func:`run_confined` process did.

    ``stdout`` holds at most ``limits.max_output_bytes`` (``overflowed`` says
    the process wrote more and was killed); ``stderr`` is the decoded tail of
    at most ``limits.max_stderr_bytes``.  ``returncode`` is the raw status
    (under bwrap a signal N shows as 128 + N); ``start_error`` says why the
    process could not start at all.
    """

    stdout: bytes
    stderr: str
    returncode: int | None
    timed_out: bool
    overflowed: bool
    start_error: str | None
    mode: SandboxMode


def python_argv() -> list[str]:
    """The confined interpreter: isolated, stdlib only, no bytecode files (see below)."""
    return [_python(), "-I", "-S", "-B"]


async def run_confined(
    argv: Sequence[str],
    *,
    stdin: bytes,
    work_dir: Path,
    timeout_s: float,
    limits: SandboxLimits = SandboxLimits(),
    hidden: Sequence[Path] = (),
) -> ConfinedRun:
    """Run ``argv`` (no shell) confined like a skill tool without network access.

    ``work_dir`` must exist (else ``start_error``): it is the working
    directory, ``HOME`` and ``TMPDIR``, and the only writable path under
    bubblewrap, even when it lies inside one of the ``hidden`` dirs.  The environment holds only the
    base variables.  Check ``sandbox_mode()`` first: in ``unavailable`` mode
    this refuses (``start_error``).  Cancelling kills and reaps the process
    before re-raising.
    """
    mode = _mode(limits)
    if mode is SandboxMode.UNAVAILABLE:
        message = f"{PRLIMIT} is missing, so the process cannot be confined"
        return ConfinedRun(b"", "", None, False, False, message, mode)
    full = [*_prlimit_argv(limits, timeout_s), *argv]
    bwrap = _detect()[1]
    if mode is SandboxMode.BWRAP and bwrap is not None:
        isolation = _isolation_argv(
            network=False,
            hidden=hidden,
            read_only=sorted(_interpreter_paths()),
            writable=(work_dir,),
            work_dir=work_dir,
        )
        full = [bwrap, *isolation, "--", *full]
    env = _base_environment(work_dir)
    run = await _execute(full, env, stdin, cwd=work_dir, timeout_s=timeout_s, limits=limits)
    stderr = run.stderr.decode("utf-8", errors="replace")
    return ConfinedRun(
        bytes(run.stdout), stderr, run.returncode, run.timed_out, run.overflowed,
        run.start_error, mode,
    )  # fmt: skip


# --------------------------------------------------------------------------- command line


def _argv(call: _Call, hidden: Sequence[Path]) -> list[str]:
    interpreter = _interpreter_argv(call.skill, call.tool)
    confined = [*_prlimit_argv(call.limits, call.tool.timeout_s), *interpreter]
    bwrap = _detect()[1]
    if call.mode is not SandboxMode.BWRAP or bwrap is None:
        return confined
    return [bwrap, *_bwrap_argv(call, hidden), "--", *confined]


def _interpreter_argv(skill: LoadedSkill, tool: ToolSpec) -> list[str]:
    if tool.entrypoint.suffix != ".py":
        return [str(tool.entrypoint)]
    own = skill_python(skill.path)
    if own is not None:
        # The skill's own environment (its requirements): no -S, so its site-packages
        # load; -I still keeps PYTHON* variables and the user site out.  Not resolved:
        # a venv's python finds its pyvenv.cfg through the link's own path.
        return [str(own), "-I", "-B", str(tool.entrypoint)]
    # -I: no user site, no PYTHON* variables, no script dir on sys.path;
    # -S: no site-packages (first-party skills use the stdlib only);
    # -B: never write __pycache__ into the skill folder (it would change its hash).
    return [*python_argv(), str(tool.entrypoint)]


@cache
def _python() -> str:
    """The real interpreter binary: a venv's ``python`` is only a symlink to it."""
    return os.path.realpath(sys.executable)


def _prlimit_argv(limits: SandboxLimits, timeout_s: float) -> list[str]:
    cpu = min(limits.cpu_seconds, math.ceil(timeout_s) + 1)
    return [
        PRLIMIT,
        f"--as={limits.memory_bytes}",
        # Soft below hard: the tool dies of a nameable SIGXCPU, not a bare SIGKILL.
        f"--cpu={cpu}:{cpu + 1}",
        f"--nproc={limits.max_processes}",
        f"--nofile={limits.max_open_files}",
        f"--fsize={limits.max_file_bytes}",
        "--core=0",
        "--",
    ]


def _bwrap_argv(call: _Call, hidden: Sequence[Path]) -> list[str]:
    return _isolation_argv(
        network=bool(call.skill.permissions.network),
        hidden=hidden,
        read_only=_exposed(call.skill),
        writable=(call.work_dir, call.data_dir),
        work_dir=call.work_dir,
    )


def _isolation_argv(
    *,
    network: bool,
    hidden: Sequence[Path],
    read_only: Sequence[str],
    writable: Sequence[Path | None],
    work_dir: Path,
) -> list[str]:
    """Later mounts win, so: hide first, then re-expose what the process needs."""
    args = list(_BWRAP_FIXED)
    if not network:
        args.append("--unshare-net")
    # Real paths: a mount over a symlink would hide or expose the wrong thing.
    for dir_path in hidden:
        if dir_path.is_dir():
            args += ["--tmpfs", os.path.realpath(dir_path)]
    for exposed in read_only:
        args += ["--ro-bind", exposed, exposed]
    for path in writable:
        if path is not None:
            real = os.path.realpath(path)
            args += ["--bind", real, real]
    return [*args, "--chdir", os.path.realpath(work_dir)]


def _exposed(skill: LoadedSkill) -> list[str]:
    """Read-only paths the tool needs even under a hidden dir or the fresh /tmp."""
    own = skill_python(skill.path)
    env = [os.path.realpath(own.parent.parent)] if own is not None else []
    return sorted({*_interpreter_paths(), str(skill.path), *env})


def _interpreter_paths() -> set[str]:
    return {sys.base_prefix, sys.base_exec_prefix, os.path.dirname(_python())}


def _environment(call: _Call, environ: Mapping[str, str]) -> dict[str, str]:
    env = {
        name: environ[name]
        for name in call.skill.permissions.env
        # LD_* would let a skill load code into every binary it runs.
        if name in environ and name not in _BASE_ENV_NAMES and not name.startswith("LD_")
    }
    env.update(_base_environment(call.work_dir))
    return env


def _base_environment(work_dir: Path) -> dict[str, str]:
    work = str(work_dir)
    return {
        "PATH": _TOOL_PATH, "LANG": "C.UTF-8", "HOME": work, "TMPDIR": work,
        "PYTHONDONTWRITEBYTECODE": "1",
    }  # fmt: skip


# --------------------------------------------------------------------------- process


@dataclass(slots=True)
class _Run:
    """What the child did; filled in as it runs, so a timeout keeps partial stderr."""

    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    returncode: int | None = None
    timed_out: bool = False
    overflowed: bool = False
    start_error: str | None = None


class _Collector(asyncio.SubprocessProtocol):
    """Caps stdout, keeps the tail of stderr, and resolves ``done`` once the
    child has exited *and* every pipe is closed (asyncio's ``connection_lost``)."""

    def __init__(self, run: _Run, limits: SandboxLimits) -> None:
        self._run = run
        self._limits = limits
        self._pid: int | None = None
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's process transport has get_pid() without subclassing
        # asyncio.SubprocessTransport, so no isinstance check here.
        self._pid = cast(asyncio.SubprocessTransport, transport).get_pid()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if fd == 1:
            self._on_stdout(data)
        else:
            self._run.stderr += data
            del self._run.stderr[: -self._limits.max_stderr_bytes]

    def _on_stdout(self, data: bytes) -> None:
        if self._run.overflowed:
            return  # keep draining so the pipe reaches EOF; the tool is being killed
        if len(self._run.stdout) + len(data) > self._limits.max_output_bytes:
            self._run.overflowed = True
            self.kill_group()
            return
        self._run.stdout += data

    def process_exited(self) -> None:
        # Background children left in the group would hold the pipes open.
        self.kill_group()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)

    def kill_group(self) -> None:
        # The child leads its own session, so its PID is the group id.  A PID
        # is not reused while any process still has it as its group, so this
        # never reaches an unrelated group.
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._pid, signal.SIGKILL)


async def _execute(
    argv: list[str],
    env: dict[str, str],
    stdin: bytes,
    *,
    cwd: Path,
    timeout_s: float,
    limits: SandboxLimits,
) -> _Run:
    run = _Run()
    loop = asyncio.get_running_loop()
    try:
        transport, collector = await loop.subprocess_exec(
            lambda: _Collector(run, limits),
            *argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    except OSError as exc:
        run.start_error = f"could not start: {exc.strerror or exc}"
        return run
    try:
        _feed(transport, stdin)
        async with asyncio.timeout(timeout_s):
            await asyncio.shield(collector.done)
    except TimeoutError:
        run.timed_out = True
    finally:
        # Also on cancellation: kill the group, close our pipe ends and wait
        # until the child is reaped before returning or re-raising.
        collector.kill_group()
        transport.close()
        await collector.done
    run.returncode = transport.get_returncode()
    return run


def _feed(transport: asyncio.SubprocessTransport, data: bytes) -> None:
    """Queue the request and close stdin; a tool that never reads it is fine
    (asyncio drops EPIPE on a pipe quietly, and the output decides the result)."""
    # Typed by cast, not isinstance: uvloop's pipe transports do not subclass asyncio's.
    pipe = cast(asyncio.WriteTransport, transport.get_pipe_transport(0))
    pipe.write(data)
    pipe.close()


# --------------------------------------------------------------------------- result


def _interpret(run: _Run, call: _Call) -> ToolResult:
    name = call.tool.name
    stderr = run.stderr.decode("utf-8", errors="replace").strip()
    if run.start_error is not None:
        return _failed(ToolFailure.CRASHED, f"{name} {run.start_error}")
    if run.timed_out:
        message = f"{name} timed out after {call.tool.timeout_s:g} s"
        return _failed(ToolFailure.TIMEOUT, message, stderr)
    if run.overflowed:
        message = f"{name} wrote more than {call.limits.max_output_bytes} bytes of output"
        return _failed(ToolFailure.OUTPUT_TOO_LARGE, message, stderr)
    envelope = _envelope(bytes(run.stdout))
    if isinstance(envelope, dict) and "error" in envelope:
        return _failed(ToolFailure.TOOL_ERROR, envelope["error"]["message"], stderr)
    if run.returncode != 0:
        return _failed(ToolFailure.CRASHED, exit_problem(name, run.returncode, call.mode), stderr)
    if isinstance(envelope, str):
        return _failed(ToolFailure.BAD_OUTPUT, f"{name} {envelope}", stderr)
    return _checked_output(call.tool, envelope["output"], stderr)


def _envelope(stdout: bytes) -> dict[str, Any] | str:
    """``{"output": {...}}`` or ``{"error": {"message": str}}``, else what is wrong."""
    try:
        value = json.loads(stdout.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        detail = f" ({exc})" if stdout.strip() else " (it wrote nothing)"
        return f"did not write one JSON object on stdout{detail}"
    if isinstance(value, dict) and value.keys() == {"output"} and isinstance(value["output"], dict):
        return value
    if isinstance(value, dict) and value.keys() == {"error"} and _is_error(value["error"]):
        return value
    return 'wrote JSON that is neither {"output": {...}} nor {"error": {"message": "..."}}'


def _is_error(error: object) -> bool:
    return isinstance(error, dict) and isinstance(error.get("message"), str)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


_SIGNAL_HINTS: dict[int, str] = {
    signal.SIGXCPU: " (it used up its CPU time limit)",
    signal.SIGKILL: " (a resource limit or the kernel's OOM killer)",
    signal.SIGXFSZ: " (it wrote a file over the size limit)",
}


def exit_problem(name: str, returncode: int | None, mode: SandboxMode) -> str:
    """``name exited with status 3`` or ``name was killed by SIGXCPU (why)``."""
    code = -1 if returncode is None else returncode
    signum = _signal_of(code, mode)
    if signum is None:
        return f"{name} exited with status {code}"
    return f"{name} was killed by {_signal_name(signum)}{_SIGNAL_HINTS.get(signum, '')}"


def _signal_of(code: int, mode: SandboxMode) -> int | None:
    if code < 0:
        return -code
    # bwrap reports a child killed by signal N as exit status 128 + N.
    if mode is SandboxMode.BWRAP and 128 < code <= 128 + 64:
        return code - 128
    return None


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _checked_output(tool: ToolSpec, output: dict[str, Any], stderr: str) -> ToolResult:
    try:
        problems = schema_problems(tool.output_schema, output, root="output", limit=3)
    except RecursionError:
        problems = [("output", "is nested too deeply")]
    if problems:
        detail = "; ".join(f"{key}: {problem}" for key, problem in problems)
        message = f"{tool.name} returned invalid output: {detail}"
        return _failed(ToolFailure.BAD_OUTPUT, message, stderr)
    return ToolResult(ok=True, output=output, stderr=stderr)
