"""One WebSocket client: the thin I/O shell around ``gateway.protocol.ServerConnection``.

The shell moves text between the socket and the protocol core, runs the
methods the core hands it (``gateway.methods``), and delivers session events.
Three tasks per connection, owned by one TaskGroup: the reader, the writer
(sends what the core has queued) and the timer (ticks and the connect
timeout).  When the reader or the writer ends, or the core gives up on a slow
consumer, the connection is over: the writer gets a moment to flush, then the
socket is closed with the core's close code.

Outbound frames wait in a bounded outbox.  A client that stops reading while
events keep coming is closed with 4008 ("slow consumer") instead of letting
its backlog grow without bound; it can reconnect and resubscribe from its
last ``seq`` without losing anything, because every session event is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from gateway.metrics import METRICS
from gateway.protocol import CloseCode, ConnectRequest, ServerConnection
from gateway.store import StoredEvent

if TYPE_CHECKING:
    from gateway.methods import Methods

__all__ = ["WsClient"]

log = logging.getLogger(__name__)


class WsClient:
    """Implements ``gateway.hub.Subscriber`` for one connection.

    Frames stay inside the protocol core until the writer can send them, so
    the core's ``max_pending_events`` measures what the client has not read
    yet and the core itself closes a slow consumer with 4008.
    """

    def __init__(self, websocket: WebSocket, conn: ServerConnection, methods: Methods) -> None:
        self.websocket = websocket
        self.conn = conn
        self.methods = methods
        self.principal: str | None = None
        self.session: str | None = None
        self._wake = asyncio.Event()
        self._done = asyncio.Event()
        self._written = asyncio.Event()
        self._written.set()
        self._last_seq: dict[str, int] = {}

    # -- Subscriber -------------------------------------------------------

    def deliver(self, event: StoredEvent) -> None:
        if event.seq <= self._last_seq.get(event.session, 0):
            return  # already sent: replay and live delivery overlapped
        self._last_seq[event.session] = event.seq
        self.conn.send_event(event.event, dict(event.payload), seq=event.seq)
        self.wake_writer()

    async def drained(self) -> None:
        await self._written.wait()

    # -- the connection's life --------------------------------------------

    async def run(self) -> None:
        await self.websocket.accept()
        METRICS.connections.inc()
        try:
            self.conn.start()
            self.wake_writer()
            async with asyncio.TaskGroup() as tasks:
                reader = tasks.create_task(self._until_done(self._read_loop()))
                writer = tasks.create_task(self._until_done(self._write_loop()))
                timer = tasks.create_task(self._timer_loop())
                await self._done.wait()
                reader.cancel()
                timer.cancel()
                await self._finish_writing(writer)
        finally:
            self.conn.connection_closed()
            METRICS.connections.dec()
            self.methods.disconnected(self)

    async def _until_done(self, loop: Coroutine[Any, Any, None]) -> None:
        try:
            await loop
        finally:
            self._done.set()

    async def _read_loop(self) -> None:
        while self.conn.close_code is None:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            METRICS.frames_in.inc()
            if message.get("text") is not None:
                await self.handle_text(message["text"])
            else:
                self.conn.receive_binary(message.get("bytes") or b"")
                self.wake_writer()

    async def handle_text(self, text: str) -> None:
        self.conn.receive_text(text)
        for item in self.conn.events_received():
            if isinstance(item, ConnectRequest):
                self.methods.connect(self, item)
            else:
                await self.methods.call(self, item)
        self.wake_writer()

    def wake_writer(self) -> None:
        self._written.clear()
        self._wake.set()
        if self.conn.close_code == CloseCode.SLOW_CONSUMER:
            self._done.set()  # the writer is stuck on this client: do not wait for it

    async def _write_loop(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while frames := self.conn.data_to_send():
                    for frame in frames:
                        await self.websocket.send_text(frame)
                    METRICS.frames_out.inc(len(frames))
                self._written.set()
                if self.conn.close_code is not None:
                    return
        except (WebSocketDisconnect, OSError, RuntimeError):
            self._written.set()  # the peer is gone: nothing more will be written

    async def _finish_writing(self, writer: asyncio.Task[None]) -> None:
        """Let the writer send what is queued (briefly), then stop it and close."""
        if self.conn.close_code != CloseCode.SLOW_CONSUMER and not writer.done():
            self.wake_writer()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._written.wait()
        writer.cancel()
        with contextlib.suppress(TimeoutError, WebSocketDisconnect, OSError, RuntimeError):
            async with asyncio.timeout(1.0):
                await self._close_socket()

    async def _close_socket(self) -> None:
        if self.conn.close_code == CloseCode.SLOW_CONSUMER:
            METRICS.slow_consumers.inc()
        if self.websocket.application_state is WebSocketState.CONNECTED and (
            self.websocket.client_state is WebSocketState.CONNECTED
        ):
            code = int(self.conn.close_code or CloseCode.NORMAL)
            await self.websocket.close(code, self.conn.close_reason or "")

    async def _timer_loop(self) -> None:
        """Ticks while connected; before that, the connect timeout."""
        while (deadline := self.conn.connect_deadline) is not None:
            await asyncio.sleep(max(0.0, deadline - time.monotonic()))
            self.conn.check_timeouts()
            self.wake_writer()
        interval = self.methods.limits.tick_interval_ms / 1000
        while self.conn.close_code is None:
            await asyncio.sleep(interval)
            self.conn.tick()
            self.wake_writer()


def new_nonce() -> str:
    return secrets.token_urlsafe(18)
