"""A client for protocol v1 over ``websockets``: used by ``skillyard chat``, tests and benchmarks.

::

    async with GatewayClient.connect(url, token) as client:
        reply = await client.request("chat.send", {"text": "hi", "idempotency_key": key})
        async for event in client.events():
            ...

One reader task (owned by the ``connect`` block) routes responses to the
request waiting for them and events to :meth:`events`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import websockets
from websockets.asyncio.client import ClientConnection

from gateway import __version__

__all__ = ["ConnectionLost", "FrameObserver", "GatewayClient", "RequestFailed"]


class RequestFailed(Exception):
    """The server answered a request with an error."""

    def __init__(self, error: Mapping[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = str(error.get("code"))
        self.retryable = bool(error.get("retryable", False))
        self.retry_after_ms = error.get("retry_after_ms")


class ConnectionLost(Exception):
    """The connection closed; ``code`` is the WebSocket close code, if any."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"connection closed ({code}): {reason}")
        self.code = code
        self.reason = reason


@dataclass(slots=True)
class _Closed:
    error: Exception


class FrameObserver(Protocol):
    """Sees every frame as text (tests check them against the schemas)."""

    def client(self, frame: str) -> object: ...

    def server(self, frame: str) -> object: ...


class GatewayClient:
    def __init__(self, ws: ClientConnection, observer: FrameObserver | None = None) -> None:
        self.ws = ws
        self._observer = observer
        self.hello: dict[str, Any] = {}
        self.challenge: dict[str, Any] = {}
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._events: asyncio.Queue[dict[str, Any] | _Closed] = asyncio.Queue()
        self._closed: ConnectionLost | None = None

    @classmethod
    @asynccontextmanager
    async def connect(
        cls,
        url: str,
        token: str,
        *,
        session: str | None = None,
        client_name: str = "skillyard-cli",
        max_size: int | None = 1 << 22,
        observer: FrameObserver | None = None,
    ) -> AsyncIterator[GatewayClient]:
        """Open, authenticate, yield a ready client, and close at the end."""
        async with websockets.connect(url, max_size=max_size, compression=None) as ws:
            client = cls(ws, observer)
            client.challenge = await client._read_challenge()
            # The reader's only owner is this block: it is cancelled and awaited on the
            # way out (a TaskGroup would wrap the caller's own errors in an ExceptionGroup).
            reader = asyncio.create_task(client._read_loop())
            try:
                params = client._connect_params(token, session, client_name)
                client.hello = await client.request("connect", params)
                yield client
            finally:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)

    @property
    def session(self) -> str:
        return str(self.hello["session"])

    def _connect_params(self, token: str, session: str | None, name: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "min_protocol": 1,
            "max_protocol": 1,
            "client": {"name": name, "version": __version__},
            "auth": {"token": token},
        }
        if session is not None:
            params["session"] = session
        return params

    async def _read_challenge(self) -> dict[str, Any]:
        frame = json.loads(self._observed(await self.ws.recv()))
        if frame.get("event") != "connect.challenge":
            raise ConnectionLost(None, f"expected connect.challenge, got {frame!r}")
        payload: dict[str, Any] = frame["payload"]
        return payload

    async def request(self, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Send one request and wait for its response; raise :class:`RequestFailed`."""
        if self._closed is not None:
            raise self._closed
        request_id = str(next(self._ids))
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        frame = {"type": "req", "id": request_id, "method": method, "params": dict(params or {})}
        text = json.dumps(frame)
        if self._observer is not None:
            self._observer.client(text)
        try:
            await self.ws.send(text)
            return await future
        finally:
            self._pending.pop(request_id, None)

    async def send_raw(self, text: str) -> None:
        await self.ws.send(text)

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Event frames in arrival order; ends with :class:`ConnectionLost` when closed."""
        while True:
            item = await self._events.get()
            if isinstance(item, _Closed):
                self._events.put_nowait(item)  # later readers see the close too
                raise item.error
            yield item

    async def next_event(self, name: str | None = None) -> dict[str, Any]:
        async for event in self.events():
            if name is None or event["event"] == name:
                return event
        raise AssertionError("unreachable")

    async def _read_loop(self) -> None:
        failure: Exception | None = None
        try:
            async for raw in self.ws:
                self._dispatch(json.loads(self._observed(raw)))
        except websockets.ConnectionClosed:
            pass
        except Exception as exc:  # a bad frame (or a failed check): fail what waits on it
            failure = exc
        self._closed = ConnectionLost(self.ws.close_code, self.ws.close_reason or "connection lost")
        for future in self._pending.values():
            if not future.done():
                future.set_exception(failure or self._closed)
        self._events.put_nowait(_Closed(failure or self._closed))

    def _observed(self, raw: str | bytes) -> str | bytes:
        if self._observer is not None and isinstance(raw, str):
            self._observer.server(raw)
        return raw

    def _dispatch(self, frame: dict[str, Any]) -> None:
        if frame.get("type") == "res":
            future = self._pending.get(str(frame.get("id")))
            if future is None or future.done():
                return
            if frame.get("ok"):
                future.set_result(frame.get("payload", {}))
            else:
                future.set_exception(RequestFailed(frame.get("error", {})))
        elif frame.get("type") == "event":
            self._events.put_nowait(frame)
