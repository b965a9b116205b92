"""The Discord channel: discord.py's ``Client`` driven inside our event loop.

Theory of operation
-------------------
:meth:`DiscordAdapter.run` owns one connection: it points discord.py at the
configured endpoints (``_client.use_endpoints``; one Discord per process),
logs in (``GET /users/@me``: the token is checked, the bot learns its id),
then runs three tasks until one fails:

* the gateway session, ``client.connect(reconnect=True)``.  discord.py keeps
  it alive by itself: when the socket drops it reconnects and RESUMEs, and
  Discord replays what was missed.  Meanwhile the adapter reports
  ``ready.lost(…)`` (``/readyz`` shows it) and ``ready()`` again on RESUMED;
* messages, handled one at a time in the order Discord sent them: the bot's
  own are dropped (discord.py delivers them too), the rest normalised (pure,
  ``channels.discord.normalise``) and handed over.  Their files are
  downloaded only when the host asks (:meth:`fetch_attachments`), after its
  access decision, over a session that lives as long as ``run``;
* button presses: acknowledged at once (Discord shows "This interaction
  failed" after 3 s without an answer), then handed over.

Failures leave ``run`` as ``ChannelError``s and the gateway's channel host
starts it again with backoff; cancelling ``run`` closes the client.  If
Discord refuses the privileged MESSAGE CONTENT intent (close code 4014), the
next ``run`` connects without it and says so in the log: DMs and messages
that mention the bot still carry their text.

:meth:`perform` does reply operations (``channels.discord.outbound``) over
REST, concurrently with ``run`` and with itself, also while the gateway is
resuming; discord.py waits out 429s that carry ``Via`` and ``retry_after``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Coroutine, Sequence
from dataclasses import replace
from typing import Any

import aiohttp
import discord
from starlette.routing import BaseRoute

from channels.base import (
    Capabilities,
    Dialect,
    EditMessage,
    Inbound,
    InboundSink,
    LengthUnit,
    Readiness,
    ReplyOp,
    SendFile,
    SendMessage,
    SentMessage,
    ShowTyping,
)
from channels.discord import outbound
from channels.discord._client import GatewayClient, use_endpoints
from channels.discord._objects import channel_facts
from channels.discord.attachments import AttachmentFetcher
from channels.discord.errors import CHANNEL, INTENT_HELP, MalformedEvent, translated
from channels.discord.facts import BotIdentity, ChannelFacts
from channels.discord.normalise import normalise, normalise_interaction
from channels.discord.settings import DiscordSettings
from channels.errors import ChannelError, ChannelUnavailable
from channels.files import AttachmentFolder, SizeCap
from gateway.events import InboundMessage

__all__ = ["CAPABILITIES", "DiscordAdapter"]

log = logging.getLogger(__name__)

CAPABILITIES = Capabilities(
    name=CHANNEL,
    max_text=2000,  # Discord: message content is at most 2000 characters for bots
    length_unit=LengthUnit.CHARS,
    dialect=Dialect.DISCORD_MARKDOWN,
    edits=True,
    threads=True,
    buttons=True,  # message components
    typing=True,
    min_edit_interval_s=1.0,  # Discord: about 5 edits per 5 s per channel
    max_upload_bytes=outbound.MAX_UPLOAD_BYTES,
)
_KNOWN_CHANNELS = 1024


class DiscordAdapter:
    """A ``channels.base.ChannelAdapter`` for one bot."""

    def __init__(self, settings: DiscordSettings) -> None:
        self._settings = settings
        self._bot = BotIdentity(settings.bot_id)
        folder = AttachmentFolder(
            settings.attachments_dir, SizeCap(settings.max_download_bytes, CHANNEL)
        )
        self._files = AttachmentFetcher(folder, origins=settings.download_origins)
        self._channels: OrderedDict[int, ChannelFacts] = OrderedDict()
        self._message_content = settings.message_content
        self._client: discord.Client | None = None
        self._downloads: aiohttp.ClientSession | None = None

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    @property
    def account(self) -> str:
        return self._bot.id

    @property
    def identity(self) -> BotIdentity:
        return self._bot

    def http_routes(self) -> Sequence[BaseRoute]:
        return ()  # Discord pushes over the gateway WebSocket we open

    # -- the connection ------------------------------------------------------

    async def run(self, sink: InboundSink, ready: Readiness) -> None:
        use_endpoints(self._settings.api_base_url, self._settings.gateway_url)
        inbox = _Inbox(ready)
        client = GatewayClient(
            inbox,
            message_content=self._message_content,
            guild_ready_timeout_s=self._settings.guild_ready_timeout_s,
        )
        try:
            async with aiohttp.ClientSession() as self._downloads:
                await _until_one_fails(
                    self._connect(client),
                    self._take_messages(client, inbox.messages, sink),
                    self._take_presses(inbox.presses, sink),
                )
        finally:
            inbox.closing = True
            self._client = self._downloads = None
            await client.close()

    async def _connect(self, client: GatewayClient) -> None:
        with translated("login"):
            await client.login(self._settings.token)
        if client.user is None:
            raise ChannelUnavailable("login gave no bot user", channel=CHANNEL)
        self._bot = BotIdentity(str(client.user.id), client.user.name)
        self._client = client
        with translated("gateway"):
            try:
                await client.connect(reconnect=True)
            except discord.PrivilegedIntentsRequired:
                if not self._message_content:
                    raise
                raise self._drop_content_intent() from None
        raise ChannelUnavailable("the gateway connection was closed", channel=CHANNEL)

    def _drop_content_intent(self) -> ChannelUnavailable:
        """Connect without MESSAGE CONTENT from now on: DMs and mentions still work."""
        self._message_content = False
        log.warning(
            "discord: %s. Connecting without it: only DMs and messages "
            "that mention the bot carry text.",
            INTENT_HELP,
        )
        return ChannelUnavailable(f"{INTENT_HELP}; reconnecting without it", channel=CHANNEL)

    # -- inbound -------------------------------------------------------------

    async def _take_messages(
        self,
        client: discord.Client,
        queue: asyncio.Queue[discord.Message],
        sink: InboundSink,
    ) -> None:
        while True:
            message = await queue.get()
            item = await self._inbound(client, message)
            if item is not None:
                await _hand_over(sink, item)

    async def _inbound(self, client: discord.Client, message: discord.Message) -> Inbound | None:
        if client.user is not None and message.author.id == client.user.id:
            return None  # discord.py delivers the bot's own messages like anyone's
        facts = channel_facts(message.channel) or await self._look_up(client, message.channel.id)
        try:
            item = normalise(message, self._identity_in(message.guild), channel=facts)
        except MalformedEvent as exc:
            log.warning("discord: skipped message %d: %s", message.id, exc)
            return None
        return None if item is None or item.edited else item

    async def fetch_attachments(self, message: InboundMessage) -> InboundMessage:
        downloads = self._downloads
        if not message.attachments:
            return message
        if downloads is None:
            raise ChannelUnavailable("not connected to Discord", channel=CHANNEL)
        return await self._files.fetch(message, downloads)

    def _identity_in(self, guild: discord.Guild | None) -> BotIdentity:
        role = guild.self_role if guild is not None else None
        return replace(self._bot, role_ids=frozenset({str(role.id)}) if role else frozenset())

    async def _look_up(self, client: discord.Client, channel_id: int) -> ChannelFacts:
        """What a channel discord.py has not cached is (a thread created before we
        connected, say): asked once over REST, then remembered."""
        known = self._channels.get(channel_id)
        if known is not None:
            return known
        try:
            with translated("get channel"):
                channel = await client.fetch_channel(channel_id)
        except ChannelError as exc:
            log.warning(
                "discord: channel %d not looked up (%s); not a thread then", channel_id, exc
            )
            return ChannelFacts()
        facts = self._channels[channel_id] = channel_facts(channel) or ChannelFacts()
        while len(self._channels) > _KNOWN_CHANNELS:
            self._channels.popitem(last=False)
        return facts

    async def _take_presses(
        self, queue: asyncio.Queue[discord.Interaction[discord.Client]], sink: InboundSink
    ) -> None:
        while True:
            interaction = await queue.get()
            try:
                press = normalise_interaction(interaction, self._bot)
            except MalformedEvent as exc:
                log.warning("discord: skipped interaction %d: %s", interaction.id, exc)
                continue
            if press is not None:
                await _acknowledge(interaction)
                await _hand_over(sink, press)

    # -- outbound ------------------------------------------------------------

    async def perform(self, op: ReplyOp) -> SentMessage | None:
        client = self._client
        if client is None:
            raise ChannelUnavailable("not connected to Discord", channel=CHANNEL)
        match op:
            case SendMessage():
                return await outbound.send(client, op)
            case EditMessage():
                await outbound.edit(client, op)
            case ShowTyping(target=target):
                await outbound.typing(client, target)
            case SendFile():
                return await outbound.send_file(client, op)
        return None


class _Inbox:
    """Events from discord.py queued for the adapter's tasks (a ``_client.Listener``)."""

    def __init__(self, ready: Readiness) -> None:
        self.messages: asyncio.Queue[discord.Message] = asyncio.Queue()
        self.presses: asyncio.Queue[discord.Interaction[discord.Client]] = asyncio.Queue()
        self.closing = False
        self._ready = ready

    def connected(self) -> None:
        self._ready()

    def disconnected(self) -> None:
        if not self.closing:  # discord.py also reports the close we asked for
            self._ready.lost("the Discord gateway connection dropped; resuming")

    def message(self, message: discord.Message) -> None:
        self.messages.put_nowait(message)

    def interaction(self, interaction: discord.Interaction[discord.Client]) -> None:
        self.presses.put_nowait(interaction)


async def _acknowledge(interaction: discord.Interaction[discord.Client]) -> None:
    """Answer a press with "deferred update": no visible change, no error shown."""
    try:
        with translated("interaction callback"):
            await interaction.response.defer()
    except ChannelError as exc:
        log.warning("discord: could not acknowledge a button press: %s", exc)


async def _hand_over(sink: InboundSink, item: Inbound) -> None:
    # Discord sends a gateway event once: ending the connection over one item the
    # gateway could not take would lose every item queued behind it as well.
    try:
        await sink(item)
    except Exception:
        log.exception("discord: the gateway did not take %s", type(item).__name__)


async def _until_one_fails(*jobs: Coroutine[Any, Any, None]) -> None:
    """Run ``jobs`` together until one fails, and raise its exception as it is
    (a TaskGroup would wrap it in an ExceptionGroup the channel host cannot match)."""
    failure: BaseException | None = None
    try:
        async with asyncio.TaskGroup() as tasks:
            for job in jobs:
                tasks.create_task(job)
    except BaseExceptionGroup as group:
        errors = group.exceptions
        failure = next((e for e in errors if isinstance(e, ChannelError)), errors[0])
    if failure is not None:
        raise failure
