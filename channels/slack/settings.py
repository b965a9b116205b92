"""The Slack adapter's settings, checked once when the gateway builds the adapter.

Misconfiguration raises ``ChannelConfigError`` naming the key or variable
(``channels.slack.mode``, ``SLACK_APP_TOKEN``) and never quoting a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from channels.base import AdapterSettings
from channels.config import checked_url, mode_of, secret
from channels.errors import ChannelConfigError
from channels.files import origin_of
from channels.slack.errors import CHANNEL

__all__ = [
    "DEFAULT_API_BASE_URL",
    "DEFAULT_FILE_BASE_URL",
    "EVENTS_PATH",
    "INTERACTIONS_PATH",
    "MAX_DOWNLOAD_BYTES",
    "Mode",
    "SlackSettings",
]

DEFAULT_API_BASE_URL = "https://slack.com/api"
# Slack serves ``url_private`` / ``url_private_download`` from this host.
DEFAULT_FILE_BASE_URL = "https://files.slack.com"
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
EVENTS_PATH = "/slack/events"
INTERACTIONS_PATH = "/slack/interactions"


class Mode(StrEnum):
    SOCKET = "socket"
    HTTP = "http"


@dataclass(frozen=True, slots=True)
class SlackSettings:
    """Everything the adapter needs; build it with :meth:`from_adapter`.

    ``api_base_url`` has no trailing slash (``https://slack.com/api``); the Web
    API client gets it with one.
    """

    bot_token: str = field(repr=False)
    mode: Mode = Mode.SOCKET
    app_token: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)
    api_base_url: str = DEFAULT_API_BASE_URL
    file_base_url: str = DEFAULT_FILE_BASE_URL
    attachments_dir: Path = Path("attachments")
    max_download_bytes: int = MAX_DOWNLOAD_BYTES
    connect_timeout_s: float = 30.0
    ping_interval_s: float = 10.0

    @property
    def file_origins(self) -> frozenset[str]:
        """Where the bot token may be sent with a file download: the API's own
        origin and the file host's, nowhere else."""
        return frozenset({origin_of(self.api_base_url), origin_of(self.file_base_url)})

    @classmethod
    def from_adapter(
        cls,
        settings: AdapterSettings,
        *,
        max_download_bytes: int = MAX_DOWNLOAD_BYTES,
        connect_timeout_s: float = 30.0,
    ) -> SlackSettings:
        """Check ``settings``; raises ``ChannelConfigError`` naming what is wrong."""
        mode = mode_of(settings.mode, Mode, default=Mode.SOCKET, channel=CHANNEL)
        if max_download_bytes <= 0:
            raise ChannelConfigError("the attachment size cap must be positive", channel=CHANNEL)
        return cls(
            bot_token=_secret(settings, "SLACK_BOT_TOKEN", "xoxb-", "the Bot User OAuth Token"),
            mode=mode,
            app_token=_secret(settings, "SLACK_APP_TOKEN", "xapp-", "an app-level token")
            if mode is Mode.SOCKET
            else "",
            signing_secret=_signing_secret(settings) if mode is Mode.HTTP else "",
            api_base_url=_url(settings.api_base_url, DEFAULT_API_BASE_URL, "api_base_url"),
            file_base_url=_url(settings.file_base_url, DEFAULT_FILE_BASE_URL, "file_base_url"),
            attachments_dir=settings.data_dir / "attachments",
            max_download_bytes=max_download_bytes,
            connect_timeout_s=connect_timeout_s,
        )


def _secret(settings: AdapterSettings, name: str, prefix: str, what: str) -> str:
    value = secret(settings.secrets, name, what=f"{what}, {prefix}…", channel=CHANNEL)
    if not value.startswith(prefix) or not value.isascii() or any(c.isspace() for c in value):
        raise ChannelConfigError(
            f"{name} does not look like {what} (it starts with {prefix})", channel=CHANNEL
        )
    return value


def _signing_secret(settings: AdapterSettings) -> str:
    what = "required in http mode: Basic Information → Signing Secret"
    value = secret(settings.secrets, "SLACK_SIGNING_SECRET", what=what, channel=CHANNEL)
    if not value.isascii():
        raise ChannelConfigError("SLACK_SIGNING_SECRET must be ASCII", channel=CHANNEL)
    return value


def _url(value: str | None, default: str, key: str) -> str:
    return checked_url(value, default, key=key, schemes=("http", "https"), channel=CHANNEL)
