"""A Discord message or button press → ``InboundMessage`` / ``ButtonPress`` / None.  Pure: no I/O.

Theory of operation
-------------------
Input is a gateway payload (the ``d`` of ``MESSAGE_CREATE``, ``MESSAGE_UPDATE``
or ``INTERACTION_CREATE``, as recorded) or the discord.py object built from
one (``discord.Message``, ``discord.Interaction``), which is turned back into
that payload's shape (``channels.discord._objects``), so one code path reads
both.  Every field is read with a type check; a payload that does not have
the documented shape raises :class:`MalformedEvent` naming the field.

Mapping (Discord → ``gateway.events``):

* ``InboundMessage.id`` is ``"<channel id>:<message id>"``; the gateway replies
  to the part after the last ``:``.
* Conversation: no ``guild_id`` → a DM (the DM channel's id); a guild text
  channel → a group; a thread → conversation = the parent channel, thread =
  the thread's id.  ``MESSAGE_CREATE`` does not say whether its channel is a
  thread, so the caller passes what its channel cache knows (:class:`ChannelFacts`).
* Mentions of the bot, which the access policy uses for group gating:
  ``<@id>`` / ``<@!id>`` in the text, ``<@&role>`` of the bot's own managed
  role (Discord's client inserts it when people pick the bot's role by
  mistake), a reply ping (the bot in ``mentions`` without being in the text),
  and a reply to one of the bot's messages.
* Text: ``content`` with a leading mention of the bot removed (so that
  ``@Bot /calculator 6*7`` is the command ``/calculator 6*7``) and other user
  mentions written as ``@name``, which a model can read.
* Without the privileged MESSAGE_CONTENT intent, Discord sends guild messages
  with empty ``content``, ``attachments`` and ``embeds`` unless they mention
  the bot (DMs always have content): such a message has nothing to answer and
  normalises to None, as do messages with neither text nor files.
* Bots and webhooks are reported as ``Sender.is_bot``; the access policy ignores them.
* Ignored (None): system messages (joins, pins, thread created …: any type
  but 0 DEFAULT and 19 REPLY), presses of components that are not our
  approval buttons, interactions of other kinds.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import datetime

import discord

from channels.approvals import decode_button
from channels.base import ButtonPress
from channels.discord._objects import interaction_payload, message_payload
from channels.discord._payload import Obj
from channels.discord.errors import CHANNEL, MalformedEvent
from channels.discord.facts import BotIdentity, ChannelFacts
from channels.files import kind_of
from gateway.events import (
    Attachment,
    AttachmentKind,
    Conversation,
    ConversationKind,
    InboundMessage,
    Mention,
    RawPayload,
    Sender,
)

__all__ = ["BotIdentity", "ChannelFacts", "normalise", "normalise_interaction"]

_ANSWERED_TYPES = frozenset({0, 19})  # DEFAULT, REPLY
_THREAD_TYPES = frozenset({10, 11, 12})  # announcement, public and private threads
_COMPONENT_INTERACTION = 3
_BUTTON = 2
_VOICE_MESSAGE_FLAG = 1 << 13
_DISCORD_EPOCH_MS = 1_420_070_400_000
_MAX_NAME = 255
_USER_MENTION = re.compile(r"<@!?([0-9]{1,20})>")
_ROLE_MENTION = re.compile(r"<@&([0-9]{1,20})>")
_LEADING_MENTION = re.compile(r"\s*<@([!&]?)([0-9]{1,20})>\s*")


def normalise(
    event: Mapping[str, object] | discord.Message,
    bot: BotIdentity,
    *,
    channel: ChannelFacts | None = None,
) -> InboundMessage | None:
    """The message in ``event``, or None for what is not answered; raises ``MalformedEvent``.

    ``channel`` says whether the message's channel is a thread; for a
    ``discord.Message`` it is read from the object when not given.
    """
    if isinstance(event, discord.Message):
        payload, known = message_payload(event)
        return _message(Obj(payload, "message"), bot, channel or known or ChannelFacts(), payload)
    raw = _copy(event, "a message")
    return _message(Obj(raw, "message"), bot, channel or ChannelFacts(), raw)


def normalise_interaction(
    event: Mapping[str, object] | discord.Interaction[discord.Client], bot: BotIdentity
) -> ButtonPress | None:
    """The approval button press in ``event``, or None for other interactions."""
    raw = interaction_payload(event) if isinstance(event, discord.Interaction) else event
    root = Obj(_copy(raw, "an interaction"), "interaction")
    data = root.opt_child("data")
    if root.req_int("type") != _COMPONENT_INTERACTION or data is None:
        return None
    decoded = decode_button(data.opt_str("custom_id") or "")
    if decoded is None or data.opt_int("component_type") != _BUTTON:
        return None
    conversation, thread = _interaction_place(root)
    member = root.opt_child("member")
    user = member.child("user") if member is not None else root.child("user")
    return ButtonPress(
        channel=CHANNEL,
        account=bot.id,
        conversation_id=conversation,
        thread_id=thread,
        sender=_sender(user, member, webhook=False),
        request_id=decoded[0],
        decision=decoded[1],
    )


def _copy(event: object, what: str) -> dict[str, object]:
    if not isinstance(event, Mapping):
        raise MalformedEvent(f"{what} must be a JSON object")
    return copy.deepcopy(dict(event))  # the raw payload must not change under us


# -- messages ------------------------------------------------------------------


def _message(
    message: Obj, bot: BotIdentity, facts: ChannelFacts, raw: Mapping[str, object]
) -> InboundMessage | None:
    channel_id, message_id = message.req_id("channel_id"), message.req_id("id")
    if (message.opt_int("type") or 0) not in _ANSWERED_TYPES:
        return None
    author = message.child("author")
    named = _named_users(message)
    text = _clean_text(message.req_str("content") if message.has("content") else "", bot, named)
    attachments = _attachments(message)
    if not (text or attachments):
        return None
    return InboundMessage(
        id=f"{channel_id}:{message_id}",
        channel=CHANNEL,
        account=bot.id,
        conversation=_conversation(message, channel_id, facts),
        sender=_sender(author, message.opt_child("member"), webhook=message.has("webhook_id")),
        text=text,
        sent_at=_sent_at(message, message_id),
        mentions=_mentions(message, bot, named),
        attachments=attachments,
        reply_to=_reply_to(message, channel_id),
        edited=message.has("edited_timestamp"),
        raw=RawPayload(CHANNEL, raw),
    )


def _conversation(message: Obj, channel_id: str, facts: ChannelFacts) -> Conversation:
    if not message.has("guild_id"):
        return Conversation(channel_id, ConversationKind.DM)
    if facts.parent_id is None:
        return Conversation(channel_id, ConversationKind.GROUP, facts.name)
    parent = facts.parent_id
    return Conversation(parent, ConversationKind.THREAD, facts.name, channel_id, parent_id=parent)


def _sender(user: Obj, member: Obj | None, *, webhook: bool) -> Sender:
    nick = member.opt_str("nick") if member is not None else None
    return Sender(
        user.req_id("id"),
        nick or user.opt_str("global_name") or user.opt_str("username"),
        user.opt_str("username"),
        is_bot=webhook or user.flag("bot") or user.flag("system"),
    )


def _sent_at(message: Obj, message_id: str) -> float:
    stamp = message.opt_str("timestamp")
    if stamp is not None:
        try:
            return datetime.fromisoformat(stamp).timestamp()
        except ValueError:
            raise MalformedEvent(f"{message.path}.timestamp is not an ISO 8601 time") from None
    # A snowflake holds its creation time: milliseconds since Discord's epoch, shifted by 22.
    return ((int(message_id) >> 22) + _DISCORD_EPOCH_MS) / 1000


def _reply_to(message: Obj, channel_id: str) -> str | None:
    reference = message.opt_child("message_reference")
    if reference is None or not reference.has("message_id"):
        return None
    return f"{reference.opt_id('channel_id') or channel_id}:{reference.req_id('message_id')}"


# -- mentions and text ---------------------------------------------------------


def _named_users(message: Obj) -> dict[str, str]:
    """User id → the name to show, for everyone in ``mentions``."""
    named = {}
    for user in message.children("mentions"):
        member = user.opt_child("member")
        name = _sender(user, member, webhook=False).display_name
        named[user.req_id("id")] = name or user.req_id("id")
    return named


def _clean_text(content: str, bot: BotIdentity, named: Mapping[str, str]) -> str:
    """``content`` without a leading mention of the bot, other mentions as ``@name``."""
    lead = _LEADING_MENTION.match(content)
    if lead is not None and _names_bot(lead, bot):
        content = content[lead.end() :]
    names = {**named, bot.id: bot.name or named.get(bot.id) or "bot"}

    def shown(match: re.Match[str]) -> str:
        return f"@{names[match.group(1)]}" if match.group(1) in names else match.group(0)

    return _USER_MENTION.sub(shown, content).strip()


def _names_bot(mention: re.Match[str], bot: BotIdentity) -> bool:
    marker, target = mention.group(1), mention.group(2)
    return target in bot.role_ids if marker == "&" else target == bot.id


def _mentions(message: Obj, bot: BotIdentity, named: Mapping[str, str]) -> tuple[Mention, ...]:
    content = message.req_str("content") if message.has("content") else ""
    ids = list(dict.fromkeys(_USER_MENTION.findall(content)))
    found = [Mention(uid, _shown_as(uid, named), is_self=uid == bot.id) for uid in ids]
    roles = set(_ROLE_MENTION.findall(content)) | set(message.ids("mention_roles"))
    if roles & bot.role_ids and bot.id not in ids:
        found.append(Mention(bot.id, f"@{bot.name or bot.id}", is_self=True))
    pinged = bot.id in named and bot.id not in ids  # a reply that kept "@ON"
    if (pinged or _replies_to(message, bot.id)) and not any(m.is_self for m in found):
        found.append(Mention(bot.id, "", is_self=True))
    return tuple(found)


def _shown_as(user_id: str, named: Mapping[str, str]) -> str:
    return f"@{named[user_id]}" if user_id in named else f"<@{user_id}>"


def _replies_to(message: Obj, user_id: str) -> bool:
    replied = message.opt_child("referenced_message")
    author = replied.opt_child("author") if replied is not None else None
    return author is not None and author.req_id("id") == user_id


# -- attachments ---------------------------------------------------------------


def _attachments(message: Obj) -> tuple[Attachment, ...]:
    voice = bool((message.opt_int("flags") or 0) & _VOICE_MESSAGE_FLAG)
    return tuple(_attachment(item, voice=voice) for item in message.children("attachments"))


def _attachment(item: Obj, *, voice: bool) -> Attachment:
    mime = item.opt_str("content_type")
    kind = kind_of(mime)
    if voice and kind is AttachmentKind.AUDIO:
        kind = AttachmentKind.VOICE
    name = item.opt_str("filename")
    return Attachment(
        kind=kind,
        ref=item.req_str("url"),
        name=name[:_MAX_NAME] if name else None,  # shown to people only, never a path
        mime_type=mime,
        size=item.opt_int("size"),
    )


# -- buttons -------------------------------------------------------------------


def _interaction_place(root: Obj) -> tuple[str, str | None]:
    """(conversation id, thread id) of the channel the button was pressed in."""
    channel_id = root.req_id("channel_id")
    channel = root.opt_child("channel")
    if channel is None or channel.opt_int("type") not in _THREAD_TYPES:
        return channel_id, None
    return channel.req_id("parent_id"), channel_id
