"""The Slack channel (slack-bolt): Socket Mode or HTTP events, replies, buttons, files.

The gateway builds it with :func:`create_adapter`; everything Slack-specific
stays in this package.
"""

from __future__ import annotations

from channels.base import AdapterSettings, ChannelAdapter
from channels.slack.adapter import CAPABILITIES, SlackAdapter
from channels.slack.errors import MalformedEvent
from channels.slack.normalise import BotIdentity, normalise
from channels.slack.settings import Mode, SlackSettings

__all__ = [
    "CAPABILITIES",
    "BotIdentity",
    "MalformedEvent",
    "Mode",
    "SlackAdapter",
    "SlackSettings",
    "create_adapter",
    "normalise",
]


def create_adapter(settings: AdapterSettings) -> ChannelAdapter:
    """The adapter for ``channels.slack``; raises ``ChannelConfigError`` naming the
    key or variable that is missing or wrong."""
    return SlackAdapter(SlackSettings.from_adapter(settings))
