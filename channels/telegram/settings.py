"""The Telegram adapter's settings, checked once when the gateway builds the adapter.

Misconfiguration raises ``ChannelConfigError`` naming the key or variable
(``channels.telegram.public_url``, ``TELEGRAM_BOT_TOKEN``) and never quoting a
secret.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from channels.base import AdapterSettings
from channels.config import checked_url, mode_of, secret
from channels.errors import ChannelConfigError
from channels.telegram.errors import CHANNEL

__all__ = [
    "DEFAULT_API_BASE_URL",
    "MAX_DOWNLOAD_BYTES",
    "WEBHOOK_PATH",
    "Mode",
    "TelegramSettings",
]

DEFAULT_API_BASE_URL = "https://api.telegram.org"
# Telegram Bot API: getFile serves files of at most 20 MB to bots.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
WEBHOOK_PATH = "/telegram/webhook"
# Telegram Bot API, setWebhook: secret_token is 1-256 of A-Z a-z 0-9 _ -.
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_HTTP = ("http", "https")
_TOKEN = re.compile(r"([0-9]{1,20}):[A-Za-z0-9_-]{1,200}")


class Mode(StrEnum):
    POLLING = "polling"
    WEBHOOK = "webhook"


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    """Everything the adapter needs; build it with :meth:`from_adapter`."""

    token: str = field(repr=False)
    mode: Mode = Mode.POLLING
    api_base_url: str = DEFAULT_API_BASE_URL
    file_base_url: str = f"{DEFAULT_API_BASE_URL}/file"
    webhook_url: str | None = None
    webhook_secret: str = field(default="", repr=False)
    attachments_dir: Path = Path("attachments")
    max_download_bytes: int = MAX_DOWNLOAD_BYTES
    poll_timeout_s: float = 25.0

    @property
    def bot_id(self) -> str:
        """The bot's user id: a bot token is ``<bot id>:<secret>``."""
        return self.token.partition(":")[0]

    @property
    def base_url(self) -> str:
        return f"{self.api_base_url}/bot"  # PTB appends the token

    @property
    def base_file_url(self) -> str:
        return f"{self.file_base_url}/bot"

    @classmethod
    def from_adapter(
        cls,
        settings: AdapterSettings,
        *,
        max_download_bytes: int = MAX_DOWNLOAD_BYTES,
        poll_timeout_s: float = 25.0,
    ) -> TelegramSettings:
        """Check ``settings``; ``max_download_bytes`` may lower the Bot API's own cap."""
        mode = mode_of(settings.mode, Mode, default=Mode.POLLING, channel=CHANNEL)
        api = checked_url(
            settings.api_base_url,
            DEFAULT_API_BASE_URL,
            key="api_base_url",
            schemes=_HTTP,
            channel=CHANNEL,
        )
        files = checked_url(
            settings.file_base_url,
            f"{api}/file",
            key="file_base_url",
            schemes=_HTTP,
            channel=CHANNEL,
        )
        if not 0 < max_download_bytes <= MAX_DOWNLOAD_BYTES:
            raise ChannelConfigError(
                f"the attachment size cap must be 1..{MAX_DOWNLOAD_BYTES} bytes", channel=CHANNEL
            )
        return cls(
            token=_token(settings),
            mode=mode,
            api_base_url=api,
            file_base_url=files,
            webhook_url=_webhook_url(settings) if mode is Mode.WEBHOOK else None,
            webhook_secret=_webhook_secret(settings) if mode is Mode.WEBHOOK else "",
            attachments_dir=settings.data_dir / "attachments",
            max_download_bytes=max_download_bytes,
            poll_timeout_s=poll_timeout_s,
        )


def _token(settings: AdapterSettings) -> str:
    what = "the token @BotFather gave you"
    token = secret(settings.secrets, "TELEGRAM_BOT_TOKEN", what=what, channel=CHANNEL)
    if _TOKEN.fullmatch(token) is None:
        raise ChannelConfigError(
            "TELEGRAM_BOT_TOKEN does not look like a bot token (<bot id>:<secret>)",
            channel=CHANNEL,
        )
    return token


def _webhook_url(settings: AdapterSettings) -> str:
    if not settings.public_url:
        raise ChannelConfigError(
            "channels.telegram.public_url is required in webhook mode "
            f"(the HTTPS address where Telegram reaches {WEBHOOK_PATH})",
            channel=CHANNEL,
        )
    return settings.public_url.rstrip("/") + WEBHOOK_PATH


def _webhook_secret(settings: AdapterSettings) -> str:
    """``TELEGRAM_WEBHOOK_SECRET``, or a fresh random one for this process (Telegram
    is told the secret at every start, so a random one only breaks when several
    gateways serve one bot: set the variable then)."""
    secret = settings.secrets.get("TELEGRAM_WEBHOOK_SECRET")
    if secret is None:
        return secrets.token_urlsafe(32)
    if _SECRET.fullmatch(secret) is None:
        raise ChannelConfigError(
            "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ - (Telegram's rule)",
            channel=CHANNEL,
        )
    return secret
