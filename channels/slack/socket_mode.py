"""One Socket Mode connection: opened, watched, closed.

Theory of operation
-------------------
``apps.connections.open`` (with the app-level token) gives a one-time
WebSocket URL; Bolt's ``AsyncSocketModeHandler`` connects to it and feeds
every envelope through the Bolt app, acknowledging it once the app has
answered.  We call that URL ourselves first so that a refused token surfaces
as ``ChannelAuthError`` instead of the SDK retrying it forever.

The SDK's own reconnecting is switched off: a lost connection makes
:meth:`SocketModeConnection.run` raise ``ChannelUnavailable``, so the
gateway's channel host reconnects with backoff and ``/readyz`` shows it.  What
stays with the SDK is the refresh Slack asks for (a ``disconnect`` message):
it opens the new connection while holding ``connect_operation_lock``, and the
watchdog waits for that lock before it judges the connection.  The watchdog
wakes when the socket reports a close or an error, and otherwise once per
ping interval (the SDK pings; a connection without pongs for four intervals
counts as lost).  From a close or an error until the watchdog has seen the
connection work again, the channel is reported ``ready.lost`` — events
cannot arrive meanwhile, and ``/readyz`` says so.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import WSMessage
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.socket_mode.aiohttp import SocketModeClient

from channels.base import Readiness
from channels.errors import ChannelUnavailable
from channels.slack.errors import CHANNEL, translated
from channels.slack.settings import SlackSettings

__all__ = ["SocketModeConnection"]


class SocketModeConnection:
    def __init__(self, app: AsyncApp, settings: SlackSettings) -> None:
        self._app = app
        self._settings = settings

    async def run(self, ready: Readiness) -> None:
        """Connect, call ``ready()``, and return only by raising (``ChannelError``
        when the connection fails or is lost) or being cancelled."""
        url = await self._open()
        handler: AsyncSocketModeHandler | None = None
        try:
            handler = AsyncSocketModeHandler(
                self._app, self._settings.app_token, ping_interval=self._settings.ping_interval_s
            )
            lost = self._watched(handler.client)
            handler.client.wss_uri = url
            await self._connect(handler)
            ready()
            await self._watch(handler.client, lost, ready)
        finally:
            if handler is not None:
                await handler.close_async()  # type: ignore[no-untyped-call]

    async def _open(self) -> str:
        with translated("apps.connections.open", credential="SLACK_APP_TOKEN"):
            response = await self._app.client.apps_connections_open(
                app_token=self._settings.app_token
            )
        url = response.get("url")
        if not isinstance(url, str) or not url.startswith(("wss://", "ws://")):
            raise ChannelUnavailable("apps.connections.open gave no WebSocket URL", channel=CHANNEL)
        return url

    def _watched(self, client: SocketModeClient) -> asyncio.Event:
        """Turn the SDK's reconnecting off; the event is set when the socket closes."""
        client.default_auto_reconnect_enabled = False
        client.auto_reconnect_enabled = False
        lost = asyncio.Event()

        async def on_lost(message: WSMessage) -> None:
            lost.set()

        client.on_close_listeners.append(on_lost)
        client.on_error_listeners.append(on_lost)
        return lost

    async def _connect(self, handler: AsyncSocketModeHandler) -> None:
        timeout = self._settings.connect_timeout_s
        try:
            async with asyncio.timeout(timeout):
                # The SDK retries inside until it works.
                await handler.connect_async()  # type: ignore[no-untyped-call]
        except TimeoutError:
            raise ChannelUnavailable(
                f"the Socket Mode WebSocket did not open within {timeout:g} s", channel=CHANNEL
            ) from None

    async def _watch(self, client: SocketModeClient, lost: asyncio.Event, ready: Readiness) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._settings.ping_interval_s):
                    await lost.wait()
            closed = lost.is_set()
            lost.clear()
            if closed:
                ready.lost("the Socket Mode WebSocket closed; waiting for it to reopen")
            if not await self._connected(client):
                raise ChannelUnavailable("the Socket Mode connection was lost", channel=CHANNEL)
            if closed:
                ready()

    async def _connected(self, client: SocketModeClient) -> bool:
        try:
            async with asyncio.timeout(self._settings.connect_timeout_s):
                async with client.connect_operation_lock:  # a refresh finishes first
                    return await client.is_connected()
        except TimeoutError:
            return False
