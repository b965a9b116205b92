"""run_python: limits, isolation and the workspace, in both sandbox modes where they apply."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from brain.models.base import ToolCall
from brain.sandbox import SandboxMode, sandbox_mode
from brain.steps import ToolOutcome
from brain.tools import CallContext, ToolRegistry, workspace_dir
from brain.tools.python_tool import PythonTool

BWRAP = sandbox_mode() is SandboxMode.BWRAP
NEEDS_BWRAP = pytest.mark.skipif(not BWRAP, reason=f"sandbox_mode() is {sandbox_mode()!r}")
MODES = [pytest.param(True, id="bwrap", marks=NEEDS_BWRAP), pytest.param(False, id="rlimit-only")]
CONTEXT = CallContext(user="web:alice", session="web:default:c1")


def registry_for(data_dir: Path, *, isolate: bool, **options: object) -> ToolRegistry:
    tool = PythonTool(
        data_dir,
        isolate=isolate,
        require_isolation=isolate,
        hidden=(data_dir,),
        **options,  # type: ignore[arg-type]
    )
    return ToolRegistry([tool.tool()])


async def run(registry: ToolRegistry, code: str, **args: object) -> ToolOutcome:
    return await registry.execute(ToolCall("p1", "run_python", {"code": code, **args}), CONTEXT)


@pytest.mark.parametrize("isolate", MODES)
async def test_prints_come_back_with_the_exit_status(tmp_path: Path, isolate: bool) -> None:
    registry = registry_for(tmp_path / "data", isolate=isolate)
    outcome = await run(registry, "import sys\nprint(6 * 7)\nprint('oops', file=sys.stderr)")
    assert outcome.ok
    assert outcome.content == "exit status 0\n--- stdout ---\n42\n\n--- stderr ---\noops\n"


@pytest.mark.parametrize("isolate", MODES)
async def test_an_exception_is_a_result_with_its_traceback(tmp_path: Path, isolate: bool) -> None:
    outcome = await run(registry_for(tmp_path / "data", isolate=isolate), "1/0")
    assert outcome.ok
    assert outcome.content.startswith("python exited with status 1")
    assert "ZeroDivisionError" in outcome.content


@pytest.mark.parametrize("isolate", MODES)
async def test_the_workspace_is_the_working_directory(tmp_path: Path, isolate: bool) -> None:
    data_dir = tmp_path / "data"
    registry = registry_for(data_dir, isolate=isolate)
    outcome = await run(registry, "open('out.txt', 'w').write('made in python')\nprint('ok')")
    assert outcome.ok, outcome
    assert (workspace_dir(data_dir, CONTEXT.session) / "out.txt").read_text() == "made in python"


@pytest.mark.parametrize("isolate", MODES)
async def test_timeout(tmp_path: Path, isolate: bool) -> None:
    registry = registry_for(tmp_path / "data", isolate=isolate)
    outcome = await run(registry, "print('started', flush=True)\nwhile True: pass", timeout_s=1)
    body = json.loads(outcome.content)
    assert body["kind"] == "timeout"
    assert "timed out after 1 s" in body["error"] and "started" in body["error"]


async def test_a_timeout_over_the_configured_maximum_is_refused(tmp_path: Path) -> None:
    registry = registry_for(tmp_path / "data", isolate=False, timeout_s=5)
    outcome = await run(registry, "print(1)", timeout_s=60)
    assert json.loads(outcome.content)["kind"] == "invalid_arguments"


@pytest.mark.parametrize("isolate", MODES)
async def test_memory_limit(tmp_path: Path, isolate: bool) -> None:
    registry = registry_for(tmp_path / "data", isolate=isolate, memory_bytes=256 * 1024 * 1024)
    outcome = await run(registry, "block = bytearray(1024 * 1024 * 1024)\nprint('allocated')")
    assert outcome.ok
    assert "MemoryError" in outcome.content
    assert "allocated" not in outcome.content


@pytest.mark.parametrize("isolate", MODES)
async def test_environment_is_scrubbed(
    tmp_path: Path, isolate: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-server-secret")
    monkeypatch.setenv("SKILLYARD_TOKEN", "gateway-secret")
    registry = registry_for(tmp_path / "data", isolate=isolate)
    outcome = await run(registry, "import os, json\nprint(json.dumps(dict(os.environ)))")
    env = json.loads(outcome.content.split("--- stdout ---\n", 1)[1])
    env.pop("PWD", None)  # bwrap --chdir sets it
    workspace = str(workspace_dir(tmp_path / "data", CONTEXT.session))
    assert env == {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": workspace,
        "TMPDIR": workspace,
        "PYTHONDONTWRITEBYTECODE": "1",
    }


@pytest.mark.parametrize("isolate", MODES)
async def test_only_the_standard_library_is_importable(tmp_path: Path, isolate: bool) -> None:
    outcome = await run(registry_for(tmp_path / "data", isolate=isolate), "import httpx")
    assert "ModuleNotFoundError" in outcome.content


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    yield server
    server.close()


@NEEDS_BWRAP
async def test_no_network(tmp_path: Path, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    code = (
        "import socket\n"
        f"try:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "    print('connected')\nexcept OSError as exc:\n    print('refused', exc)\n"
    )
    outcome = await run(registry_for(tmp_path / "data", isolate=True), code)
    assert "refused" in outcome.content and "connected" not in outcome.content


@NEEDS_BWRAP
async def test_the_servers_data_dir_is_hidden_but_the_workspace_is_not(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "state.db").write_text("server state")
    code = (
        "import os\n"
        f"print(os.path.exists({str(data_dir / 'state.db')!r}))\n"
        "print(os.path.exists(os.getcwd()))\n"
    )
    outcome = await run(registry_for(data_dir, isolate=True), code)
    assert "--- stdout ---\nFalse\nTrue\n" in outcome.content


async def test_without_isolation_it_refuses_unless_allowed(tmp_path: Path) -> None:
    tool = PythonTool(tmp_path / "data", isolate=False, require_isolation=True)
    outcome = await run(ToolRegistry([tool.tool()]), "print('should not run')")
    body = json.loads(outcome.content)
    assert body["kind"] == "refused" and "bubblewrap" in body["error"]
    assert not (tmp_path / "data" / "workspaces").exists()


async def test_an_output_flood_is_stopped(tmp_path: Path) -> None:
    registry = registry_for(tmp_path / "data", isolate=False)
    outcome = await run(registry, "while True: print('x' * 10000)")
    body = json.loads(outcome.content)
    assert body["kind"] == "too_large"
    assert len(outcome.content) < 7_000  # capped for the model


async def test_cancelling_kills_and_reaps_the_process(tmp_path: Path) -> None:
    registry = registry_for(tmp_path / "data", isolate=False)
    fifo = workspace_dir(tmp_path / "data", CONTEXT.session) / "pid"
    os.mkfifo(fifo)
    code = f"import os, time\nopen({str(fifo)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)"
    task = asyncio.ensure_future(run(registry, code))
    pid = int(await asyncio.to_thread(fifo.read_text))  # returns once the code is running
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(ProcessLookupError):  # killed and reaped before the cancel returned
        os.kill(pid, 0)
