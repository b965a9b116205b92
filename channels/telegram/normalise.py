"""A Telegram ``Update`` → ``InboundMessage`` / ``ButtonPress`` / None.  Pure: no I/O.

Theory of operation
-------------------
Input is the update's JSON (a webhook body, a recorded payload) or PTB's
``Update`` (from ``getUpdates``), which is turned back into its JSON, so one
code path reads both.  Every field is read with a type check; an update that
does not have the documented shape raises :class:`MalformedUpdate` naming the
field, and nothing of it is half-used.

Mapping (Bot API → ``gateway.events``):

* ``InboundMessage.id`` is ``"<chat id>:<message id>"``: message ids are unique
  per chat only, and the gateway replies to the part after the last ``:``.
* Conversation: the chat id; a forum topic (``is_topic_message``) is a
  ``THREAD`` whose ``thread_id`` is ``message_thread_id``.  In plain groups
  ``message_thread_id`` only marks a reply chain and is ignored.
* Mentions of the bot, which the access policy uses for group gating:
  ``mention`` entities (``@username``), ``text_mention`` entities (users
  without a username), ``/command@botname``, and a reply to one of the bot's
  messages.  Entity offsets count UTF-16 code units.
* Attachments: the largest photo size, documents, voice notes, audio, video,
  video notes, animations and stickers, as ``file_id`` references; the shell
  downloads them.
* Ignored (None): channel posts, service messages (joins, pins, topic created),
  messages with neither text nor files, other update kinds, callback queries
  that are not approval buttons.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass

from telegram import Update

from channels.approvals import decode_button
from channels.base import ButtonPress, Inbound
from channels.telegram._payload import Obj, utf16_slice
from channels.telegram.errors import CHANNEL, MalformedUpdate
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

__all__ = ["ALLOWED_UPDATES", "BotIdentity", "callback_query_id", "normalise", "update_id"]

# What we ask Telegram to send (getUpdates / setWebhook ``allowed_updates``).
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")

_MAX_NAME = 255
# Bot API field → what it is; ``animation`` comes first because Telegram sends an
# animation's file again as ``document``.
_FILE_FIELDS = (
    ("animation", AttachmentKind.VIDEO),
    ("video", AttachmentKind.VIDEO),
    ("video_note", AttachmentKind.VIDEO),
    ("voice", AttachmentKind.VOICE),
    ("audio", AttachmentKind.AUDIO),
    ("document", AttachmentKind.FILE),
    ("sticker", AttachmentKind.STICKER),
)


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who the bot is (``getMe``): its user id and ``@username`` without the ``@``."""

    id: str
    username: str | None = None

    def is_named(self, name: str) -> bool:
        return self.username is not None and name.lower() == self.username.lower()


def normalise(update: object, bot: BotIdentity) -> Inbound | None:
    """The message or button press in ``update`` (its JSON object, or PTB's
    ``Update``); None for kinds we ignore; raises ``MalformedUpdate``."""
    raw = _json_of(update)
    root = Obj(raw, "update")
    root.req_int("update_id")
    query = root.opt_child("callback_query")
    if query is not None:
        return _button(query, bot)
    edited = root.opt_child("edited_message")
    message = root.opt_child("message") or edited
    if message is None:
        return None
    return _message(message, bot, raw, edited=edited is not None)


def update_id(update: object) -> int:
    if isinstance(update, Update):
        return update.update_id
    return Obj(update, "update").req_int("update_id")


def callback_query_id(update: object) -> str | None:
    """The id to answer (``answerCallbackQuery``) when ``update`` is a button press."""
    if isinstance(update, Update):
        return update.callback_query.id if update.callback_query is not None else None
    query = Obj(update, "update").opt_child("callback_query")
    return query.req_str("id") if query is not None else None


def _json_of(update: object) -> Mapping[str, object]:
    if isinstance(update, Update):
        return update.to_dict()
    if not isinstance(update, Mapping):
        raise MalformedUpdate("an update must be a JSON object")
    return copy.deepcopy(dict(update))  # the raw payload must not change under us


# -- messages ------------------------------------------------------------------


def _message(
    message: Obj, bot: BotIdentity, raw: Mapping[str, object], *, edited: bool
) -> InboundMessage | None:
    chat = message.child("chat")
    conversation = _conversation(chat, message)
    sender = _sender(message)
    text, entities = _text(message)
    attachments = _attachments(message)
    if conversation is None or sender is None or not (text or attachments):
        return None
    chat_id = chat.req_int("id")
    reply = _replied_to(message)
    return InboundMessage(
        id=f"{chat_id}:{message.req_int('message_id')}",
        channel=CHANNEL,
        account=bot.id,
        conversation=conversation,
        sender=sender,
        text=text,
        sent_at=float(message.req_int("date")),
        mentions=(*_mentions(text, entities, bot), *_reply_mention(reply, bot)),
        attachments=attachments,
        reply_to=f"{chat_id}:{reply.req_int('message_id')}" if reply is not None else None,
        edited=edited,
        raw=RawPayload(CHANNEL, raw),
    )


def _conversation(chat: Obj, message: Obj) -> Conversation | None:
    chat_id = str(chat.req_int("id"))
    kind = chat.req_str("type")
    topic = message.opt_int("message_thread_id") if message.flag("is_topic_message") else None
    thread = str(topic) if topic is not None else None
    if kind == "private":
        return Conversation(chat_id, ConversationKind.DM, thread_id=thread)
    if kind not in ("group", "supergroup"):
        return None  # channels broadcast; the bot does not converse there
    title = chat.opt_str("title")
    if thread is None:
        return Conversation(chat_id, ConversationKind.GROUP, title)
    return Conversation(chat_id, ConversationKind.THREAD, title, thread, parent_id=chat_id)


def _sender(message: Obj) -> Sender | None:
    # Anonymous admins and linked channels post as a chat (``sender_chat``).
    on_behalf = message.opt_child("sender_chat")
    if on_behalf is not None:
        name = on_behalf.opt_str("title")
        return Sender(str(on_behalf.req_int("id")), name, on_behalf.opt_str("username"))
    user = message.opt_child("from")
    return _user(user) if user is not None else None


def _user(user: Obj) -> Sender:
    names = (user.opt_str("first_name"), user.opt_str("last_name"))
    display = " ".join(n for n in names if n) or None
    return Sender(
        str(user.req_int("id")), display, user.opt_str("username"), is_bot=user.flag("is_bot")
    )


def _text(message: Obj) -> tuple[str, list[Obj]]:
    if message.has("text"):
        return message.req_str("text"), message.children("entities")
    return message.opt_str("caption") or "", message.children("caption_entities")


def _replied_to(message: Obj) -> Obj | None:
    reply = message.opt_child("reply_to_message")
    # Inside a forum topic every message "replies" to the topic's creation notice.
    if reply is None or reply.has("forum_topic_created"):
        return None
    return reply


# -- mentions ------------------------------------------------------------------


def _mentions(text: str, entities: list[Obj], bot: BotIdentity) -> list[Mention]:
    mentions = []
    for entity in entities:
        kind = entity.req_str("type")
        if kind not in ("mention", "text_mention", "bot_command"):
            continue
        shown = utf16_slice(text, entity.req_int("offset"), entity.req_int("length"))
        if shown is None:
            continue  # a range outside the text: decoration we cannot place
        mention = _mention(kind, shown, entity, bot)
        if mention is not None:
            mentions.append(mention)
    return mentions


def _mention(kind: str, shown: str, entity: Obj, bot: BotIdentity) -> Mention | None:
    if kind == "text_mention":
        user_id = str(entity.child("user").req_int("id"))
        return Mention(user_id, shown, is_self=user_id == bot.id)
    if kind == "mention":
        # Only the username is known; other users are reported by it.
        is_self = bot.is_named(shown.removeprefix("@"))
        return Mention(bot.id if is_self else shown, shown, is_self=is_self)
    _, at, target = shown.partition("@")  # a /command@botname addresses one bot
    return Mention(bot.id, shown, is_self=True) if at and bot.is_named(target) else None


def _reply_mention(reply: Obj | None, bot: BotIdentity) -> tuple[Mention, ...]:
    """A reply to one of the bot's messages addresses the bot, like a mention."""
    author = reply.opt_child("from") if reply is not None else None
    if author is None or str(author.req_int("id")) != bot.id:
        return ()
    return (Mention(bot.id, "", is_self=True),)


# -- attachments ---------------------------------------------------------------


def _attachments(message: Obj) -> tuple[Attachment, ...]:
    found = []
    sizes = message.children("photo")
    if sizes:
        found.append(_file(_largest(sizes), AttachmentKind.IMAGE, default_mime="image/jpeg"))
    for field, kind in _FILE_FIELDS:
        if field == "document" and message.has("animation"):
            continue
        item = message.opt_child(field)
        if item is not None:
            found.append(_file(item, kind))
    return tuple(found)


def _largest(sizes: list[Obj]) -> Obj:
    return max(sizes, key=lambda s: (s.opt_int("width") or 0) * (s.opt_int("height") or 0))


def _file(item: Obj, kind: AttachmentKind, *, default_mime: str | None = None) -> Attachment:
    name = item.opt_str("file_name")
    return Attachment(
        kind=kind,
        ref=item.req_str("file_id"),
        name=name[:_MAX_NAME] if name else None,  # shown to people only, never a path
        mime_type=item.opt_str("mime_type") or default_mime,
        size=item.opt_int("file_size"),
    )


# -- buttons -------------------------------------------------------------------


def _button(query: Obj, bot: BotIdentity) -> ButtonPress | None:
    query.req_str("id")
    decoded = decode_button(query.opt_str("data") or "")
    message = query.opt_child("message")  # absent for buttons under inline-mode messages
    if decoded is None or message is None:
        return None
    chat = message.child("chat")
    topic = message.opt_int("message_thread_id") if message.flag("is_topic_message") else None
    request_id, decision = decoded
    return ButtonPress(
        channel=CHANNEL,
        account=bot.id,
        conversation_id=str(chat.req_int("id")),
        thread_id=str(topic) if topic is not None else None,
        sender=_user(query.child("from")),
        request_id=request_id,
        decision=decision,
    )
