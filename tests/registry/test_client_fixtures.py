"""Shared pieces for the client and install tests (no tests here).

* :class:`LiveRegistry`: the real registry application under uvicorn on
  127.0.0.1 port 0, in a thread of its own, with an injectable clock;
* :class:`Tamper`: a man in the middle between the real client and the real
  server, for tests that need a lying registry: it forwards every request
  and lets the test rewrite chosen answers;
* :func:`publish`: a signed version straight into the store.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from registry.server import ApiSettings, RateSettings, create_app
from registry.signing import SigningKey
from registry.store import Registry
from registry.store.records import Principal
from registry.store.testing import make_publisher, signed_request, write_skill

ADMIN = "admin-token-for-client-tests"
START_TIMEOUT_S = 30.0


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self._ready.set()


@contextmanager
def live_registry(
    root: Path, *, clock: Callable[[], float] | None = None, rate: RateSettings | None = None
) -> Iterator[tuple[str, Registry]]:
    """The registry stored at ``root``, served; yields (API URL, the registry)."""
    registry = Registry.open(root)
    settings = ApiSettings(rate=rate or RateSettings())
    kwargs: dict[str, Any] = {"clock": clock} if clock is not None else {}
    app = create_app(registry, is_admin=lambda token: token == ADMIN, settings=settings, **kwargs)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    ready = threading.Event()
    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False)
    server = _Server(config, ready)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        assert ready.wait(START_TIMEOUT_S), "the registry did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/api/v1", registry
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
        registry.close()


class Publisher:
    """A publisher of the store with a registered key."""

    def __init__(self, registry: Registry, name: str) -> None:
        self.registry = registry
        self.name = name
        issued, self.key, self.principal = make_publisher(registry, name)
        self.token = issued.secret

    def publish(
        self,
        folder_parent: Path,
        skill: str,
        version: str,
        *,
        hosts: tuple[str, ...] = (),
        key: SigningKey | None = None,
        body: str = "# Test\n\nEcho the text.\n",
    ) -> Path:
        """Publish ``name/skill@version`` (a skill with one echo tool); return its folder."""
        folder = write_skill(
            folder_parent / f"{skill}-{version}",
            skill,
            version=version,
            tool=True,
            hosts=hosts,
            body=body,
        )
        request = signed_request(folder, owner=self.name, version=version, key=key or self.key)
        self.registry.publish(request, self.principal)
        return folder


def new_publisher(registry: Registry, name: str = "alice") -> Publisher:
    return Publisher(registry, name)


Rewrite = Callable[[httpx.Request, httpx.Response], httpx.Response | None]


class Tamper(httpx.BaseTransport):
    """Forwards to the real server; ``rewrites`` may replace an answer (return None to keep it).

    ``target`` may be switched between backends (a forked registry).
    """

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.rewrites: list[Rewrite] = []
        self.backend: str | None = None  # "http://127.0.0.1:port" to send everything there

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.backend is not None:
            host, port = self.backend.removeprefix("http://").split(":")
            request.url = request.url.copy_with(host=host, port=int(port))
        response = self._inner.handle_request(request)
        for rewrite in self.rewrites:
            response.read()
            replaced = rewrite(request, response)
            if replaced is not None:
                response = replaced
        return response

    def close(self) -> None:
        self._inner.close()


def json_rewrite(path_end: str, change: Callable[[dict[str, Any]], None]) -> Rewrite:
    """A rewrite of the JSON answers to GETs whose path ends with ``path_end``."""

    def rewrite(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if request.method != "GET" or not request.url.path.endswith(path_end):
            return None
        body = json.loads(response.content)
        change(body)
        return replaced(response, json.dumps(body).encode())

    return rewrite


def replaced(response: httpx.Response, content: bytes) -> httpx.Response:
    headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
    return httpx.Response(response.status_code, headers=headers, content=content)


def admin_principal() -> Principal:
    return Principal(admin=True)
