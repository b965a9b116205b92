"""The Telegram channel: python-telegram-bot's ``Bot`` driven inside our event loop.

Theory of operation
-------------------
:meth:`TelegramAdapter.run` owns the connection: ``getMe`` (the token is
checked and the bot learns its id and username), then either

* **polling**: ``deleteWebhook`` (Telegram refuses ``getUpdates`` while a
  webhook is set), then a ``getUpdates`` loop.  The first poll does not wait
  (``timeout=0``): ``ready()`` is reported once a poll has worked, not merely
  once the token has, so another process polling with the same token (409)
  never shows as ready.  Then long polls.  A long poll that fails after
  polling worked (proxies cut idle connections) is reported with
  ``ready.lost`` and tried again at once; a second failure in a row leaves
  ``run`` and the host reconnects with backoff.  An update is confirmed to
  Telegram (the next ``offset``) only after it was handed to the gateway, so
  a crash re-delivers it rather than losing it; the gateway dedupes on the
  message id.  We drive ``getUpdates`` ourselves instead of PTB's
  ``Updater``, which confirms updates as soon as they sit in its in-memory
  queue, retries failures out of sight of ``/readyz`` and runs its own
  unowned task;
* **webhook**: ``setWebhook(public_url + "/telegram/webhook", secret_token)``;
  Telegram then POSTs updates to the route from :meth:`http_routes`, served on
  the gateway's own port (``channels.telegram.webhook``).

Either way updates are handled one at a time, in order: normalised (pure,
``channels.telegram.normalise``), button presses answered
(``answerCallbackQuery``), then handed to the sink.  Files are downloaded
only when the host asks (:meth:`fetch_attachments`), after its access
decision.  An update id seen recently is skipped (webhook re-deliveries).
Failures leave ``run`` as ``ChannelError``s; the gateway's channel host
reconnects with backoff.  Cancelling ``run`` is the end: the HTTP clients are
closed.

:meth:`perform` does reply operations (``channels.telegram.outbound``) once
``run`` has connected, concurrently with ``run`` and with itself; it keeps
working while ``run`` is being restarted after a passing failure.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from starlette.routing import BaseRoute
from telegram.request import HTTPXRequest

from channels.base import (
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
    ShowTyping,
)
from channels.errors import (
    ChannelAuthError,
    ChannelConfigError,
    ChannelError,
    ChannelRequestError,
    ChannelUnavailable,
)
from channels.files import AttachmentFolder, SizeCap
from channels.recent import Recent
from channels.telegram._bot import PollingBot
from channels.telegram.attachments import AttachmentFetcher
from channels.telegram.errors import CHANNEL, MalformedUpdate, token_redacted, translated
from channels.telegram.normalise import (
    ALLOWED_UPDATES,
    BotIdentity,
    callback_query_id,
    normalise,
    update_id,
)
from channels.telegram.outbound import MAX_UPLOAD_BYTES, Outbound
from channels.telegram.settings import Mode, TelegramSettings
from channels.telegram.webhook import NotReceiving, webhook_route
from gateway.events import InboundMessage

__all__ = ["CAPABILITIES", "TelegramAdapter"]

log = logging.getLogger(__name__)

CAPABILITIES = Capabilities(
    name=CHANNEL,
    max_text=4096,  # Telegram Bot API: 1-4096 characters after entity parsing, in UTF-16 units
    length_unit=LengthUnit.UTF16,
    dialect=Dialect.TELEGRAM_HTML,
    edits=True,
    threads=True,  # forum topics
    buttons=True,  # inline keyboards
    typing=True,
    min_edit_interval_s=1.0,  # about one message per second per chat (FloodLimit)
    max_upload_bytes=MAX_UPLOAD_BYTES,
)
_WEBHOOK_MAX_CONNECTIONS = 8  # updates are handled in order anyway
_SEND_POOL = 8


@functools.cache
def _tls() -> dict[str, Any]:
    """One TLS context for every client: building one reads the CA bundle (~0.3 s)."""
    return {"verify": httpx.create_ssl_context()}


class TelegramAdapter:
    """A ``channels.base.ChannelAdapter`` for one bot."""

    def __init__(self, settings: TelegramSettings) -> None:
        # PTB >= 22.2 warns on every RetryAfter unless PTB_TIMEDELTA opts in to the
        # coming timedelta form, which ``errors.retry_after_s`` reads.
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        self._settings = settings
        self._bot = PollingBot(
            settings.token,
            base_url=settings.base_url,
            base_file_url=settings.base_file_url,
            request=HTTPXRequest(connection_pool_size=_SEND_POOL, httpx_kwargs=_tls()),
            get_updates_request=HTTPXRequest(connection_pool_size=1, httpx_kwargs=_tls()),
        )
        self._identity = BotIdentity(settings.bot_id)
        self._outbound = Outbound(self._bot, token=settings.token)
        folder = AttachmentFolder(
            settings.attachments_dir, SizeCap(settings.max_download_bytes, CHANNEL)
        )
        self._files = AttachmentFetcher(self._bot, folder, token=settings.token)
        self._recent: Recent[int] = Recent()
        self._in_order = asyncio.Lock()
        self._sink: InboundSink | None = None
        self._connected = False

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    @property
    def account(self) -> str:
        return self._identity.id

    @property
    def identity(self) -> BotIdentity:
        """The bot's id, and its username once connected."""
        return self._identity

    def http_routes(self) -> Sequence[BaseRoute]:
        if self._settings.mode is not Mode.WEBHOOK:
            return ()
        return (webhook_route(self._settings.webhook_secret, self._on_webhook),)

    # -- the connection ------------------------------------------------------

    async def run(self, sink: InboundSink, ready: Readiness) -> None:
        with token_redacted(self._settings.token):
            try:
                await self._connect()
                if self._settings.mode is Mode.WEBHOOK:
                    await self._serve_webhook(sink, ready)
                else:
                    await self._poll(sink, ready)
            except (asyncio.CancelledError, ChannelAuthError, ChannelConfigError):
                # The end (the host does not retry these); after a passing failure
                # the connection stays open so that replies still go out meanwhile.
                await self.aclose()
                raise
            finally:
                self._sink = None

    async def aclose(self) -> None:
        """Close the HTTP connections.  Cancelling :meth:`run` does this; call it
        only after a ``run`` that failed with a passing error is not retried."""
        self._connected = False
        await self._bot.shutdown()

    async def _connect(self) -> None:
        with translated("getMe", token=self._settings.token, connecting=True):
            await self._bot.initialize()
        me = self._bot.bot
        self._identity = BotIdentity(str(me.id), me.username)
        self._connected = True

    async def _poll(self, sink: InboundSink, ready: Readiness) -> None:
        with translated("deleteWebhook", token=self._settings.token):
            await self._bot.delete_webhook()
        offset: int | None = None
        polling = False  # a poll worked since the last failure
        while True:
            try:
                updates = await self._updates(offset, wait=polling)
            except ChannelUnavailable as exc:
                if not polling:
                    raise  # the host reconnects with backoff
                polling = False
                ready.lost(f"{exc}; polling again")
                continue
            if not polling:
                polling = True
                ready()
            for update in updates:
                number = await self._receive_polled(update, sink)
                if number is not None:  # confirmed with the next getUpdates
                    offset = max(offset or 0, number + 1)

    async def _updates(self, offset: int | None, *, wait: bool) -> list[object]:
        """The next updates; ``wait`` holds a long poll, else Telegram answers at once."""
        with translated("getUpdates", token=self._settings.token):
            return await self._bot.update_payloads(
                offset=offset,
                timeout_s=self._settings.poll_timeout_s if wait else 0,
                allowed_updates=ALLOWED_UPDATES,
            )

    async def _serve_webhook(self, sink: InboundSink, ready: Readiness) -> None:
        try:
            with translated("setWebhook", token=self._settings.token, connecting=True):
                await self._bot.set_webhook(
                    url=self._settings.webhook_url or "",
                    secret_token=self._settings.webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                    max_connections=_WEBHOOK_MAX_CONNECTIONS,
                )
        except ChannelRequestError as exc:
            raise ChannelConfigError(
                f"channels.telegram.public_url: Telegram refused the webhook address ({exc})",
                channel=CHANNEL,
            ) from exc
        self._sink = sink
        ready()
        await asyncio.get_running_loop().create_future()  # updates arrive through the route

    # -- inbound -------------------------------------------------------------

    async def _receive_polled(self, update: object, sink: InboundSink) -> int | None:
        """Hand over one polled update; its id, or None when it has none."""
        try:
            number = update_id(update)
        except MalformedUpdate as exc:
            log.warning("telegram: skipped an update without an id: %s", exc)
            return None
        try:
            await self._receive(update, sink)
        except MalformedUpdate as exc:  # polling cannot refuse it: log it and go on
            log.warning("telegram: skipped update %d: %s", number, exc)
            self._recent.add(number)
        return number

    async def _on_webhook(self, update: Mapping[str, object]) -> None:
        sink = self._sink
        if sink is None:
            raise NotReceiving
        await self._receive(update, sink)

    async def _receive(self, update: object, sink: InboundSink) -> None:
        """Hand one update to ``sink``, once (raises ``MalformedUpdate``)."""
        async with self._in_order:
            number = update_id(update)
            if number in self._recent:
                log.debug("telegram: update %d was delivered again; skipped", number)
                return
            item = normalise(update, self._identity)
            await self._answer_button(update)
            if isinstance(item, InboundMessage) and item.edited:
                # Answering corrections would answer the same question twice.
                log.debug("telegram: ignored an edit of %s", item.id)
            elif item is not None:
                await sink(item)
            self._recent.add(number)

    async def fetch_attachments(self, message: InboundMessage) -> InboundMessage:
        if not message.attachments:
            return message
        if not self._connected:
            raise ChannelUnavailable("not connected to the Bot API", channel=CHANNEL)
        return await self._files.fetch(message)

    async def _answer_button(self, update: object) -> None:
        """Stop the pressed button's spinner (Telegram shows it until answered)."""
        query = callback_query_id(update)
        if query is None:
            return
        try:
            with translated("answerCallbackQuery", token=self._settings.token):
                await self._bot.answer_callback_query(query)
        except ChannelError as exc:
            log.warning("telegram: could not answer a button press: %s", exc)

    # -- outbound ------------------------------------------------------------

    async def perform(self, op: ReplyOp) -> SentMessage | None:
        if not self._connected:
            raise ChannelUnavailable("not connected to the Bot API", channel=CHANNEL)
        match op:
            case SendMessage():
                return await self._outbound.send(op)
            case EditMessage():
                await self._outbound.edit(op)
            case ShowTyping(target=target):
                await self._outbound.typing(target)
            case SendFile():
                return await self._outbound.send_file(op)
        return None
