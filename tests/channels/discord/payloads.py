"""Gateway payloads as Discord sends them (the ``d`` of each event), for the normaliser.

Shapes follow Discord's API v10 documentation (Message, Interaction objects)
and what the gateway delivered to discord.py in the experiments of
notes/channel-testing.md §3; ids are strings, as on the wire.
"""

from __future__ import annotations

import copy
from typing import Any

BOT_ID = "1187390003958288445"
BOT_ROLE = "1187390121419673651"
GUILD = "1101234567890123456"
GENERAL = "1101234567890123457"
THREAD = "1189000000000000001"
DM = "1187400000000000009"
ALICE = "287600000000000042"
BOB = "301200000000000077"

_ALICE = {
    "id": ALICE,
    "username": "alice",
    "discriminator": "0",
    "global_name": "Alice",
    "avatar": "a1b2c3",
    "public_flags": 0,
}
_BOT = {
    "id": BOT_ID,
    "username": "skillyard",
    "discriminator": "4821",
    "global_name": None,
    "avatar": None,
    "bot": True,
}
_MEMBER = {
    "roles": [],
    "joined_at": "2023-05-01T10:00:00.000000+00:00",
    "deaf": False,
    "mute": False,
    "flags": 0,
    "nick": None,
    "premium_since": None,
    "pending": False,
}

DM_MESSAGE: dict[str, Any] = {
    "type": 0,
    "tts": False,
    "timestamp": "2024-03-01T12:00:00.123000+00:00",
    "pinned": False,
    "nonce": "1213000000000000000",
    "mentions": [],
    "mention_roles": [],
    "mention_everyone": False,
    "id": "1213000000000000101",
    "flags": 0,
    "embeds": [],
    "edited_timestamp": None,
    "content": "/calculator 6*7",
    "components": [],
    "channel_id": DM,
    "author": _ALICE,
    "attachments": [],
}


def dm(**changes: Any) -> dict[str, Any]:
    return copy.deepcopy(DM_MESSAGE) | changes


def guild_message(content: str, *, channel: str = GENERAL, **changes: Any) -> dict[str, Any]:
    message = dm(content=content, channel_id=channel, guild_id=GUILD, id="1213000000000000202")
    message["member"] = copy.deepcopy(_MEMBER)
    return message | changes


def mention_of(user: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(user) | {"member": copy.deepcopy(_MEMBER)}


def bot_user() -> dict[str, Any]:
    return copy.deepcopy(_BOT)


def alice() -> dict[str, Any]:
    return copy.deepcopy(_ALICE)


def bob() -> dict[str, Any]:
    return {
        "id": BOB,
        "username": "bob",
        "discriminator": "0",
        "global_name": "Bob",
        "avatar": None,
    }


def bot_message(content: str = "Earlier answer") -> dict[str, Any]:
    return guild_message(content, id="1212999999999999999", author=bot_user()) | {"member": None}


ATTACHMENT: dict[str, Any] = {
    "id": "1213000000000000301",
    "filename": "report.pdf",
    "size": 48213,
    "url": "https://cdn.discordapp.com/attachments/1187400000000000009/1213000000000000301/report.pdf?ex=65f&is=65e&hm=abc",
    "proxy_url": "https://media.discordapp.net/attachments/1187400000000000009/1213000000000000301/report.pdf",
    "content_type": "application/pdf",
}
PHOTO: dict[str, Any] = ATTACHMENT | {
    "id": "1213000000000000302",
    "filename": "cat.png",
    "content_type": "image/png",
    "width": 640,
    "height": 480,
}
VOICE: dict[str, Any] = ATTACHMENT | {
    "id": "1213000000000000303",
    "filename": "voice-message.ogg",
    "content_type": "audio/ogg",
    "duration_secs": 3.2,
    "waveform": "AAAA",
}


def interaction(
    custom_id: str, *, channel: dict[str, Any] | None = None, guild: bool = True
) -> dict[str, Any]:
    """An INTERACTION_CREATE for a button under one of the bot's messages."""
    where = channel or {"id": GENERAL, "type": 0, "guild_id": GUILD, "name": "general"}
    data: dict[str, Any] = {
        "version": 1,
        "type": 3,
        "token": "aW50ZXJhY3Rpb24tdG9rZW4",
        "id": "1213000000000000401",
        "application_id": BOT_ID,
        "app_permissions": "2248473465835073",
        "channel_id": where["id"],
        "channel": where | {"permissions": "2248473465835073", "flags": 0},
        "data": {"custom_id": custom_id, "component_type": 2},
        "message": bot_message("Approve this action?"),
        "locale": "en-GB",
        "entitlements": [],
        "attachment_size_limit": 10485760,
        "authorizing_integration_owners": {"0": GUILD},
    }
    if guild:
        data |= {"guild_id": GUILD, "guild_locale": "en-US", "context": 0}
        data["member"] = copy.deepcopy(_MEMBER) | {"user": alice(), "permissions": "0"}
    else:
        data |= {"user": alice(), "context": 1}
    return data
