"""The WebSocket shell with a stand-in socket: a client that stops reading is let go."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from starlette.websockets import WebSocketState

from gateway.auth import AccessToken
from gateway.hub import EventHub
from gateway.methods import Methods, ServerFacts
from gateway.protocol import CloseCode, Limits, ServerConnection, ServerInfo
from gateway.router import Router, RouterSettings
from gateway.store import GatewayStore
from gateway.wsclient import WsClient
from tests.gateway.test_router import GatedBrain

TOKEN = "t" * 24


class StuckSocket:
    """Accepts a few frames, then blocks every send, like a peer that stopped reading."""

    def __init__(self, writable_frames: int) -> None:
        self.application_state = WebSocketState.CONNECTING
        self.client_state = WebSocketState.CONNECTED
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: list[str] = []
        self.closed_with: int | None = None
        self._budget = writable_frames
        self.connected = asyncio.Event()

    async def accept(self) -> None:
        self.application_state = WebSocketState.CONNECTED

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send_text(self, text: str) -> None:
        if self._budget <= 0:
            await asyncio.Event().wait()  # blocked forever, as on a full TCP buffer
        self._budget -= 1
        self.sent.append(text)
        if '"method"' not in text and '"session":"web:owner:main"' in text:
            self.connected.set()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed_with = code
        self.application_state = WebSocketState.DISCONNECTED


def connect_text() -> str:
    params = {
        "min_protocol": 1,
        "max_protocol": 1,
        "client": {"name": "t", "version": "0"},
        "auth": {"token": TOKEN},
    }
    return json.dumps({"type": "req", "id": "c", "method": "connect", "params": params})


async def test_a_client_that_stops_reading_is_closed_with_4008(tmp_path: Path) -> None:
    store = GatewayStore.open(tmp_path / "state.db")
    hub = EventHub(store)
    brain = GatedBrain()
    limits = Limits(max_pending_events=16)
    async with Router(store=store, hub=hub, bus=brain, settings=RouterSettings()) as router:
        methods = Methods(
            token=AccessToken(TOKEN, "env"),
            store=store,
            hub=hub,
            router=router,
            bus=brain,
            limits=limits,
            facts=ServerFacts(version="0", started_at=0.0),
        )
        socket = StuckSocket(writable_frames=2)  # the challenge and the connect result
        conn = ServerConnection(server=ServerInfo("skillyard", "0"), limits=limits)
        client = WsClient(socket, conn, methods)  # type: ignore[arg-type]
        running = asyncio.create_task(client.run())
        await socket.incoming.put({"type": "websocket.receive", "text": connect_text()})
        await socket.connected.wait()
        await hub.subscribe(conn.session or "", client, after_seq=0)
        for i in range(40):  # far more than the client will ever read
            hub.publish(
                "web:owner:main", "chat.typing", {"session": "web:owner:main", "run_id": str(i)}
            )
        await asyncio.wait_for(running, timeout=10)
    assert conn.close_code == CloseCode.SLOW_CONSUMER
    assert socket.closed_with == 4008
    assert hub.subscribers("web:owner:main") == 0  # no longer fed
