"""Numbered, stored session events and their delivery to subscribers.

:meth:`EventHub.publish` stores an event (giving it the session's next
``seq``) and hands it to every live subscriber of that session, in one step
with no ``await`` in between, so every subscriber sees every event in order.

:meth:`EventHub.subscribe` replays what a subscriber missed and then keeps it
live, delivering each event exactly once: the subscriber is registered before
the replay starts, live events that arrive while the replay is still being
written are held back, and afterwards only those with a ``seq`` beyond the
replay are released.  Replay goes in pages, waiting for the subscriber to
drain between pages, so a client far behind cannot make us buffer its whole
history in memory.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from gateway.store import GatewayStore, StoredEvent

__all__ = ["EventHub", "Subscriber"]

REPLAY_PAGE = 500


class Subscriber(Protocol):
    """Something that receives a session's events (a WebSocket client, a channel)."""

    def deliver(self, event: StoredEvent) -> None:
        """Take one event without blocking (queue it, or give up on the subscriber)."""
        ...

    async def drained(self) -> None:
        """Return once what was delivered so far has been written out."""
        ...


class _Replay:
    """Live events held back while a subscriber's replay is in progress."""

    __slots__ = ("held",)

    def __init__(self) -> None:
        self.held: list[StoredEvent] = []


class EventHub:
    def __init__(self, store: GatewayStore, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        self._live: dict[str, dict[Subscriber, _Replay | None]] = defaultdict(dict)

    def publish(self, session: str, event: str, payload: Mapping[str, Any]) -> StoredEvent:
        seq = self._store.append_event(session, event, payload, self._clock())
        stored = StoredEvent(session, seq, event, payload, self._clock())
        for subscriber, replay in list(self._live.get(session, {}).items()):
            if replay is None:
                subscriber.deliver(stored)
            else:
                replay.held.append(stored)
        return stored

    def subscribers(self, session: str) -> int:
        return len(self._live.get(session, {}))

    async def subscribe(
        self,
        session: str,
        subscriber: Subscriber,
        after_seq: int,
        *,
        on_registered: Callable[[], None] | None = None,
    ) -> int:
        """Deliver stored events after ``after_seq``, then live ones; returns the
        last ``seq`` replayed (``after_seq`` when there was nothing to replay).

        ``on_registered`` runs once the subscriber is registered and before
        anything is replayed (the protocol answers ``sessions.subscribe`` there).
        """
        replay = _Replay()
        self._live[session][subscriber] = replay
        if on_registered is not None:
            on_registered()
        cursor = after_seq
        try:
            while page := self._store.events_after(session, cursor, REPLAY_PAGE):
                for stored in page:
                    subscriber.deliver(stored)
                cursor = page[-1].seq
                await subscriber.drained()
        except BaseException:
            self.unsubscribe(session, subscriber)
            raise
        self._go_live(session, subscriber, replay, cursor)
        return cursor

    def _go_live(self, session: str, subscriber: Subscriber, replay: _Replay, cursor: int) -> None:
        if self._live.get(session, {}).get(subscriber) is not replay:
            return  # unsubscribed while replaying
        self._live[session][subscriber] = None
        for stored in replay.held:
            if stored.seq > cursor:
                subscriber.deliver(stored)

    def subscribe_live(self, session: str, subscriber: Subscriber) -> None:
        """Receive new events from now on, without replay (used after ``chat.send``)."""
        self._live[session].setdefault(subscriber, None)

    def unsubscribe(self, session: str, subscriber: Subscriber) -> None:
        subscribers = self._live.get(session)
        if subscribers is None:
            return
        subscribers.pop(subscriber, None)
        if not subscribers:
            del self._live[session]

    def unsubscribe_all(self, subscriber: Subscriber) -> None:
        for session in [s for s, subs in self._live.items() if subscriber in subs]:
            self.unsubscribe(session, subscriber)
