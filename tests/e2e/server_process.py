"""Run the real ``skillyard serve`` in a child process, as a user would."""

from __future__ import annotations

import os
import secrets
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

READY_PREFIX = "skillyard is ready: "
START_TIMEOUT_S = 60.0


class ServerFailed(RuntimeError):
    pass


@dataclass
class ServerProcess:
    home: Path
    model: str = "scripted:echo"
    extra_env: dict[str, str] = field(default_factory=dict)
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    port: int = 0
    page_url: str = ""
    _proc: subprocess.Popen[str] | None = None
    _log: Path | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLYARD_")}
        env.update(
            SKILLYARD_HOME=str(self.home),
            SKILLYARD_TOKEN=self.token,
            SKILLYARD_MODEL=self.model,
            SKILLYARD_LOG_LEVEL="info",
        )
        env.update(self.extra_env)
        return env

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self._log = self.home / f"server-{time.monotonic_ns()}.log"
        command = [sys.executable, "-m", "gateway.cli", "serve", "--port", str(self.port)]
        with self._log.open("w") as log:
            self._proc = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=log, text=True, env=self.env()
            )
        self.page_url = self._wait_ready()
        self.port = int(self.page_url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])

    def _wait_ready(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._proc.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline:
                if not selector.select(timeout=deadline - time.monotonic()):
                    break
                line = self._proc.stdout.readline()
                if not line:
                    break
                if line.startswith(READY_PREFIX):
                    return line[len(READY_PREFIX) :].strip()
        self.stop()
        raise ServerFailed(f"the server did not start; its log:\n{self.log_text()}")

    def log_text(self) -> str:
        return self._log.read_text() if self._log and self._log.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        if self._proc is None:
            return None
        if self._proc.poll() is None:
            self._proc.send_signal(sig)
        try:
            code = self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            code = self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc = None
        return code

    def restart(self) -> None:
        """Stop and start again on the same port with the same home and token."""
        self.stop()
        self.start()
