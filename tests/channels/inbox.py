"""What the adapter tests hand to ``run``: a sink that keeps what comes in, and a readiness."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from channels.base import ChannelAdapter, Inbound


class Inbox:
    """A sink that keeps what the adapter hands over."""

    def __init__(self) -> None:
        self.items: list[Inbound] = []
        self._changed = asyncio.Event()

    async def __call__(self, item: Inbound) -> None:
        self.items.append(item)
        self._changed.set()

    async def wait(self, count: int = 1) -> list[Inbound]:
        async with asyncio.timeout(10):
            while len(self.items) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.items


class Link:
    """Records what the adapter reports about its connection (a ``channels.base.Readiness``)."""

    def __init__(self) -> None:
        self.reports: list[str] = []
        self._changed = asyncio.Event()

    def __call__(self) -> None:
        self._report("ready")

    def lost(self, reason: str) -> None:
        self._report(f"lost: {reason}")

    def _report(self, what: str) -> None:
        self.reports.append(what)
        self._changed.set()

    async def wait(self, what: str, count: int = 1) -> None:
        async with asyncio.timeout(10):
            while sum(r.startswith(what) for r in self.reports) < count:
                self._changed.clear()
                await self._changed.wait()


@asynccontextmanager
async def adapter_running(
    adapter: ChannelAdapter, inbox: Inbox | None = None, link: Link | None = None
) -> AsyncIterator[Inbox]:
    """``adapter.run`` in a task until the block ends; entered once it reported ready
    (raises why ``run`` stopped if it stopped before)."""
    inbox, link = inbox or Inbox(), link or Link()
    async with asyncio.TaskGroup() as tasks:
        run = tasks.create_task(adapter.run(inbox, link))
        waiting = tasks.create_task(link.wait("ready"))
        await asyncio.wait([run, waiting], return_when=asyncio.FIRST_COMPLETED)
        if run.done():
            waiting.cancel()
            run.result()
        try:
            yield inbox
        finally:
            run.cancel()
