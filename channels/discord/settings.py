"""The Discord adapter's settings, checked once when the gateway builds the adapter.

Misconfiguration raises ``ChannelConfigError`` naming the key or variable
(``channels.discord.gateway_url``, ``DISCORD_BOT_TOKEN``) and never quoting a
secret.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from pathlib import Path

from channels.base import AdapterSettings
from channels.config import checked_url, secret
from channels.discord.errors import CHANNEL
from channels.errors import ChannelConfigError
from channels.files import origin_of

__all__ = [
    "DEFAULT_API_BASE_URL",
    "DEFAULT_GATEWAY_URL",
    "DISCORD_CDN_ORIGINS",
    "MAX_DOWNLOAD_BYTES",
    "DiscordSettings",
]

DEFAULT_API_BASE_URL = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"
# Where Discord serves attachments; anything else in an attachment URL is not fetched.
DISCORD_CDN_ORIGINS = frozenset({"https://cdn.discordapp.com", "https://media.discordapp.net"})
# Discord lets users upload 10 MiB (more with Nitro); keep the disk bounded all the same.
MAX_DOWNLOAD_BYTES = 25 * 1024 * 1024
# A bot token is three base64url parts separated by dots (user id, timestamp, HMAC).
_TOKEN = re.compile(r"[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{3,}\.[A-Za-z0-9_-]{10,}")


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    """Everything the adapter needs; build it with :meth:`from_adapter`.

    ``api_base_url`` and ``gateway_url`` become discord.py class attributes
    (``Route.BASE``, ``DiscordWebSocket.DEFAULT_GATEWAY``) when the adapter
    connects: one Discord endpoint per process.
    """

    token: str = field(repr=False)
    api_base_url: str = DEFAULT_API_BASE_URL
    gateway_url: str = DEFAULT_GATEWAY_URL
    attachments_dir: Path = Path("attachments")
    max_download_bytes: int = MAX_DOWNLOAD_BYTES
    download_origins: frozenset[str] = DISCORD_CDN_ORIGINS
    guild_ready_timeout_s: float = 0.5
    message_content: bool = True

    @property
    def bot_id(self) -> str:
        """The bot's user id ("" if unreadable): a token's first part is the id in base64."""
        first = self.token.split(".", 1)[0]
        try:
            decoded = base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)).decode("ascii")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded if decoded.isdigit() else ""

    @classmethod
    def from_adapter(
        cls,
        settings: AdapterSettings,
        *,
        max_download_bytes: int = MAX_DOWNLOAD_BYTES,
        guild_ready_timeout_s: float = 0.5,
    ) -> DiscordSettings:
        """Check ``settings``; the keyword arguments tune what the config does not expose."""
        if settings.mode not in (None, "gateway"):
            raise ChannelConfigError(
                f"channels.discord.mode: {settings.mode!r} is not a Discord mode (gateway)",
                channel=CHANNEL,
            )
        if max_download_bytes <= 0:
            raise ChannelConfigError("the attachment size cap must be positive", channel=CHANNEL)
        api = _url(settings.api_base_url, DEFAULT_API_BASE_URL, "api_base_url", ("http", "https"))
        return cls(
            token=_token(settings),
            api_base_url=api,
            gateway_url=_url(
                settings.gateway_url, DEFAULT_GATEWAY_URL, "gateway_url", ("ws", "wss")
            ),
            attachments_dir=settings.data_dir / "attachments",
            max_download_bytes=max_download_bytes,
            download_origins=DISCORD_CDN_ORIGINS | {origin_of(api)},
            guild_ready_timeout_s=guild_ready_timeout_s,
        )


def _url(value: str | None, default: str, key: str, schemes: tuple[str, ...]) -> str:
    return checked_url(value, default, key=key, schemes=schemes, channel=CHANNEL)


def _token(settings: AdapterSettings) -> str:
    what = "Developer Portal → your application → Bot → Token"
    token = secret(settings.secrets, "DISCORD_BOT_TOKEN", what=what, channel=CHANNEL)
    if _TOKEN.fullmatch(token.removeprefix("Bot ")) is None:
        raise ChannelConfigError(
            "DISCORD_BOT_TOKEN does not look like a bot token (three parts separated by dots)",
            channel=CHANNEL,
        )
    return token.removeprefix("Bot ")
