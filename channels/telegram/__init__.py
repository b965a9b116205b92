"""The Telegram channel (python-telegram-bot): polling or webhook, replies, buttons, files.

The gateway builds it with :func:`create_adapter`; everything Telegram-specific
stays in this package.
"""

from __future__ import annotations

from channels.base import AdapterSettings, ChannelAdapter
from channels.telegram.adapter import CAPABILITIES, TelegramAdapter
from channels.telegram.errors import MalformedUpdate
from channels.telegram.normalise import BotIdentity, normalise
from channels.telegram.settings import Mode, TelegramSettings

__all__ = [
    "CAPABILITIES",
    "BotIdentity",
    "MalformedUpdate",
    "Mode",
    "TelegramAdapter",
    "TelegramSettings",
    "create_adapter",
    "normalise",
]


def create_adapter(settings: AdapterSettings) -> ChannelAdapter:
    """The adapter for ``channels.telegram``; raises ``ChannelConfigError`` naming
    the key or variable that is missing or wrong."""
    return TelegramAdapter(TelegramSettings.from_adapter(settings))
