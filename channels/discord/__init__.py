"""The Discord channel (discord.py): gateway WebSocket in, REST out, buttons, files.

The gateway builds it with :func:`create_adapter`; everything Discord-specific
stays in this package.  discord.py reads its endpoints from class attributes,
so one Discord endpoint (``api_base_url`` / ``gateway_url``) per process is
supported.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # discord.py imports the standard library's audioop (voice), deprecated since
    # Python 3.11; the channel never uses voice, and the warning would stop the
    # import where warnings are errors (our tests).
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord  # noqa: F401

from channels.base import AdapterSettings, ChannelAdapter
from channels.discord.adapter import CAPABILITIES, DiscordAdapter
from channels.discord.errors import MalformedEvent
from channels.discord.facts import BotIdentity, ChannelFacts
from channels.discord.normalise import normalise, normalise_interaction
from channels.discord.settings import DiscordSettings

__all__ = [
    "CAPABILITIES",
    "BotIdentity",
    "ChannelFacts",
    "DiscordAdapter",
    "DiscordSettings",
    "MalformedEvent",
    "create_adapter",
    "normalise",
    "normalise_interaction",
]


def create_adapter(settings: AdapterSettings) -> ChannelAdapter:
    """The adapter for ``channels.discord``; raises ``ChannelConfigError`` naming
    the key or variable that is missing or wrong."""
    return DiscordAdapter(DiscordSettings.from_adapter(settings))
