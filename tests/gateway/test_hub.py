"""Replay-then-live delivery: every event exactly once, in order."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway import hub as hub_module
from gateway.hub import EventHub
from gateway.store import GatewayStore, StoredEvent

SESSION = "web:owner:main"


class RecordingSubscriber:
    def __init__(self, on_drain: asyncio.Event | None = None) -> None:
        self.seen: list[int] = []
        self.drains = 0
        self._gate = on_drain

    def deliver(self, event: StoredEvent) -> None:
        self.seen.append(event.seq)

    async def drained(self) -> None:
        self.drains += 1
        if self._gate is not None:
            await self._gate.wait()


@pytest.fixture
def hub(tmp_path: Path) -> EventHub:
    store = GatewayStore.open(tmp_path / "state.db")
    store.ensure_session(SESSION, "owner", 0.0)
    return EventHub(store)


def test_live_subscribers_get_each_event_in_order(hub: EventHub) -> None:
    subscriber = RecordingSubscriber()
    hub.subscribe_live(SESSION, subscriber)
    for i in range(3):
        hub.publish(SESSION, "chat.delta", {"i": i})
    assert subscriber.seen == [1, 2, 3]


async def test_subscribe_replays_what_was_missed_then_goes_live(hub: EventHub) -> None:
    for i in range(5):
        hub.publish(SESSION, "chat.delta", {"i": i})
    subscriber = RecordingSubscriber()
    last = await hub.subscribe(SESSION, subscriber, after_seq=2)
    hub.publish(SESSION, "chat.final", {})
    assert last == 5
    assert subscriber.seen == [3, 4, 5, 6]


async def test_events_published_during_a_paged_replay_arrive_once(
    hub: EventHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub_module, "REPLAY_PAGE", 2)
    for i in range(5):
        hub.publish(SESSION, "chat.delta", {"i": i})
    gate = asyncio.Event()
    subscriber = RecordingSubscriber(on_drain=gate)
    replay = asyncio.create_task(hub.subscribe(SESSION, subscriber, after_seq=0))
    await asyncio.sleep(0)  # let the replay write its first page and wait to drain
    assert subscriber.seen == [1, 2]
    hub.publish(SESSION, "chat.delta", {"i": "during"})  # seq 6, while replaying
    gate.set()
    await replay
    hub.publish(SESSION, "chat.final", {})  # seq 7, live
    assert subscriber.seen == [1, 2, 3, 4, 5, 6, 7]


async def test_unsubscribing_stops_delivery(hub: EventHub) -> None:
    subscriber = RecordingSubscriber()
    await hub.subscribe(SESSION, subscriber, after_seq=0)
    hub.publish(SESSION, "chat.delta", {})
    hub.unsubscribe_all(subscriber)
    hub.publish(SESSION, "chat.delta", {})
    assert subscriber.seen == [1]
    assert hub.subscribers(SESSION) == 0
