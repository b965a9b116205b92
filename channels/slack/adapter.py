"""The Slack channel: slack-bolt's ``AsyncApp`` driven inside our event loop.

Theory of operation
-------------------
:meth:`SlackAdapter.run` owns the connection: ``auth.test`` (the bot token is
checked and the bot learns its user and bot ids), then either

* **socket** mode: a Socket Mode WebSocket (``channels.slack.socket_mode``)
  with the app-level token; no public address needed.  While the SDK reopens
  the socket (Slack asks for that every few hours) ``ready.lost`` says so; or
* **http** mode: Slack POSTs to the routes from :meth:`http_routes`
  (``/slack/events``, ``/slack/interactions``), served on the gateway's own
  port; signatures are checked there (``channels.slack.webhook``).

Either way each payload goes through Bolt (URL verification, SSL checks,
``IgnoringSelfEvents``) to one catch-all listener per kind, which the app runs
*before* it acknowledges (``process_before_response``): the acknowledgement
means the message reached the gateway, and a failure makes Slack deliver it
again.  Payloads are handled one at a time: normalised (pure,
``channels.slack.normalise``), skipped if recently handled (Slack's retries,
the ``message`` + ``app_mention`` pair), then handed to the sink.  Edits are
not answered (that would answer the same question twice).  Files are
downloaded only when the host asks (:meth:`fetch_attachments`), after its
access decision: Slack delivers every message of a channel the bot is in.

:meth:`perform` posts and edits messages (``channels.slack.outbound``) once
``run`` has connected; it keeps working while ``run`` restarts after a passing
failure.  Failures leave ``run`` as ``ChannelError``s; the gateway's channel
host reconnects with backoff.  Cancelling ``run`` is the end: the HTTP
session is closed.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import aiohttp
from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from channels.base import (
    ButtonPress,
    Capabilities,
    Dialect,
    EditMessage,
    InboundSink,
    LengthUnit,
    Readiness,
    ReplyOp,
    SendFile,
    SendMessage,
    SentMessage,
)
from channels.errors import (
    ChannelAuthError,
    ChannelConfigError,
    ChannelUnavailable,
)
from channels.files import AttachmentFolder, SizeCap
from channels.recent import Recent
from channels.slack.attachments import AttachmentFetcher
from channels.slack.errors import CHANNEL, MalformedEvent, translated
from channels.slack.normalise import BotIdentity, normalise
from channels.slack.outbound import MAX_UPLOAD_BYTES, Outbound
from channels.slack.settings import Mode, SlackSettings
from channels.slack.socket_mode import SocketModeConnection
from channels.slack.webhook import webhook_routes
from gateway.events import InboundMessage

__all__ = ["CAPABILITIES", "SlackAdapter"]

log = logging.getLogger(__name__)

CAPABILITIES = Capabilities(
    name=CHANNEL,
    max_text=4000,  # Slack recommends at most 4,000 characters (it truncates at 40,000)
    length_unit=LengthUnit.CHARS,
    dialect=Dialect.SLACK_MRKDWN,
    edits=True,
    threads=True,
    buttons=True,  # Block Kit actions
    typing=False,  # Slack has no typing indicator for bots
    min_edit_interval_s=1.0,  # chat.update is Tier 3 (50+ per minute)
    max_upload_bytes=MAX_UPLOAD_BYTES,
)
_API_TIMEOUT_S = 30
_EVERYTHING = re.compile(".*")


class SlackAdapter:
    """A ``channels.base.ChannelAdapter`` for one Slack app in one workspace."""

    def __init__(self, settings: SlackSettings, *, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._clock = clock
        self._client = AsyncWebClient(
            token=settings.bot_token, base_url=settings.api_base_url + "/", timeout=_API_TIMEOUT_S
        )
        self._app = self._bolt_app()
        self._identity = BotIdentity("")
        self._outbound = Outbound(self._client)
        self._files = AttachmentFetcher(
            self._client,
            self._http,
            AttachmentFolder(
                settings.attachments_dir, SizeCap(settings.max_download_bytes, CHANNEL)
            ),
            token=settings.bot_token,
            origins=settings.file_origins,
        )
        self._session: aiohttp.ClientSession | None = None
        self._recent: Recent[str] = Recent()
        self._in_order = asyncio.Lock()
        self._sink: InboundSink | None = None
        self._connected = False

    def _bolt_app(self) -> AsyncApp:
        app = AsyncApp(
            name="skillyard",
            client=self._client,
            # Passed explicitly: Bolt reads the environment for what is left out.
            signing_secret=self._settings.signing_secret,
            # Signatures are checked by our route (channels.slack.webhook), before Bolt.
            request_verification_enabled=False,
            process_before_response=True,
        )
        # Catch-alls: an event or action without a listener gets 404 and Slack retries it.
        app.event(_EVERYTHING)(self._on_event)
        app.action(_EVERYTHING)(self._on_action)
        return app

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    @property
    def account(self) -> str:
        return self._identity.user_id

    @property
    def identity(self) -> BotIdentity:
        """The bot's user and bot ids, once connected."""
        return self._identity

    def http_routes(self) -> Sequence[BaseRoute]:
        if self._settings.mode is not Mode.HTTP:
            return ()
        return webhook_routes(self._settings.signing_secret, self._on_http, clock=self._clock)

    # -- the connection ------------------------------------------------------

    async def run(self, sink: InboundSink, ready: Readiness) -> None:
        try:
            await self._connect()
            self._sink = sink
            if self._settings.mode is Mode.SOCKET:
                await SocketModeConnection(self._app, self._settings).run(ready)
            else:
                ready()
                await asyncio.get_running_loop().create_future()  # events come through the routes
        except (asyncio.CancelledError, ChannelAuthError, ChannelConfigError):
            # The end (the host does not retry these); after a passing failure the
            # HTTP session stays open so that replies still go out meanwhile.
            await self.aclose()
            raise
        finally:
            self._sink = None

    async def aclose(self) -> None:
        """Close the HTTP session.  Cancelling :meth:`run` does this; call it only
        after a ``run`` that failed with a passing error is not retried."""
        self._connected = False
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _http(self) -> aiohttp.ClientSession:
        """The session every Web API call and download shares (made in our loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._client.session = self._session
        return self._session

    async def _connect(self) -> None:
        self._http()
        with translated("auth.test"):
            response = await self._client.auth_test()
        user_id, bot_id = response.get("user_id"), response.get("bot_id")
        if not isinstance(user_id, str) or not user_id:
            raise ChannelUnavailable(
                "auth.test answered without the bot's user_id", channel=CHANNEL
            )
        self._identity = BotIdentity(user_id, bot_id if isinstance(bot_id, str) else None)
        self._connected = True

    # -- inbound -------------------------------------------------------------

    async def _on_http(self, body: str, headers: Mapping[str, str]) -> Response:
        """A verified HTTP request, through Bolt."""
        if self._sink is None:
            return JSONResponse({"error": "not receiving events right now"}, status_code=503)
        try:
            request = AsyncBoltRequest(body=body, headers=dict(headers))
        except (ValueError, TypeError, AttributeError):  # Bolt parses it: not JSON, not a form
            log.warning("slack: refused a body that is not a Slack payload")
            return JSONResponse({"error": "the body is not a Slack payload"}, status_code=400)
        return to_starlette_response(await self._app.async_dispatch(request))

    async def _on_event(self, body: dict[str, Any]) -> BoltResponse | None:
        # Bolt passes listener arguments by parameter name: these names are its API.
        return await self._receive(body)

    async def _on_action(self, ack: AsyncAck, body: dict[str, Any]) -> BoltResponse | None:
        await ack()
        return await self._receive(body)

    async def _receive(self, body: Mapping[str, object]) -> BoltResponse | None:
        """Hand one payload to the sink, once; a non-200 answer makes Slack retry."""
        sink = self._sink
        if sink is None:
            return BoltResponse(status=503, body={"error": "not receiving events right now"})
        try:
            async with self._in_order:
                item = normalise(body, self._identity)
                if isinstance(item, ButtonPress):
                    await sink(item)
                elif item is not None and self._answers(item):
                    await sink(item)
                    self._recent.add(item.id)
        except MalformedEvent as exc:
            log.warning("slack: refused a payload: %s", exc)
            return BoltResponse(status=400, body={"error": str(exc)})
        return None

    def _answers(self, message: InboundMessage) -> bool:
        if message.id in self._recent:
            log.debug("slack: %s was delivered again; skipped", message.id)
            return False
        if message.edited:
            log.debug("slack: ignored an edit of %s", message.id)
            return False
        return True

    async def fetch_attachments(self, message: InboundMessage) -> InboundMessage:
        if not message.attachments:
            return message
        if not self._connected:
            raise ChannelUnavailable("not connected to the Web API", channel=CHANNEL)
        return await self._files.fetch(message)

    # -- outbound ------------------------------------------------------------

    async def perform(self, op: ReplyOp) -> SentMessage | None:
        if not self._connected:
            raise ChannelUnavailable("not connected to the Web API", channel=CHANNEL)
        match op:
            case SendMessage():
                return await self._outbound.send(op)
            case EditMessage():
                await self._outbound.edit(op)
            case SendFile():
                await self._outbound.send_file(op)
            case _:  # ShowTyping: Slack has no typing indicator for bots
                pass
        return None
