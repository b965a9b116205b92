"""Shared set-up for the Discord adapter tests: the fake, the adapter, a sink, readiness."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from channels.base import AdapterSettings
from channels.discord import DiscordAdapter, DiscordSettings
from tests.channels.inbox import adapter_running
from tests.fakes.discord_api import TOKEN, FakeDiscord


@pytest.fixture(autouse=True)
def discord_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapter sets discord.py's endpoint class attributes: put them back afterwards."""
    restore_discord_endpoints(monkeypatch)


def restore_discord_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Have ``monkeypatch`` put discord.py's endpoints back at teardown."""
    # Imported here, after channels.discord, which imports discord.py warning-free.
    import discord

    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    gateway = discord.gateway.DiscordWebSocket
    monkeypatch.setattr(gateway, "DEFAULT_GATEWAY", gateway.DEFAULT_GATEWAY)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
def make_adapter(fake: FakeDiscord, tmp_path: Path) -> Callable[..., DiscordAdapter]:
    def build(**options: Any) -> DiscordAdapter:
        limits = {k: options.pop(k) for k in ("max_download_bytes",) if k in options}
        settings = AdapterSettings(
            api_base_url=fake.api_base_url,
            gateway_url=fake.gateway_url,
            data_dir=tmp_path / "discord",
            secrets={"DISCORD_BOT_TOKEN": TOKEN, **options.pop("secrets", {})},
            **options,
        )
        # A short wait for GUILD_CREATEs: on_ready comes that long after the last one.
        built = DiscordSettings.from_adapter(settings, guild_ready_timeout_s=0.05, **limits)
        return DiscordAdapter(built)

    return build


running = adapter_running  # cancelling run closes the client
