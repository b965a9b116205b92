from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from gateway.app import RunningServer, running_server
from gateway.config import Config, load_config
from gateway.protocol.testing import FrameChecker
from tests.e2e.server_process import ServerProcess

TOKEN = "test-token-0123456789abcdef"


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """The real server in a child process with the scripted echo model."""
    server = ServerProcess(home=tmp_path / "home")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def checker() -> FrameChecker:
    """Checks every frame both ways against the shipped JSON Schemas."""
    return FrameChecker()


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Config]:
    def build(**env: str) -> Config:
        values = {
            "SKILLYARD_HOME": str(tmp_path / "home"),
            "SKILLYARD_TOKEN": TOKEN,
            "SKILLYARD_MODEL": "scripted:echo",
            "SKILLYARD_PORT": "0",
        }
        values.update(env)
        return load_config(None, values)

    return build


@pytest.fixture
async def gateway(make_config: Callable[..., Config]) -> AsyncIterator[RunningServer]:
    """The whole server in this test's event loop, on a free port."""
    async with running_server(make_config()) as server:
        yield server
