"""``skillyard registry serve`` as a user runs it: a child process on a free port."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

READY = "skillyard registry is ready: "
TOKEN = "standalone-admin-token-0123"


def start(home: Path) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLYARD_")}
    env["SKILLYARD_TOKEN"] = TOKEN
    command = [sys.executable, "-m", "gateway.cli", "registry", "serve", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--data-dir", str(home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and selector.select(deadline - time.monotonic()):
            line = process.stdout.readline()
            if line.startswith(READY):
                return process, line[len(READY) :].strip()
            if not line:
                break
    process.kill()
    process.wait()
    process.stdout.close()
    raise AssertionError("the registry did not start")


@pytest.mark.slow
def test_the_standalone_registry_serves_the_api_and_the_pages(tmp_path: Path) -> None:
    process, page = start(tmp_path / "home")
    try:
        base = page.removesuffix("/marketplace/")
        with httpx.Client(base_url=base) as http:
            key = http.get("/api/v1/registry/key").json()
            created = http.post(
                "/api/v1/publishers",
                json={"name": "alice"},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            assert created.status_code == 201
            assert http.get("/marketplace/publishers/alice").status_code == 200
            assert http.get("/").headers.get("location") == "/marketplace/"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        assert process.stdout is not None
        process.stdout.close()
    key_file = tmp_path / "home" / "registry" / "keys" / "registry.ed25519"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(key["key_id"]) == 32
