"""The issue's "done means": a skill goes from ``skillyard skill init`` to ``/name args`` in chat.

Everything is real: ``skillyard serve`` in a child process (the registry is
mounted on its port), the ``skillyard skill`` commands as child processes
finding that server like ``skillyard chat`` does, the chat through the
WebSocket protocol with ``GatewayClient``.  A second flow does the same with
the HTTP API alone (raw ``httpx`` to publish and search, the client library
to install).
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.client import GatewayClient
from registry.archive import pack
from registry.client import ClientSettings, RegistryClient, SkillRef
from registry.hashing import hash_folder
from registry.install import Installer, InstallSettings
from registry.install_trust import KNOWN_REGISTRIES, TrustStore
from registry.signing import PublishStatement, SigningKey
from tests.e2e.server_process import ServerProcess

pytestmark = pytest.mark.slow


def skill(server: ServerProcess, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "gateway.cli", "skill", *args]
    return subprocess.run(
        command, input=stdin, capture_output=True, text=True, env=server.env(), timeout=300
    )


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"{done.args}\n{done.stdout}\n{done.stderr}"
    return done


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(ok(done).stdout)


async def chat(server: ServerProcess, text: str) -> dict[str, Any]:
    async with GatewayClient.connect(server.ws_url, server.token) as client:
        sent = await client.request("chat.send", {"text": text, "idempotency_key": text})
        async for event in client.events():
            payload = event.get("payload", {})
            if payload.get("run_id") == sent["run_id"] and event["event"] in (
                "chat.final",
                "chat.error",
            ):
                return dict(event)
    raise AssertionError("the connection closed before the reply")


def reply_text(event: dict[str, Any]) -> str:
    assert event["event"] == "chat.final", event
    return str(event["payload"]["text"])


@pytest.fixture
def server(tmp_path: Path) -> Any:
    process = ServerProcess(home=tmp_path / "home")
    process.start()
    try:
        yield process
    finally:
        process.stop()


def set_version(folder: Path, version: str, hosts: str = "[]") -> None:
    sidecar = folder / "skill.yaml"
    text = sidecar.read_text().splitlines(keepends=True)
    text[0] = f"version: {version}\n"
    sidecar.write_text("".join(text).replace("  network: []", f"  network: {hosts}"))


def test_init_publish_search_install_and_chat(server: ServerProcess, tmp_path: Path) -> None:
    ok(skill(server, "login", "--publisher", "alice"))
    ok(skill(server, "keys", "generate"))
    ok(skill(server, "keys", "register"))
    work = tmp_path / "work"
    created = as_json(
        skill(
            server,
            "init",
            "greet",
            "--dir",
            str(work),
            "--json",
            "--description",
            "Greet someone by name. Use when asked to greet.",
        )
    )
    folder = Path(created["path"])
    script = folder / "scripts" / "greet.py"
    script.write_text(script.read_text().replace('f"greet says: {text}"', 'f"Hello, {text}!"'))
    ok(skill(server, "validate", str(folder)))

    published = as_json(skill(server, "publish", str(folder), "--json"))
    assert published["created"] and published["version"]["verdict"] == "pass"
    found = as_json(skill(server, "search", "greet", "--json"))
    assert [r["skill"] for r in found["results"]] == ["alice/greet"]

    declined = skill(server, "install", "alice/greet", stdin="n\n")
    assert declined.returncode == 1 and "was not installed" in declined.stderr
    assert "no network" in declined.stdout  # the permissions were shown before asking
    installed = ok(skill(server, "install", "alice/greet", stdin="y\n"))
    assert "signed by" in installed.stdout and "proven in the log" in installed.stdout
    listed = as_json(skill(server, "list", "--json"))
    assert [(s["skill"], s["verified"]) for s in listed["skills"]] == [("alice/greet", True)]

    server.restart()  # the brain loads skills at start-up
    assert reply_text(asyncio.run(chat(server, "/greet world"))) == "Hello, world!"

    _update_asks_again_when_permissions_widen(server, folder)
    _tampering_makes_the_brain_refuse(server)


def _update_asks_again_when_permissions_widen(server: ServerProcess, folder: Path) -> None:
    set_version(folder, "0.2.0", hosts="[api.example.com]")
    ok(skill(server, "publish", str(folder)))
    refused = skill(server, "update", stdin="n\n")
    assert refused.returncode == 1
    assert "NEW" in refused.stdout and "api.example.com" in refused.stdout
    assert as_json(skill(server, "list", "--json"))["skills"][0]["version"] == "0.1.0"
    ok(skill(server, "update", stdin="y\n"))
    assert as_json(skill(server, "list", "--json"))["skills"][0]["version"] == "0.2.0"
    set_version(folder, "0.3.0", hosts="[api.example.com]")
    ok(skill(server, "publish", str(folder)))
    ok(skill(server, "update"))  # nothing wider: no question, no answer needed
    assert as_json(skill(server, "list", "--json"))["skills"][0]["version"] == "0.3.0"


def _tampering_makes_the_brain_refuse(server: ServerProcess) -> None:
    script = server.home / "skills" / "alice" / "greet" / "scripts" / "greet.py"
    script.write_text(script.read_text() + "\n# changed after install\n")
    verified = skill(server, "verify", "--json")
    assert verified.returncode == 1 and "content hash" in verified.stdout
    listed = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "skills", "list", "--json"],
        capture_output=True,
        text=True,
        env=server.env(),
        check=True,
    )
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert "greet" not in rows
    assert "files changed since it was installed" in rows["alice/greet"]["refused"]


def test_the_same_through_the_http_api_alone(server: ServerProcess, tmp_path: Path) -> None:
    api = f"{server.http_url}/api/v1"
    admin = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=api, timeout=30) as http:
        assert http.post("/publishers", json={"name": "bob"}, headers=admin).status_code == 201
        token = http.post("/publishers/bob/tokens", json={"label": "e2e"}, headers=admin).json()
        bearer = {"Authorization": f"Bearer {token['token']}"}
        key = SigningKey.generate()
        body = {"public_key": key.public_key.to_base64()}
        assert http.post("/publishers/bob/keys", json=body, headers=bearer).status_code == 201
        folder = _skill_folder(tmp_path)
        statement = PublishStatement("bob/shout", "1.0.0", hash_folder(folder))
        headers = {
            **bearer,
            "Content-Type": "application/gzip",
            "X-Skillyard-Key-Id": key.key_id,
            "X-Skillyard-Signature": base64.b64encode(key.sign(statement.encode())).decode(),
        }
        put = http.put("/skills/bob/shout/versions/1.0.0", content=pack(folder), headers=headers)
        assert put.status_code == 201, put.text
        found = http.get("/skills", params={"q": "shout"}).json()
        assert [r["skill"] for r in found["results"]] == ["bob/shout"]

    home = server.home
    with RegistryClient(ClientSettings(api)) as client:
        trust = TrustStore(home / KNOWN_REGISTRIES)
        with Installer(InstallSettings(home), client, trust) as installer:
            candidate = installer.stage(client.resolve(SkillRef("bob", "shout")), "latest")
            installer.commit(candidate)
    server.restart()
    assert reply_text(asyncio.run(chat(server, "/shout quiet please"))) == "QUIET PLEASE"


SHOUT = """\
import json, sys
request = json.load(sys.stdin)
print(json.dumps({"output": {"text": request["input"]["text"].upper()}}))
"""


def _skill_folder(tmp_path: Path) -> Path:
    from registry.cli_scaffold import scaffold

    folder = scaffold(
        tmp_path / "api", "shout", "Repeat text in capitals. Use when asked to shout."
    )
    sidecar = folder / "skill.yaml"
    sidecar.write_text(sidecar.read_text().replace("version: 0.1.0", "version: 1.0.0"))
    (folder / "scripts" / "shout.py").write_text(SHOUT)
    return folder
