"""The Telegram adapter against the loopback Bot API fake, in the test's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from channels.base import AdapterSettings
from channels.telegram import TelegramAdapter, TelegramSettings
from tests.channels.inbox import Inbox, Link, adapter_running
from tests.fakes._server import LoopbackServer
from tests.fakes.telegram_api import TOKEN, FakeTelegram


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
def make_adapter(fake: FakeTelegram, tmp_path: Path) -> Callable[..., TelegramAdapter]:
    def build(**options: Any) -> TelegramAdapter:
        limits = {k: options.pop(k) for k in ("max_download_bytes",) if k in options}
        settings = AdapterSettings(
            api_base_url=fake.api_base_url,
            file_base_url=fake.file_base_url,
            data_dir=tmp_path / "telegram",
            secrets={"TELEGRAM_BOT_TOKEN": TOKEN, **options.pop("secrets", {})},
            **options,
        )
        # A short long-poll: stopping cancels it anyway, this only bounds a stuck test.
        return TelegramAdapter(
            TelegramSettings.from_adapter(settings, poll_timeout_s=2.0, **limits)
        )

    return build


@asynccontextmanager
async def running(
    adapter: TelegramAdapter, inbox: Inbox | None = None, link: Link | None = None
) -> AsyncIterator[Inbox]:
    """``adapter.run`` in a task until the block ends; entered once it is ready."""
    try:
        async with adapter_running(adapter, inbox, link) as items:
            yield items
    finally:
        await adapter.aclose()  # also after a failure the host would have retried


class RoutesServer(LoopbackServer):
    """Serves an adapter's webhook routes on 127.0.0.1, as the gateway does."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        super().__init__()
        self._routes = list(routes)

    async def __aenter__(self) -> RoutesServer:
        await self.start()
        return self

    def app(self) -> Starlette:
        return Starlette(routes=self._routes)
