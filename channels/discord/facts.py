"""What the normaliser needs to know beyond a payload: who the bot is, what a channel is.

The shell fills these from discord.py's cache (``client.user``, the guild's
``self_role``, ``message.channel``); recorded-payload tests build them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BotIdentity", "ChannelFacts"]


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """The bot's user id, its name, and its managed roles in the guild at hand
    (a mention of such a role addresses the bot)."""

    id: str
    name: str | None = None
    role_ids: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ChannelFacts:
    """What the client knows about the channel a message was posted in.

    ``MESSAGE_CREATE`` does not say whether its channel is a thread:
    ``parent_id`` is set when it is one, naming the channel that holds it.
    """

    parent_id: str | None = None
    name: str | None = None
