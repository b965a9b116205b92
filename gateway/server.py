"""The Starlette application: ``/ws``, the chat page, health, readiness, metrics.

This module only builds routes around already-running services; the
composition root (``gateway.app``) creates those services and owns their
lifetimes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from gateway.methods import Methods
from gateway.metrics import METRICS
from gateway.protocol import ServerConnection, ServerInfo
from gateway.wsclient import WsClient, new_nonce

__all__ = ["AppParts", "create_app"]

# The chat page loads only its own files and talks only to its own server.
_SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


@dataclass(frozen=True, slots=True)
class AppParts:
    methods: Methods
    server_info: ServerInfo
    static_dir: Path
    readiness: Callable[[], dict[str, str]]
    max_connections: int
    channel_status: Callable[[], Mapping[str, str]] = dict
    extra_routes: Sequence[BaseRoute] = ()


class SecurityHeaders:
    """Adds the headers above to every HTTP response (not to WebSocket traffic).

    A header the route set itself is kept: the mounted registry pages carry
    their own, stricter Content-Security-Policy (with ``form-action 'self'``
    for the search form), and two policies would both be enforced.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in _SECURITY_HEADERS if n not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(parts: AppParts) -> Starlette:
    open_connections = 0

    async def websocket_endpoint(websocket: WebSocket) -> None:
        nonlocal open_connections
        if open_connections >= parts.max_connections:
            # RFC 6455 1013: try again later.
            await websocket.close(code=1013, reason="too many connections; try again later")
            return
        conn = ServerConnection(
            limits=parts.methods.limits,
            server=parts.server_info,
            clock=time.monotonic,
            wall_clock=time.time,
            nonce=new_nonce(),
        )
        open_connections += 1
        try:
            await WsClient(websocket, conn, parts.methods).run()
        finally:
            open_connections -= 1

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        checks = parts.readiness()
        ready = all(value == "ok" for value in checks.values())
        # A channel that is reconnecting is reported, but does not make the
        # gateway unready: the web page and the other channels still work.
        body = {
            "status": "ready" if ready else "not ready",
            "checks": checks,
            "channels": dict(parts.channel_status()),
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(METRICS.registry), media_type=CONTENT_TYPE_LATEST)

    routes = [
        WebSocketRoute("/ws", websocket_endpoint),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        *parts.extra_routes,
        Mount("/", app=StaticFiles(directory=parts.static_dir, html=True)),
    ]
    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])
