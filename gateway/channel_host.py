"""Runs the chat channels: keeps each connected, routes what comes in, delivers replies.

Theory of operation
-------------------
Each adapter runs in a supervised task: when its connection fails it is
restarted with exponential backoff (and says so in ``status()``, shown by
``/readyz``), without touching the other channels.  Refused credentials stop
the retries: hammering a platform with a bad token gets the bot banned.  An
adapter that recovers by itself reports the gap through ``ready.lost``.

Inbound: the adapter hands normalised messages to :meth:`ChannelHost.inbound`.
The access policy (``gateway.access``) decides: answer, send a pairing code,
or ignore.  Only an accepted message has its files downloaded
(``ChannelAdapter.fetch_attachments``), so a stranger's message costs no
download; then it goes to the router like any other message.  Button presses
from senders the owner knows resolve approvals through the router.

Outbound: ``gateway.channel_outbox`` subscribes to each session a channel
message reached and turns its events into platform operations, remembering
which platform message each run answers; the host notes who decided an
approval in a chat, for the message that shows the decision.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

from channels.base import ButtonPress, Inbound, SendMessage
from channels.errors import ChannelAuthError, ChannelConfigError, ChannelError, ChannelRateLimited
from channels.replies import reply_target
from gateway.access import Verdict, decide
from gateway.backoff import Backoff
from gateway.channel_outbox import ChannelOutbox, HostedChannel
from gateway.errors import GatewayError, QueueFull
from gateway.events import InboundMessage, Sender, SessionKey
from gateway.files import FileStore
from gateway.hub import EventHub
from gateway.pairing import PairingStore
from gateway.router import Router
from gateway.sessions import ControlKind, parse_control

__all__ = ["ChannelHost", "HostedChannel"]

log = logging.getLogger(__name__)

_DECISIONS = frozenset({ControlKind.APPROVE, ControlKind.DENY})


class ChannelHost:
    def __init__(
        self,
        channels: Sequence[HostedChannel],
        *,
        router: Router,
        hub: EventHub,
        pairing: PairingStore,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        files: FileStore | None = None,
    ) -> None:
        self._channels = {c.adapter.capabilities.name: c for c in channels}
        self._router = router
        self._hub = hub
        self._pairing = pairing
        self._sleep = sleep
        self._status = dict.fromkeys(self._channels, "connecting")
        self._outbox = ChannelOutbox(
            self._channels, spawn=self._spawn, clock=clock, sleep=sleep, files=files
        )
        self._tasks: asyncio.TaskGroup | None = None
        self._running: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Self:
        self._tasks = asyncio.TaskGroup()
        await self._tasks.__aenter__()
        for name, hosted in self._channels.items():
            self._spawn(self._supervise(name, hosted), f"channel:{name}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Disconnect every channel and stop delivering (the router has drained first)."""
        for task in list(self._running):
            task.cancel()
        assert self._tasks is not None
        await self._tasks.__aexit__(None, None, None)  # see Router.__aexit__

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        assert self._tasks is not None, "use the host inside 'async with'"
        task = self._tasks.create_task(coro, name=name)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    @property
    def hosted(self) -> Sequence[HostedChannel]:
        return tuple(self._channels.values())

    def status(self) -> Mapping[str, str]:
        """Per channel: ``ok``, ``connecting``, ``reconnecting: …`` or ``failed: …``."""
        return dict(self._status)

    # -- keeping adapters connected -----------------------------------------

    async def _supervise(self, name: str, hosted: HostedChannel) -> None:
        backoff = Backoff()
        ready = _Readiness(self._status, name, backoff)
        while True:
            try:
                await hosted.adapter.run(lambda item: self.inbound(name, item), ready)
                return
            except (ChannelAuthError, ChannelConfigError) as exc:
                self._status[name] = f"failed: {exc}"
                log.error("channel %s stopped: %s", name, exc)
                return
            except Exception as exc:  # one channel's failure must not stop the others
                delay = backoff.next_delay()
                if isinstance(exc, ChannelRateLimited):  # wait as long as the platform asks
                    delay = max(delay, exc.retry_after_s)
                self._status[name] = f"reconnecting: {exc}"
                log.warning(
                    "channel %s lost its connection (%s); retry in %.1f s", name, exc, delay
                )
            await self._sleep(delay)

    # -- inbound -------------------------------------------------------------

    async def inbound(self, name: str, item: Inbound) -> None:
        """Handle one normalised message or button press from channel ``name``."""
        hosted = self._channels[name]
        if isinstance(item, ButtonPress):
            await self._button(hosted, item)
            return
        known = self._pairing.is_known(item.channel, item.account, item.sender.id)
        decision = decide(item, hosted.policy, sender_known=known, bot_id=hosted.adapter.account)
        if decision.verdict is Verdict.IGNORE:
            log.debug("channel %s ignores %s: %s", name, item.id, decision.reason)
        elif decision.verdict is Verdict.PAIR:
            await self._send_pairing_code(hosted, item)
        else:
            await self._submit(hosted, await self._with_files(hosted, item))

    async def _with_files(self, hosted: HostedChannel, message: InboundMessage) -> InboundMessage:
        """``message`` with its files downloaded; without them if the adapter cannot."""
        try:
            return await hosted.adapter.fetch_attachments(message)
        except ChannelError as exc:
            log.warning("channel %s: files of %s not fetched: %s", message.channel, message.id, exc)
        except Exception:  # an adapter bug must not lose the message
            log.exception("adapter %s failed to fetch files of %s", message.channel, message.id)
        return message

    async def _submit(self, hosted: HostedChannel, message: InboundMessage) -> None:
        session = str(message.session_key)
        self._hub.subscribe_live(session, self._outbox)
        control = parse_control(message.text)
        decides = control is not None and control.kind in _DECISIONS
        sender = message.sender
        if decides and not self._may_decide(hosted, message.channel, message.account, sender.id):
            log.warning("channel %s: %s may not decide approvals", message.channel, sender.id)
            refusal = "Only the assistant's paired or allowlisted users can answer approvals."
            await self._outbox.perform(hosted, SendMessage(reply_target(message), refusal))
            return
        self._outbox.deciders.note_message(session, _name_of(message.sender), decides=decides)
        principal = f"{message.channel}:{message.account}"
        try:
            result = self._router.submit(message, principal=principal)
        except QueueFull:
            busy = "I'm still busy with your earlier messages; send this again in a moment."
            await self._outbox.perform(hosted, SendMessage(reply_target(message), busy))
            return
        except GatewayError as exc:
            log.warning("channel %s: message %s not accepted: %s", message.channel, message.id, exc)
            return
        if not result.duplicate:
            self._outbox.answer(result.run_id, reply_target(message))

    async def _send_pairing_code(self, hosted: HostedChannel, message: InboundMessage) -> None:
        name = message.sender.display_name or message.sender.username
        request = self._pairing.request(message.channel, message.account, message.sender.id, name)
        if request is None:
            text = "This assistant is not taking new contacts right now. Try again later."
        else:
            text = (
                "I don't know you yet. Ask my owner to run:\n"
                f"skillyard pairing approve {message.channel} {request.code}\n"
                "(the code is valid for one hour)"
            )
        await self._outbox.perform(hosted, SendMessage(reply_target(message), text))

    def _may_decide(
        self, hosted: HostedChannel, channel: str, account: str, sender_id: str
    ) -> bool:
        """Approvals are answered by paired or allowlisted users, never by a group's guests."""
        known = self._pairing.is_known(channel, account, sender_id)
        return known or sender_id in hosted.policy.allow_from

    async def _button(self, hosted: HostedChannel, press: ButtonPress) -> None:
        if not self._may_decide(hosted, press.channel, press.account, press.sender.id):
            log.warning("channel %s: %s may not decide approvals", press.channel, press.sender.id)
            return
        key = SessionKey(press.channel, press.account, press.conversation_id, press.thread_id)
        by = f"{press.channel}:{press.sender.id}"
        deciders = self._outbox.deciders
        deciders.note_press(press.request_id, _name_of(press.sender))  # read while resolving
        try:
            resolved = await self._router.resolve_approval(
                str(key), press.request_id, press.decision, by=by
            )
        finally:
            deciders.forget_press(press.request_id)
        if not resolved:  # a second press, or decided elsewhere first: nothing to do
            log.info("channel %s: approval %s was already decided", press.channel, press.request_id)


class _Readiness:
    """What an adapter reports its connection through (``channels.base.Readiness``)."""

    def __init__(self, status: dict[str, str], name: str, backoff: Backoff) -> None:
        self._status = status
        self._name = name
        self._backoff = backoff

    def __call__(self) -> None:
        if self._status[self._name] != "ok":
            log.info("channel %s connected", self._name)
        self._status[self._name] = "ok"
        self._backoff.reset()

    def lost(self, reason: str) -> None:
        self._status[self._name] = f"reconnecting: {reason}"
        log.warning("channel %s lost its connection (%s); reconnecting", self._name, reason)


def _name_of(sender: Sender) -> str:
    return sender.display_name or sender.username or sender.id
