"""discord.py's ``Message`` and ``Interaction`` turned back into gateway payloads.

discord.py parses each gateway event into objects and keeps no raw JSON; the
normaliser reads payloads, so these functions rebuild the fields it reads —
and only those — with Discord's own names and string ids.
"""

from __future__ import annotations

from typing import Any

import discord

from channels.discord.facts import ChannelFacts

__all__ = ["channel_facts", "interaction_payload", "message_payload"]


def message_payload(message: discord.Message) -> tuple[dict[str, Any], ChannelFacts | None]:
    """The message's payload, and what its channel is (None: not in discord.py's cache)."""
    payload: dict[str, Any] = {
        "id": str(message.id),
        "channel_id": str(message.channel.id),
        "type": message.type.value,
        "flags": message.flags.value,
        "author": _user(message.author),
        "content": message.content,
        "timestamp": message.created_at.isoformat(),
        "edited_timestamp": message.edited_at.isoformat() if message.edited_at else None,
        "mentions": [_user(user) for user in message.mentions],
        "mention_roles": [str(role) for role in message.raw_role_mentions],
        "attachments": [_attachment(item) for item in message.attachments],
    }
    guild_id = _guild_id(message)
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
    if message.webhook_id is not None:
        payload["webhook_id"] = str(message.webhook_id)
    if isinstance(message.author, discord.Member):
        payload["member"] = {"nick": message.author.nick}
    payload |= _reference(message.reference)
    return payload, channel_facts(message.channel)


def interaction_payload(interaction: discord.Interaction[discord.Client]) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(interaction.id),
        "type": interaction.type.value,
        "data": dict(interaction.data or {}),
        "channel_id": str(interaction.channel_id),
    }
    user = interaction.user
    if isinstance(user, discord.Member):
        payload["member"] = {"user": _user(user), "nick": user.nick}
    else:
        payload["user"] = _user(user)
    channel = interaction.channel
    if isinstance(channel, discord.Thread):
        payload["channel"] = {"id": str(channel.id), "type": channel.type.value}
        payload["channel"]["parent_id"] = str(channel.parent_id)
    return payload


def _guild_id(message: discord.Message) -> int | None:
    if message.guild is not None:
        return message.guild.id
    # A guild discord.py has not cached (still unavailable): the channel knows the id,
    # and the message must not pass for a DM.
    channel = message.channel
    return channel.guild_id if isinstance(channel, discord.PartialMessageable) else None


def _user(user: discord.abc.User) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "username": user.name,
        "global_name": user.global_name,
        "bot": user.bot,
        "system": user.system,
    }


def _attachment(item: discord.Attachment) -> dict[str, Any]:
    return {
        "id": str(item.id),
        "filename": item.filename,
        "size": item.size,
        "url": item.url,
        "content_type": item.content_type,
    }


def _reference(reference: discord.MessageReference | None) -> dict[str, Any]:
    if reference is None or reference.message_id is None:
        return {}
    found: dict[str, Any] = {
        "message_reference": {
            "message_id": str(reference.message_id),
            "channel_id": str(reference.channel_id),
        }
    }
    replied = reference.resolved
    if isinstance(replied, discord.Message):
        found["referenced_message"] = {"id": str(replied.id), "author": _user(replied.author)}
    return found


def channel_facts(channel: object) -> ChannelFacts | None:
    """What ``channel`` (a discord.py channel object) is; None when discord.py does not know."""
    if isinstance(channel, discord.Thread):
        return ChannelFacts(str(channel.parent_id), channel.name)
    if isinstance(channel, discord.PartialMessageable):
        return None  # a channel discord.py has not cached: it may be a thread
    return ChannelFacts(name=getattr(channel, "name", None))
