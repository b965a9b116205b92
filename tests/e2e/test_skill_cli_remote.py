"""``skillyard skill`` as child processes against a registry configured by URL.

The registry is the real application on a free port (in this process); the
commands find it through ``SKILLYARD_REGISTRY__URL``, as for any remote
registry, and log in with a token read from stdin.  Also: what bad usage and
an absent registry look like, in text and in ``--json``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from registry.store import Registry
from tests.registry.test_client_fixtures import live_registry

TOKEN = "gateway-token-0123456789abcdef"


def run(home: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": "/usr/bin:/bin", "SKILLYARD_HOME": str(home), "SKILLYARD_TOKEN": TOKEN}
    environ.update(env)
    command = [sys.executable, "-m", "gateway.cli", "skill", *args]
    return subprocess.run(
        command, input=stdin, capture_output=True, text=True, env=environ, timeout=120
    )


def ok(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, f"{done.args}\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout) if "--json" in done.args else done.stdout


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[tuple[str, Registry]]:
    with live_registry(tmp_path / "registry") as pair:
        yield pair


@pytest.mark.slow
def test_a_remote_registry_by_url(remote: tuple[str, Registry], tmp_path: Path) -> None:
    url, registry = remote
    registry.publishers.create("carol", "Carol")
    secret = registry.publishers.issue_token("carol", "cli", None).secret
    home, env = tmp_path / "home", {"SKILLYARD_REGISTRY__URL": url}
    assert ok(run(home, "login", "--token", "-", "--json", stdin=secret + "\n", **env)) == {
        "registry": url,
        "publisher": "carol",
    }
    assert (home / "credentials").stat().st_mode & 0o777 == 0o600
    ok(run(home, "keys", "generate", **env))
    assert (home / "keys" / "default.ed25519").stat().st_mode & 0o777 == 0o600
    ok(run(home, "keys", "register", **env))
    keys = ok(run(home, "keys", "list", "--json", **env))
    assert [k["registered"] for k in keys["keys"]] == [True]

    ok(run(home, "init", "tally", "--dir", str(tmp_path), **env))
    published = ok(run(home, "publish", str(tmp_path / "tally"), "--json", **env))
    assert published["version"]["skill"] == "carol/tally" and published["created"]
    again = ok(run(home, "publish", str(tmp_path / "tally"), "--json", **env))
    assert not again["created"]  # the same content again: an idempotent retry

    ok(run(home, "yank", "carol/tally@0.1.0", "--reason", "broken", **env))
    info = ok(run(home, "info", "carol/tally@0.1.0", "--json", **env))
    assert info["version"]["yanked"] and info["version"]["yank_reason"] == "broken"
    gone = run(home, "install", "carol/tally", "--yes", **env)
    assert gone.returncode == 1  # yanked: hidden unless pinned exactly
    installed = ok(run(home, "install", "carol/tally@0.1.0", "--yes", "--json", **env))
    assert installed["state"] == "installed" and installed["version"] == "0.1.0"

    wrong = {**env, "SKILLYARD_REGISTRY__PUBLIC_KEY": "SHA256:not-the-registry-key-at-all-xx"}
    refused = run(home, "install", "carol/tally@0.1.0", "--reinstall", "--yes", **wrong)
    assert refused.returncode == 1 and "registry key check failed" in refused.stderr


def test_bad_usage_exits_2_with_the_reason(tmp_path: Path) -> None:
    for args, needle in [
        (("install", "../../etc/passwd"), "is not owner/name"),
        (("init", "Bad_Name", "--dir", str(tmp_path)), "cannot be a skill name"),
        (("yank", "alice/weather@^1.0"), "name one exact version"),
    ]:
        done = run(tmp_path / "home", *args)
        assert done.returncode == 2, (args, done.stderr)
        assert needle in done.stderr


def test_an_absent_registry_is_a_clear_error_in_json_too(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"SKILLYARD_REGISTRY__URL": f"http://127.0.0.1:{port}"}
    done = run(tmp_path / "home", "search", "weather", "--json", **env)
    assert done.returncode == 1
    error = json.loads(done.stdout)["error"]  # stdout holds exactly one JSON document
    assert error["type"] == "Unreachable" and f"127.0.0.1:{port}" in error["message"]
    assert "cannot reach the registry" in done.stderr


def test_publishing_needs_a_login(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ok(run(home, "init", "lonely", "--dir", str(tmp_path)))
    done = run(home, "publish", str(tmp_path / "lonely"), SKILLYARD_REGISTRY__URL="http://x.test")
    assert done.returncode == 1 and "skillyard skill login" in done.stderr
