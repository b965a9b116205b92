"""The Discord settings: checked at start-up, errors name the key and never the secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.base import AdapterSettings
from channels.discord import DiscordSettings
from channels.errors import ChannelConfigError
from tests.fakes.discord_api import TOKEN


def build(**options: object) -> DiscordSettings:
    secrets = options.pop("secrets", {"DISCORD_BOT_TOKEN": TOKEN})
    return DiscordSettings.from_adapter(AdapterSettings(secrets=secrets, **options))  # type: ignore[arg-type]


def test_defaults_point_at_discord() -> None:
    settings = build(data_dir=Path("/data/channels/discord"))
    assert settings.api_base_url == "https://discord.com/api/v10"
    assert settings.gateway_url == "wss://gateway.discord.gg"
    assert settings.attachments_dir == Path("/data/channels/discord/attachments")
    assert settings.download_origins >= {
        "https://cdn.discordapp.com",
        "https://media.discordapp.net",
    }
    assert TOKEN not in repr(settings)


def test_a_proxy_or_fake_is_also_where_files_may_come_from() -> None:
    settings = build(api_base_url="http://127.0.0.1:8123/api/v10/", gateway_url="ws://x:1/gw")
    assert settings.api_base_url == "http://127.0.0.1:8123/api/v10"
    assert "http://127.0.0.1:8123" in settings.download_origins


def test_a_bot_prefix_on_the_token_is_tolerated() -> None:
    assert build(secrets={"DISCORD_BOT_TOKEN": f"Bot {TOKEN}"}).token == TOKEN


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"secrets": {}}, "DISCORD_BOT_TOKEN is not set"),
        ({"secrets": {"DISCORD_BOT_TOKEN": "hunter2"}}, "does not look like a bot token"),
        ({"mode": "webhook"}, "channels.discord.mode"),
        ({"gateway_url": "https://gateway.discord.gg"}, "channels.discord.gateway_url"),
        ({"api_base_url": "ftp://discord.com"}, "channels.discord.api_base_url"),
    ],
)
def test_misconfiguration_names_the_key(options: dict[str, object], named: str) -> None:
    with pytest.raises(ChannelConfigError, match=named) as refused:
        build(**options)
    assert "hunter2" not in str(refused.value)


def test_the_size_cap_must_be_positive() -> None:
    with pytest.raises(ChannelConfigError, match="size cap"):
        DiscordSettings.from_adapter(
            AdapterSettings(secrets={"DISCORD_BOT_TOKEN": TOKEN}), max_download_bytes=0
        )


def test_the_bot_id_is_read_from_the_token() -> None:
    assert build().bot_id == "1200000000000000001"
    odd = "bm90LWFuLWlk.abcd.efghijklmnopqrstuvwxyz"  # first part: "not-an-id"
    assert build(secrets={"DISCORD_BOT_TOKEN": odd}).bot_id == ""
