"""The chat channels' outbound half: session events become platform operations, in order.

Theory of operation
-------------------
:class:`ChannelOutbox` subscribes to the sessions of chat channels (it is a
``gateway.hub.Subscriber``).  Each session's events are queued and a worker
task turns them into platform operations through one
``channels.replies.ReplyStreamer`` per run, one operation at a time, in
order.  A rate-limited operation is waited out and retried, never dropped;
so is an operation that fails because the platform cannot be reached for a
moment.  What the platform refuses is logged and dropped.

Approvals: the streamer posts the request (with buttons where the platform
has them) and remembers which message asked.  A decision — a button press,
a ``/approve`` typed in the chat, or one made elsewhere (the web page) —
comes back as the session's ``approval.resolved`` event, and the streamer
edits the asking message to show it, without buttons.  The event does not
say who decided, so the channel host notes who pressed or typed in its chats
(:class:`Deciders`); a decision made elsewhere is shown without a name.

Files: a ``chat.file`` event names a file in the gateway's
:class:`~gateway.files.FileStore`; the outbox finds its bytes (in this
session only) and the streamer uploads it after the reply's text, or says
why it cannot (too large for the platform, no longer there).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from channels.base import ChannelAdapter, ReplyOp, ReplyTarget, SentMessage
from channels.errors import ChannelError, ChannelRateLimited, ChannelUnavailable
from channels.replies import ReplyStreamer
from gateway.access import AccessPolicy
from gateway.backoff import Backoff
from gateway.events import FileReply, ReplyEvent, SessionKey
from gateway.files import FileStore
from gateway.replies import ApprovalResolved, event_to_reply, event_to_resolution
from gateway.store import StoredEvent

__all__ = ["MAX_DELIVERY_ATTEMPTS", "ChannelOutbox", "Deciders", "HostedChannel"]

log = logging.getLogger(__name__)

MAX_DELIVERY_ATTEMPTS = 8

Spawn = Callable[[Coroutine[Any, Any, None], str], None]


@dataclass(frozen=True, slots=True)
class HostedChannel:
    """An adapter, the access rules of its channel, and whether replies stream
    (one message edited as it grows) or appear once final."""

    adapter: ChannelAdapter
    policy: AccessPolicy
    stream: bool = True


class Deciders:
    """Who decided an approval in a chat, for the message that shows the decision.

    The channel host notes a button press while the router resolves it (the
    router publishes the decision before it returns) and a typed ``/approve``
    or ``/deny`` until the session's next message; :meth:`take` reads the
    note once, when the decision arrives.
    """

    def __init__(self) -> None:
        self._pressing: dict[str, str] = {}  # request id -> who is pressing its button
        self._typed: dict[str, str] = {}  # session -> who typed /approve or /deny last

    def note_press(self, request_id: str, who: str) -> None:
        self._pressing[request_id] = who

    def forget_press(self, request_id: str) -> None:
        self._pressing.pop(request_id, None)

    def note_message(self, session: str, who: str, *, decides: bool) -> None:
        """``who`` said something in ``session``; ``decides``: it was ``/approve`` or
        ``/deny`` (any other message forgets an earlier one that matched nothing)."""
        if decides:
            self._typed[session] = who
        else:
            self._typed.pop(session, None)

    def take(self, session: str, request_id: str) -> str | None:
        pressed = self._pressing.pop(request_id, None)
        typed = self._typed.pop(session, None)
        return pressed or typed


@dataclass(frozen=True, slots=True)
class _Decided:
    """An approval decision to show in the chat; ``by`` names who made it, if known here."""

    resolution: ApprovalResolved
    by: str | None

    @property
    def run_id(self) -> str:
        return self.resolution.run_id


Outgoing = ReplyEvent | _Decided


class _SessionQueue:
    """One session's events waiting for its worker, and the streamers of its runs."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Outgoing] = asyncio.Queue()
        self.streamers: dict[str, ReplyStreamer] = {}


class ChannelOutbox:
    """Delivers replies to the chat channels; workers are started through ``spawn``,
    which the owner (the channel host) runs in its task group."""

    def __init__(
        self,
        channels: Mapping[str, HostedChannel],
        *,
        spawn: Spawn,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        files: FileStore | None = None,
    ) -> None:
        self._channels = channels
        self._files = files
        self._spawn = spawn
        self._clock = clock
        self._sleep = sleep
        self._sessions: dict[str, _SessionQueue] = {}
        self._targets: dict[str, ReplyTarget] = {}  # run id -> where its reply goes
        self.deciders = Deciders()

    def answer(self, run_id: str, target: ReplyTarget) -> None:
        """Send the reply of ``run_id`` to ``target`` (the first target given wins)."""
        self._targets.setdefault(run_id, target)

    # -- gateway.hub.Subscriber ----------------------------------------------

    def deliver(self, event: StoredEvent) -> None:
        item = self._outgoing(event)
        if item is None:
            return
        session = self._sessions.get(event.session)
        if session is None:
            session = self._sessions[event.session] = _SessionQueue()
            self._spawn(self._drain(event.session, session), f"deliver:{event.session}")
        session.queue.put_nowait(item)

    async def drained(self) -> None:
        return None  # the host only subscribes live; there is never a replay to pace

    def _outgoing(self, event: StoredEvent) -> Outgoing | None:
        resolution = event_to_resolution(event.event, event.payload)
        if resolution is None:
            return event_to_reply(event.event, event.payload)
        return _Decided(resolution, self.deciders.take(event.session, resolution.request_id))

    # -- the workers -----------------------------------------------------------

    async def _drain(self, session: str, runs: _SessionQueue) -> None:
        key = SessionKey.parse(session)
        hosted = self._channels.get(key.channel)
        if hosted is None:
            return
        while True:
            item = await runs.queue.get()
            streamer, ops = self._plan(runs, key, hosted, item)
            for op in ops:
                result = await self.perform(hosted, op)
                if result is not None and streamer is not None:
                    streamer.sent(op, result)
            if streamer is not None and streamer.finished:
                del runs.streamers[item.run_id]
                self._targets.pop(item.run_id, None)

    def _plan(
        self, runs: _SessionQueue, key: SessionKey, hosted: HostedChannel, item: Outgoing
    ) -> tuple[ReplyStreamer | None, list[ReplyOp]]:
        """The streamer of ``item``'s run and what to do on the platform for it."""
        if isinstance(item, _Decided):  # only a run shown here has a message to edit
            streamer = runs.streamers.get(item.run_id)
            if streamer is None:
                return None, []
            decided = item.resolution
            return streamer, streamer.resolved(decided.request_id, decided.decision, item.by)
        streamer = runs.streamers.get(item.run_id)
        if streamer is None:
            target = self._targets.get(item.run_id) or ReplyTarget(key.conversation, key.thread)
            caps = hosted.adapter.capabilities
            streamer = ReplyStreamer(caps, target, clock=self._clock, stream=hosted.stream)
            runs.streamers[item.run_id] = streamer
        if isinstance(item, FileReply):
            found = self._files.find(str(key), item.file_id) if self._files else None
            if found is None:
                log.warning("session %s: sent file %s is not in the store", key, item.file_id)
            return streamer, streamer.file(item, found.path if found else None)
        return streamer, streamer.feed(item)

    async def perform(self, hosted: HostedChannel, op: ReplyOp) -> SentMessage | None:
        """Do ``op``: rate limits are waited out and network failures retried with
        backoff; what the platform refuses is logged and dropped."""
        backoff = Backoff(start=0.5, maximum=30.0)
        for _ in range(MAX_DELIVERY_ATTEMPTS):
            try:
                return await hosted.adapter.perform(op)
            except ChannelRateLimited as limited:
                await self._sleep(limited.retry_after_s)
            except ChannelUnavailable as exc:
                delay = backoff.next_delay()
                log.warning(
                    "channel unreachable (%s); retrying %s in %.1f s", exc, type(op).__name__, delay
                )
                await self._sleep(delay)
            except ChannelError as exc:
                log.warning("could not deliver %s: %s", type(op).__name__, exc)
                return None
            except Exception:  # an adapter bug must not stop this session's deliveries
                log.exception("adapter %s failed on %s", hosted.adapter.capabilities.name, op)
                return None
        log.error("gave up on %s after %d attempts", type(op).__name__, MAX_DELIVERY_ATTEMPTS)
        return None
