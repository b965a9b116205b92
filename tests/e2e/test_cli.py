"""The ``skillyard`` command as a user runs it: real processes, real server."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.client import GatewayClient
from tests.e2e.server_process import ServerProcess

pytestmark = pytest.mark.slow


def skillyard(
    *args: str, stdin: str = "", env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_terminal_chat_runs_a_command_and_streams_a_reply(live_server: ServerProcess) -> None:
    result = skillyard(
        "chat",
        "--url",
        live_server.ws_url,
        # "=": a generated token may start with "-", which would read as an option
        f"--token={live_server.token}",
        stdin="/calculator 2*(3+4)\nhello terminal\n/quit\n",
        env=live_server.env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "14" in lines
    assert "hello terminal" in lines
    assert "[calculator" in result.stdout  # tool activity is shown


def test_terminal_chat_finds_the_local_server_without_flags(live_server: ServerProcess) -> None:
    env = live_server.env()
    result = skillyard("chat", stdin="ping\n", env=env)  # end of input ends the chat
    assert result.returncode == 0, result.stderr
    assert "ping" in result.stdout.splitlines()


def test_terminal_chat_with_a_wrong_token_says_so(live_server: ServerProcess) -> None:
    result = skillyard(
        "chat",
        "--url",
        live_server.ws_url,
        "--token",
        "wrong-token-000000000",
        stdin="hi\n",
        env=live_server.env(),
    )
    assert result.returncode == 2
    assert "unauthorized" in result.stdout


def test_skills_list_and_config_check(tmp_path: Path) -> None:
    env = {"SKILLYARD_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    listed = skillyard("skills", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    names = {row["name"] for row in json.loads(listed.stdout)}
    assert {"calculator", "unit-convert", "time", "notes"} <= names
    checked = skillyard("config", "check", env=env)
    assert checked.returncode == 0
    assert "configuration OK" in checked.stdout
    bad = skillyard("config", "check", env=env | {"SKILLYARD_SESSIONS__QUEUE_MODE": "fast"})
    assert bad.returncode == 2
    assert "sessions.queue_mode" in bad.stderr


def test_serve_refuses_a_public_address_without_an_explicit_token(tmp_path: Path) -> None:
    env = {
        "SKILLYARD_HOME": str(tmp_path),
        "SKILLYARD_MODEL": "scripted:echo",
        "PATH": "/usr/bin:/bin",
    }
    result = skillyard("serve", "--host", "0.0.0.0", "--port", "0", env=env)
    assert result.returncode == 2
    assert "explicit token" in result.stderr


def test_sigterm_stops_a_running_reply_cleanly_and_a_restart_replays_it(tmp_path: Path) -> None:
    script = tmp_path / "script.yaml"
    script.write_text(
        "- tool_calls: [{name: calculator__evaluate, arguments: {expression: '1+1'}}]\n"
        "- reply: two\n"
    )
    server = ServerProcess(
        home=tmp_path / "home",
        model=f"scripted:{script}",
        extra_env={
            "SKILLYARD_SKILLS__APPROVAL_REQUIRED": "calculator__evaluate",
            "SKILLYARD_SERVER__SHUTDOWN_GRACE_S": "0.5",
        },
    )
    server.start()
    try:
        run_id = asyncio.run(start_a_turn_that_waits_for_approval(server))
        assert server.stop(signal.SIGTERM) == 0
        assert "Traceback" not in server.log_text()
        server.start()
        events = asyncio.run(replay(server))
    finally:
        server.stop()
    mine = [e for e in events if e["payload"].get("run_id") == run_id]
    assert mine[-1]["event"] == "chat.final"
    assert mine[-1]["payload"]["status"] == "stopped"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


async def start_a_turn_that_waits_for_approval(server: ServerProcess) -> str:
    async with GatewayClient.connect(server.ws_url, server.token) as client:
        sent = await client.request("chat.send", {"text": "1+1?", "idempotency_key": "k1"})
        await client.next_event("approval.requested")
        return str(sent["run_id"])


async def replay(server: ServerProcess) -> list[dict[str, object]]:
    async with GatewayClient.connect(server.ws_url, server.token) as client:
        result = await client.request(
            "sessions.subscribe", {"session": client.session, "after_seq": 0}
        )
        events = []
        while len(events) < result["last_seq"]:
            events.append(await client.next_event())
        return [e for e in events if "seq" in e]


def test_pairing_list_and_approve(tmp_path: Path) -> None:
    from gateway.pairing import PairingStore

    env = {"SKILLYARD_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    store = PairingStore.open(tmp_path / "state.db", clock=time.time)
    request = store.request("telegram", "bot-1", "42", "Alice")
    assert request is not None
    listed = skillyard("pairing", "list", env=env)
    assert request.code in listed.stdout and "Alice" in listed.stdout
    approved = skillyard("pairing", "approve", "telegram", request.code.lower(), env=env)
    assert approved.returncode == 0, approved.stderr
    assert store.is_known("telegram", "bot-1", "42")
    again = skillyard("pairing", "approve", "telegram", request.code, env=env)
    assert again.returncode == 1
    assert "no live pairing code" in again.stderr
