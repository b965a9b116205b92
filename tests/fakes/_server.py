"""The loopback server the fakes share: Starlette on uvicorn, 127.0.0.1, port 0.

The socket is bound and listening before uvicorn starts, so a client may
connect at once (connections queue until uvicorn accepts): no start-up wait.
The server runs as a task of the test's event loop and stops on exit.
"""

from __future__ import annotations

import asyncio
import socket
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

__all__ = ["LoopbackServer"]


class LoopbackServer:
    """Subclasses build the app in :meth:`app`; use as an async context manager."""

    def __init__(self) -> None:
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    def app(self) -> Starlette:
        raise NotImplementedError

    @property
    def origin(self) -> str:
        assert self._socket is not None, "use the fake as an async context manager"
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        config = uvicorn.Config(
            self.app(), lifespan="off", ws="none", http="h11", log_config=None, access_log=False
        )
        self._socket, self._server = sock, uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))

    async def stop(self) -> None:
        assert self._server is not None
        assert self._task is not None
        assert self._socket is not None
        self._server.should_exit = True
        await self._task
        self._socket.close()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
