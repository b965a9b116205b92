"""brain.sandbox: one tool call as a confined subprocess, in both sandbox modes."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import socket
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from brain import sandbox
from brain.sandbox import (
    SandboxError,
    SandboxLimits,
    SandboxMode,
    ToolContext,
    ToolFailure,
    ToolResult,
    call_context,
    run_tool,
    sandbox_mode,
)
from registry import LoadedSkill, load_skill

BWRAP = sandbox_mode() is SandboxMode.BWRAP
NEEDS_BWRAP = pytest.mark.skipif(
    not BWRAP, reason=f"sandbox_mode() is {sandbox_mode()!r}: no bubblewrap isolation here"
)
# Every behaviour that both modes share runs in both; bwrap only where it works.
MODES = [
    pytest.param(True, id="bwrap", marks=NEEDS_BWRAP),
    pytest.param(False, id="rlimit-only"),
]

PRELUDE = "import json, os, sys\nrequest = json.load(sys.stdin)\n"
ECHO = PRELUDE + 'print(json.dumps({"output": {"request": request, "text": "ok"}}))\n'


def write_skill(
    root: Path,
    script: str,
    *,
    name: str = "probe",
    timeout: float = 10,
    permissions: dict[str, list[str]] | None = None,
    input_schema: dict[str, Any] | None = None,
    output_schema: dict[str, Any] | None = None,
    entrypoint: str = "scripts/tool.py",
) -> LoadedSkill:
    folder = root / name
    (folder / "scripts").mkdir(parents=True)
    (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: A test probe.\n---\n")
    (folder / entrypoint).write_text(textwrap.dedent(script))
    tool = {
        "name": "probe",
        "description": "Probe the sandbox.",
        "entrypoint": entrypoint,
        "timeout": timeout,
        "input": input_schema or {"type": "object"},
        "output": output_schema or {"type": "object"},
    }
    sidecar = {"version": "1.0.0", "tools": [tool], "permissions": permissions or {}}
    (folder / "skill.yaml").write_text(json.dumps(sidecar))
    return load_skill(folder)


@pytest.fixture
def context(tmp_path: Path) -> ToolContext:
    work = tmp_path / "work"
    work.mkdir()
    return ToolContext(user="alice", session="web:1:2", work_dir=work, now=1767225600.0)


async def call(
    skill: LoadedSkill,
    arguments: dict[str, Any] | None = None,
    *,
    context: ToolContext,
    isolate: bool = True,
    **kwargs: Any,
) -> ToolResult:
    limits = dataclasses.replace(kwargs.pop("limits", SandboxLimits()), isolate=isolate)
    return await run_tool(
        skill, skill.tools[0], arguments or {}, context=context, limits=limits, **kwargs
    )


def live_processes_with(token: str) -> list[int]:
    """Host PIDs whose command line holds ``token`` (zombies have none)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if token.encode() in cmdline:
                found.append(int(entry.name))
    return found


async def eventually(condition: Callable[[], bool], within_s: float = 10.0) -> bool:
    """Wait for ``condition`` (a kernel-side effect), polling; False if it never holds."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


SPAWN_AND_HANG = (
    PRELUDE
    + """\
import subprocess, time
token = request["input"]["token"]
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", token])
open(os.path.join(request["context"]["work_dir"], "started"), "w").close()
time.sleep(600)
"""
)


# ----------------------------------------------------------------------------- basics


def test_sandbox_mode_is_detected_once() -> None:
    assert sandbox_mode() in set(SandboxMode)
    assert sandbox_mode() is sandbox_mode()


@pytest.mark.parametrize("isolate", MODES)
async def test_request_envelope_and_result(
    tmp_path: Path, context: ToolContext, isolate: bool
) -> None:
    skill = write_skill(tmp_path, ECHO)
    result = await call(skill, {"x": 1}, context=context, isolate=isolate)
    assert result.ok, result
    assert result.output is not None
    assert result.output["request"] == {
        "tool": "probe",
        "input": {"x": 1},
        "context": {
            "user": "alice",
            "session": "web:1:2",
            "data_dir": None,
            "work_dir": str(context.work_dir),
            "now": 1767225600.0,
        },
    }
    assert result.text == "ok"
    assert result.mode is (SandboxMode.BWRAP if isolate else SandboxMode.RLIMIT_ONLY)
    assert result.duration_s > 0


async def test_a_tool_of_another_skill_is_a_contract_error(
    tmp_path: Path, context: ToolContext
) -> None:
    skill = write_skill(tmp_path, ECHO)
    other = write_skill(tmp_path, ECHO, name="other")
    with pytest.raises(SandboxError, match="not a tool of skill"):
        await run_tool(skill, other.tools[0], {}, context=context)


async def test_a_missing_work_dir_is_a_contract_error(tmp_path: Path) -> None:
    skill = write_skill(tmp_path, ECHO)
    context = ToolContext(user="u", session="s", work_dir=tmp_path / "nope", now=0)
    with pytest.raises(SandboxError, match="does not exist"):
        await run_tool(skill, skill.tools[0], {}, context=context)


async def test_without_a_work_dir_a_private_one_is_made_and_removed(tmp_path: Path) -> None:
    skill = write_skill(tmp_path, PRELUDE + 'print(json.dumps({"output": {"cwd": os.getcwd()}}))')
    result = await run_tool(
        skill, skill.tools[0], {}, context=ToolContext(user="u", session="s", now=0)
    )
    assert result.ok, result
    assert result.output is not None
    work_dir = result.output["cwd"]
    assert os.path.basename(work_dir).startswith("skillyard-tool-")
    assert not await asyncio.to_thread(os.path.exists, work_dir)


async def test_call_context_removes_its_work_dir(tmp_path: Path) -> None:
    skill = write_skill(tmp_path, ECHO)
    with call_context(skill, user="u", session="s", now=0, data_root=None) as context:
        assert context.work_dir is not None
        (context.work_dir / "leftover").write_text("x")
        assert (await run_tool(skill, skill.tools[0], {}, context=context)).ok
    assert not context.work_dir.exists()


# ----------------------------------------------------------------------------- input


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({}, "input.expression: is required"),
        ({"expression": 5}, "input.expression: 5 is not of type 'string'"),
        ({"expression": "1", "bogus": 1}, "input.bogus: unknown key"),
    ],
)
async def test_bad_arguments_never_run_the_tool(
    tmp_path: Path, context: ToolContext, arguments: dict[str, Any], fragment: str
) -> None:
    marker = tmp_path / "ran"
    script = f"open({str(marker)!r}, 'w').close()\n" + ECHO
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["expression"],
        "properties": {"expression": {"type": "string"}},
    }
    skill = write_skill(tmp_path, script, input_schema=schema)
    result = await call(skill, arguments, context=context, isolate=False)
    assert (result.ok, result.failure) == (False, ToolFailure.INVALID_INPUT)
    assert result.error is not None
    assert fragment in result.error
    assert not marker.exists()


async def test_arguments_must_be_an_object(tmp_path: Path, context: ToolContext) -> None:
    skill = write_skill(tmp_path, ECHO)
    result = await run_tool(skill, skill.tools[0], [1, 2], context=context)  # type: ignore[arg-type]
    assert result.failure is ToolFailure.INVALID_INPUT


async def test_oversize_arguments_are_refused(tmp_path: Path, context: ToolContext) -> None:
    skill = write_skill(tmp_path, ECHO)
    result = await call(
        skill, {"x": "y" * 2000}, context=context, limits=SandboxLimits(max_input_bytes=1000)
    )
    assert result.failure is ToolFailure.INVALID_INPUT
    assert "over 1000 bytes" in (result.error or "")


# ----------------------------------------------------------------------------- output


@pytest.mark.parametrize(
    ("stdout", "fragment"),
    [
        ("not json", "did not write one JSON object"),
        ("", "it wrote nothing"),
        ('{"output": {}} {"output": {}}', "did not write one JSON object"),
        ("[1, 2]", "neither"),
        ('{"output": 3}', "neither"),
        ('{"output": {}, "extra": 1}', "neither"),
        ('{"error": "no message"}', "neither"),
        ('{"output": {"x": NaN}}', "NaN is not JSON"),
        ('{"output": {"text": 5}}', "output.text: 5 is not of type 'string'"),
    ],
)
async def test_bad_output_is_a_clear_failure(
    tmp_path: Path, context: ToolContext, stdout: str, fragment: str
) -> None:
    schema = {"type": "object", "properties": {"text": {"type": "string"}}}
    skill = write_skill(tmp_path, f"print({stdout!r})", output_schema=schema)
    result = await call(skill, context=context, isolate=False)
    assert result.failure is ToolFailure.BAD_OUTPUT
    assert fragment in (result.error or "")


@pytest.mark.parametrize("isolate", MODES)
async def test_oversize_output_is_cut_off_and_killed(
    tmp_path: Path, context: ToolContext, isolate: bool
) -> None:
    script = "import sys, time\nsys.stdout.write('x' * (4 * 1024 * 1024))\ntime.sleep(600)\n"
    skill = write_skill(tmp_path, script, timeout=60)
    result = await call(skill, context=context, isolate=isolate)
    assert result.failure is ToolFailure.OUTPUT_TOO_LARGE
    assert "more than 1048576 bytes" in (result.error or "")
    assert result.duration_s < 30


async def test_a_reported_error_is_passed_on_verbatim(tmp_path: Path, context: ToolContext) -> None:
    script = 'import json, sys\nprint(json.dumps({"error": {"message": "division by zero"}}))\n'
    skill = write_skill(tmp_path, script + "sys.exit(3)\n")
    result = await call(skill, context=context)
    assert (result.failure, result.error, result.text) == (
        ToolFailure.TOOL_ERROR,
        "division by zero",
        "division by zero",
    )


@pytest.mark.parametrize("isolate", MODES)
async def test_a_crash_reports_status_and_stderr_tail(
    tmp_path: Path, context: ToolContext, isolate: bool
) -> None:
    script = "import sys\nsys.stderr.write('noise ' * 10000)\nraise RuntimeError('boom')\n"
    skill = write_skill(tmp_path, script)
    result = await call(skill, context=context, isolate=isolate)
    assert result.failure is ToolFailure.CRASHED
    assert result.error == "probe exited with status 1"
    assert "RuntimeError: boom" in result.stderr
    assert len(result.stderr) <= SandboxLimits().max_stderr_bytes


# ----------------------------------------------------------------------------- time and reaping


@pytest.mark.parametrize("isolate", MODES)
async def test_timeout_kills_the_whole_tree(
    tmp_path: Path, context: ToolContext, isolate: bool
) -> None:
    token = f"skillyard-test-{uuid.uuid4()}"
    skill = write_skill(tmp_path, SPAWN_AND_HANG, timeout=0.5)
    result = await call(skill, {"token": token}, context=context, isolate=isolate)
    assert result.failure is ToolFailure.TIMEOUT
    assert result.error == "probe timed out after 0.5 s"
    assert (context.work_dir / "started").exists()  # the grandchild really was running
    assert await eventually(lambda: not live_processes_with(token))


@pytest.mark.parametrize("isolate", MODES)
async def test_cancelling_the_call_kills_and_reaps(
    tmp_path: Path, context: ToolContext, isolate: bool
) -> None:
    token = f"skillyard-test-{uuid.uuid4()}"
    skill = write_skill(tmp_path, SPAWN_AND_HANG, timeout=60)
    started = context.work_dir / "started"
    async with asyncio.TaskGroup() as group:
        task = group.create_task(call(skill, {"token": token}, context=context, isolate=isolate))
        assert await eventually(started.exists)
        assert live_processes_with(token)
        task.cancel()
    assert task.cancelled()
    assert await eventually(lambda: not live_processes_with(token))


async def test_background_children_die_with_a_normal_exit(
    tmp_path: Path, context: ToolContext
) -> None:
    script = (
        PRELUDE
        + "import subprocess\n"
        + "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)',"
        + " request['input']['token']])\n"
        + 'print(json.dumps({"output": {}}))\n'
    )
    token = f"skillyard-test-{uuid.uuid4()}"
    skill = write_skill(tmp_path, script)
    result = await call(skill, {"token": token}, context=context, isolate=False)
    assert result.ok, result
    assert await eventually(lambda: not live_processes_with(token))


# ----------------------------------------------------------------------------- limits


@pytest.mark.parametrize("isolate", MODES)
async def test_memory_limit(tmp_path: Path, context: ToolContext, isolate: bool) -> None:
    skill = write_skill(tmp_path, "block = bytearray(1024 * 1024 * 1024)\n")
    limits = SandboxLimits(memory_bytes=256 * 1024 * 1024)
    result = await call(skill, context=context, isolate=isolate, limits=limits)
    assert result.failure is ToolFailure.CRASHED
    assert "MemoryError" in result.stderr


@pytest.mark.parametrize("isolate", MODES)
async def test_cpu_limit(tmp_path: Path, context: ToolContext, isolate: bool) -> None:
    skill = write_skill(tmp_path, "while True:\n    pass\n", timeout=30)
    result = await call(
        skill, context=context, isolate=isolate, limits=SandboxLimits(cpu_seconds=1)
    )
    assert result.failure is ToolFailure.CRASHED
    assert "SIGXCPU" in (result.error or "")


async def test_file_size_limit(tmp_path: Path, context: ToolContext) -> None:
    script = "open('big', 'wb').write(b'x' * 2_000_000)\n"
    skill = write_skill(tmp_path, script)
    limits = SandboxLimits(max_file_bytes=1_000_000)
    result = await call(skill, context=context, isolate=False, limits=limits)
    assert result.failure is ToolFailure.CRASHED
    assert "SIGXFSZ" in (result.error or "") or "File too large" in result.stderr


# ----------------------------------------------------------------------------- environment


ENV_DUMP = PRELUDE + 'print(json.dumps({"output": {"env": dict(os.environ)}}))\n'


@pytest.mark.parametrize("isolate", MODES)
async def test_environment_is_scrubbed(tmp_path: Path, context: ToolContext, isolate: bool) -> None:
    declared = ["DECLARED_TOKEN", "ABSENT_VAR", "PATH", "LD_PRELOAD"]
    skill = write_skill(tmp_path, ENV_DUMP, permissions={"env": declared})
    environ = {
        "DECLARED_TOKEN": "yes",
        "UNDECLARED_SECRET": "no",
        "PATH": "/evil/bin",
        "LD_PRELOAD": "/evil.so",
    }
    result = await call(skill, context=context, isolate=isolate, environ=environ)
    assert result.ok, result
    assert result.output is not None
    env = result.output["env"]
    assert env.pop("DECLARED_TOKEN") == "yes"
    assert env.pop("PWD", str(context.work_dir)) == str(context.work_dir)  # bwrap --chdir sets it
    assert env == {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": str(context.work_dir),
        "TMPDIR": str(context.work_dir),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


async def test_the_servers_own_environment_never_leaks(
    tmp_path: Path, context: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILLYARD_TEST_SECRET", "leak")
    skill = write_skill(tmp_path, ENV_DUMP, permissions={"env": ["SKILLYARD_TEST_SECRET"]})
    result = await call(skill, context=context)  # no environ mapping passed
    assert result.output is not None
    assert "SKILLYARD_TEST_SECRET" not in result.output["env"]


# ----------------------------------------------------------------------------- isolation (bwrap)


CONNECT = (
    PRELUDE
    + """\
import socket
try:
    socket.create_connection(("127.0.0.1", request["input"]["port"]), timeout=5).close()
    outcome = "connected"
except OSError as exc:
    outcome = f"refused: {exc}"
print(json.dumps({"output": {"outcome": outcome}}))
"""
)


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@NEEDS_BWRAP
async def test_no_network_unless_declared(
    tmp_path: Path, context: ToolContext, listener: int
) -> None:
    offline = write_skill(tmp_path, CONNECT, name="offline")
    online = write_skill(tmp_path, CONNECT, name="online", permissions={"network": ["127.0.0.1"]})
    denied = await call(offline, {"port": listener}, context=context)
    allowed = await call(online, {"port": listener}, context=context)
    assert denied.output is not None
    assert allowed.output is not None
    assert denied.output["outcome"].startswith("refused")
    assert allowed.output["outcome"] == "connected"  # the test itself can tell


async def test_rlimit_only_mode_cannot_block_the_network(
    tmp_path: Path, context: ToolContext, listener: int
) -> None:
    # Documented weakness: without bubblewrap, a tool reaches the network.
    skill = write_skill(tmp_path, CONNECT)
    result = await call(skill, {"port": listener}, context=context, isolate=False)
    assert result.output == {"outcome": "connected"}


READ_AND_WRITE = (
    PRELUDE
    + """\
def attempt(action):
    try:
        action()
        return "ok"
    except OSError as exc:
        return type(exc).__name__
paths = request["input"]
print(json.dumps({"output": {
    "read_secret": attempt(lambda: open(paths["secret"]).read()),
    "write_skill": attempt(lambda: open(paths["skill_file"], "w").write("x")),
    "write_system": attempt(lambda: open("/usr/skillyard-probe", "w").write("x")),
    "write_tmp_outside": attempt(lambda: open(paths["outside"], "w").write("x")),
    "write_work": attempt(lambda: open("scratch", "w").write("x")),
}}))
"""
)


@NEEDS_BWRAP
async def test_filesystem_is_read_only_and_hidden_dirs_are_empty(
    tmp_path: Path, context: ToolContext
) -> None:
    home = tmp_path / "server-home"
    home.mkdir()
    (home / "secret.txt").write_text("credentials")
    # The skill itself lives under the hidden dir, as installed skills do.
    skill = write_skill(home / "skills", READ_AND_WRITE)
    paths = {
        "secret": str(home / "secret.txt"),
        "skill_file": str(skill.path / "SKILL.md"),
        "outside": str(tmp_path / "outside.txt"),
    }
    result = await call(skill, paths, context=context, hidden=[home])
    assert result.output == {
        "read_secret": "FileNotFoundError",
        "write_skill": "OSError",  # EROFS
        "write_system": "OSError",  # EROFS
        # /tmp is the sandbox's own tmpfs: the write lands there, not on the host.
        "write_tmp_outside": "ok",
        "write_work": "ok",
    }
    assert (home / "secret.txt").read_text() == "credentials"
    assert not (tmp_path / "outside.txt").exists()
    assert not await asyncio.to_thread(os.path.exists, "/usr/skillyard-probe")
    assert (context.work_dir / "scratch").read_text() == "x"


# ----------------------------------------------------------------------------- data dir


COUNTER = (
    PRELUDE
    + """\
data_dir = request["context"]["data_dir"]
path = os.path.join(data_dir, "count")
count = int(open(path).read()) + 1 if os.path.exists(path) else 1
open(path, "w").write(str(count))
print(json.dumps({"output": {"count": count}}))
"""
)


@pytest.mark.parametrize("isolate", MODES)
async def test_data_dir_persists_per_user(tmp_path: Path, isolate: bool) -> None:
    skill = write_skill(tmp_path, COUNTER, permissions={"filesystem": ["data"]})
    data_root = tmp_path / "data"

    async def count(user: str) -> object:
        with call_context(skill, user=user, session="s", now=0, data_root=data_root) as context:
            result = await call(skill, context=context, isolate=isolate)
        assert result.output is not None, result
        return result.output["count"]

    assert [await count("alice"), await count("alice"), await count("bob")] == [1, 2, 1]
    assert await count("../../alice") == 1  # a hostile user id is just another user
    users = sorted(p.name for p in (data_root / next(data_root.iterdir()).name).iterdir())
    assert len(users) == 3
    assert all("/" not in u and not u.startswith(".") for u in users)


async def test_a_declared_data_dir_is_required(tmp_path: Path, context: ToolContext) -> None:
    skill = write_skill(tmp_path, COUNTER, permissions={"filesystem": ["data"]})
    result = await call(skill, context=context)
    assert result.failure is ToolFailure.REFUSED
    assert "needs a data dir" in (result.error or "")


async def test_an_undeclared_data_dir_is_not_given(tmp_path: Path, context: ToolContext) -> None:
    skill = write_skill(tmp_path, ECHO)
    given = ToolContext(
        user="u", session="s", data_dir=tmp_path / "d", work_dir=context.work_dir, now=0
    )
    result = await call(skill, context=given)
    assert result.output is not None
    assert result.output["request"]["context"]["data_dir"] is None
    assert not (tmp_path / "d").exists()


async def test_data_dir_is_created_private(tmp_path: Path, context: ToolContext) -> None:
    skill = write_skill(tmp_path, COUNTER, permissions={"filesystem": ["data"]})
    data_dir = tmp_path / "deep" / "data"
    given = ToolContext(user="u", session="s", data_dir=data_dir, work_dir=context.work_dir, now=0)
    assert (await call(skill, context=given)).ok
    assert data_dir.stat().st_mode & 0o777 == 0o700


# ----------------------------------------------------------------------------- entrypoints


async def test_an_executable_entrypoint_runs_directly(tmp_path: Path, context: ToolContext) -> None:
    script = '#!/bin/sh\necho \'{"output": {"text": "from sh"}}\'\n'
    skill = write_skill(tmp_path, script, entrypoint="scripts/tool.sh")
    os.chmod(skill.tools[0].entrypoint, 0o755)
    assert (await call(skill, context=context)).text == "from sh"


async def test_a_non_executable_entrypoint_is_refused(tmp_path: Path, context: ToolContext) -> None:
    skill = write_skill(tmp_path, "#!/bin/sh\n", entrypoint="scripts/tool.sh")
    result = await call(skill, context=context)
    assert result.failure is ToolFailure.REFUSED
    assert "not executable" in (result.error or "")


async def test_no_bytecode_is_written_into_the_skill(tmp_path: Path, context: ToolContext) -> None:
    # -I keeps the script's dir off sys.path; a script that adds it back and
    # imports a helper must still not leave __pycache__ (the skill's hash).
    script = "import os, sys\nsys.path.insert(0, os.path.dirname(__file__))\nimport helper\n"
    skill = write_skill(tmp_path, script + "print(helper.REPLY)\n")
    (skill.path / "scripts" / "helper.py").write_text("REPLY = '{\"output\": {}}'\n")
    assert (await call(skill, context=context, isolate=False)).ok
    assert not list(skill.path.rglob("__pycache__"))


@pytest.mark.parametrize("arguments", [{"x": float("nan")}, {"x": {1, 2}}])
async def test_arguments_that_are_not_json_are_refused(
    tmp_path: Path, context: ToolContext, arguments: dict[str, Any]
) -> None:
    skill = write_skill(tmp_path, ECHO)
    result = await call(skill, arguments, context=context)
    assert result.failure is ToolFailure.INVALID_INPUT
    assert "not plain JSON" in (result.error or "")


# ----------------------------------------------------------------------------- detection


@pytest.fixture
def fresh_detection() -> Iterator[None]:
    sandbox._detect.cache_clear()
    yield
    sandbox._detect.cache_clear()


@pytest.mark.usefixtures("fresh_detection")
async def test_without_bwrap_the_mode_says_rlimit_only(
    tmp_path: Path, context: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox, "_TRUSTED_PATH", str(tmp_path / "empty"))
    assert sandbox_mode() is SandboxMode.RLIMIT_ONLY
    result = await call(write_skill(tmp_path, ECHO), context=context)
    assert (result.ok, result.mode) == (True, SandboxMode.RLIMIT_ONLY)


@pytest.mark.usefixtures("fresh_detection")
def test_a_broken_bwrap_is_detected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sandbox, "_TRUSTED_PATH", str(fake.parent))
    assert sandbox_mode() is SandboxMode.RLIMIT_ONLY


@pytest.mark.usefixtures("fresh_detection")
async def test_without_prlimit_every_call_is_refused(
    tmp_path: Path, context: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox, "PRLIMIT", str(tmp_path / "no-prlimit"))
    assert sandbox_mode() is SandboxMode.UNAVAILABLE
    result = await call(write_skill(tmp_path, ECHO), context=context)
    assert result.failure is ToolFailure.REFUSED
    assert "cannot be confined" in (result.error or "")
