"""Reply operations → Discord REST calls through discord.py.

A reply goes to the thread when the target has one (a Discord thread is a
channel of its own), else to the conversation's channel, and references the
message it answers (``fail_if_not_exists=false``: if that message was
deleted meanwhile, the answer is still posted).  Every send and edit carries
``allowed_mentions`` with nothing allowed, so text a model wrote can never
ping ``@everyone``, a role or a user — not even the author it replies to.
Approval requests carry buttons (components), which an edit removes: Discord
keeps a message's components unless an edit sends others, so it sends none.
A file is a message with one attachment (``discord.File``, sent multipart),
threaded like a reply, its caption as the content.
"""

from __future__ import annotations

import io
from typing import Any

import discord

from channels.approvals import NO_BUTTONS_HINT
from channels.base import EditMessage, ReplyTarget, SendFile, SendMessage, SentMessage
from channels.discord.buttons import approval_view
from channels.discord.errors import CHANNEL, translated
from channels.errors import ChannelRequestError
from channels.files import read_outbound

__all__ = ["MAX_UPLOAD_BYTES", "edit", "send", "send_file", "typing"]

_NO_PINGS = discord.AllowedMentions.none()
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # Discord: 10 MiB per upload without server boosts
_MAX_CONTENT = 2000  # Discord: message content is at most 2000 characters


async def send(client: discord.Client, op: SendMessage) -> SentMessage:
    channel_id = _channel_id(op.target)
    channel = client.get_partial_messageable(channel_id)
    options = _reply_options(op.target, channel_id)
    text = op.text
    if op.buttons is not None:
        view = approval_view(op.buttons)
        if view is None:
            text = f"{text}\n{NO_BUTTONS_HINT}"
        else:
            options["view"] = view
    with translated("create message"):
        message = await channel.send(text, **options)
    return SentMessage(str(message.id))


async def send_file(client: discord.Client, op: SendFile) -> SentMessage:
    channel_id = _channel_id(op.target)
    channel = client.get_partial_messageable(channel_id)
    data = await read_outbound(op.file, channel=CHANNEL)
    caption = op.file.caption or None
    if caption is not None and len(caption) > _MAX_CONTENT:
        caption = caption[: _MAX_CONTENT - 1] + "…"
    upload = discord.File(io.BytesIO(data), filename=op.file.name)
    with translated("create message"):
        message = await channel.send(caption, file=upload, **_reply_options(op.target, channel_id))
    return SentMessage(str(message.id))


def _reply_options(target: ReplyTarget, channel_id: int) -> dict[str, Any]:
    """No pings, and a reference to the message answered (if it still exists)."""
    options: dict[str, Any] = {"allowed_mentions": _NO_PINGS}
    if target.reply_to is not None:
        options["reference"] = discord.MessageReference(
            message_id=_snowflake(target.reply_to, "reply_to"),
            channel_id=channel_id,
            fail_if_not_exists=False,
        )
    return options


async def edit(client: discord.Client, op: EditMessage) -> None:
    channel = client.get_partial_messageable(_channel_id(op.target))
    message = channel.get_partial_message(_snowflake(op.message_id, "message_id"))
    with translated("edit message"):
        await message.edit(content=op.text, allowed_mentions=_NO_PINGS, view=None)


async def typing(client: discord.Client, target: ReplyTarget) -> None:
    channel = client.get_partial_messageable(_channel_id(target))
    with translated("trigger typing"):
        await channel.typing()  # Discord shows it for 10 s or until the bot posts


def _channel_id(target: ReplyTarget) -> int:
    if target.thread_id is not None:
        return _snowflake(target.thread_id, "thread_id")
    return _snowflake(target.conversation_id, "conversation_id")


def _snowflake(value: str, what: str) -> int:
    if not (value.isascii() and value.isdigit() and len(value) <= 20):
        raise ChannelRequestError(f"{what} {value!r} is not a Discord id", channel=CHANNEL)
    return int(value)
