"""The Slack adapter against the loopback Web API + Socket Mode fake, in the test's loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from channels.base import AdapterSettings
from channels.slack import SlackAdapter, SlackSettings
from tests.channels.inbox import Inbox, Link, adapter_running
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack

MakeAdapter = Callable[..., SlackAdapter]


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


@pytest.fixture
def make_adapter(fake: FakeSlack, tmp_path: Path) -> MakeAdapter:
    def build(mode: str = "socket", **options: Any) -> SlackAdapter:
        limits = {k: options.pop(k) for k in ("max_download_bytes",) if k in options}
        clock = options.pop("clock", None)
        secrets = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        }
        settings = AdapterSettings(
            mode=mode,
            api_base_url=options.pop("api_base_url", fake.api_base_url),
            data_dir=tmp_path / "slack",
            secrets=secrets | options.pop("secrets", {}),
            **options,
        )
        checked = SlackSettings.from_adapter(settings, connect_timeout_s=5.0, **limits)
        return SlackAdapter(checked) if clock is None else SlackAdapter(checked, clock=clock)

    return build


@asynccontextmanager
async def running(
    adapter: SlackAdapter, inbox: Inbox | None = None, link: Link | None = None
) -> AsyncIterator[Inbox]:
    """``adapter.run`` in a task until the block ends; entered once it is ready."""
    try:
        async with adapter_running(adapter, inbox, link) as items:
            yield items
    finally:
        await adapter.aclose()  # also after a failure the host would have retried
