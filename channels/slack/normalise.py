"""A Slack payload → ``InboundMessage`` / ``ButtonPress`` / None.  Pure: no I/O.

Theory of operation
-------------------
Input is the body Slack delivers: an Events API ``event_callback`` (an HTTP
POST body, or a Socket Mode envelope's ``payload``) or an interactivity
``block_actions`` payload.  Every field is read with a type check; a payload
without the documented shape raises :class:`MalformedEvent` naming the field.

Mapping (Slack → ``gateway.events``):

* ``InboundMessage.id`` is ``"<channel>:<ts>"``: a ``ts`` is unique per
  channel, and the gateway replies to the part after the last ``:``.  The
  same message delivered as ``message`` and as ``app_mention``, or delivered
  again (``X-Slack-Retry-Num``), gets the same id and text, so the router
  handles it once.
* Conversation: the channel id.  A DM (``channel_type: im``, ids ``D…``) is
  one session; a DM thread reply (``thread_ts`` ≠ ``ts``) its own.  In
  channels the bot answers in a thread, so every channel message belongs to
  the thread it is in (``thread_ts``) or would head (its own ``ts``): a
  follow-up in that thread continues the same session.
* Text: Slack's escaping and references decoded (``channels.slack.text``);
  a leading mention of the bot is dropped from the text and kept as a
  mention, which the access policy uses for mention gating.
* Senders: ``user``; bots (``bot_id``, ``subtype: bot_message``) are marked
  ``is_bot``; the bot's own messages are marked too (Bolt drops most of them
  first).
* Attachments: ``files[]`` as ``url_private_download`` references (a file's
  id where Slack sends only ``file_access: check_file_info``); the shell
  downloads them.
* Edits (``message_changed``) come back ``edited`` with the original id.
* Ignored (None): other event types, other message subtypes (joins, topic
  changes, deletions), messages with neither text nor files, actions that are
  not our approval buttons.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass

from channels.approvals import decode_button
from channels.base import ButtonPress, Inbound
from channels.files import kind_of
from channels.slack._payload import Obj
from channels.slack.errors import CHANNEL, MalformedEvent
from channels.slack.text import decode
from gateway.events import (
    Attachment,
    AttachmentKind,
    Conversation,
    ConversationKind,
    InboundMessage,
    RawPayload,
    Sender,
)

__all__ = ["BotIdentity", "normalise"]

# Message subtypes that carry something a person said; the rest are notices.
_SAID = frozenset({None, "file_share", "thread_broadcast", "bot_message", "me_message"})
_SKIPPED_FILE_MODES = frozenset({"tombstone", "hidden_by_limit"})
_ID = re.compile(r"[A-Z0-9]{2,40}")
_TS = re.compile(r"[0-9]{1,12}\.[0-9]{1,9}")
_MAX_NAME = 255


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who the bot is (``auth.test``): its user id (``U…``) and bot id (``B…``)."""

    user_id: str
    bot_id: str | None = None


def normalise(body: Mapping[str, object], bot: BotIdentity) -> Inbound | None:
    """The message or button press in ``body``; None for what we ignore;
    raises :class:`MalformedEvent`."""
    root = Obj(body, "body")
    kind = root.opt_str("type")
    if kind == "event_callback":
        return _event(root, bot)
    if kind == "block_actions":
        return _button(root, bot)
    return None


def _event(root: Obj, bot: BotIdentity) -> InboundMessage | None:
    event = root.child("event")
    if event.req_str("type") not in ("message", "app_mention"):
        return None
    subtype = event.opt_str("subtype")
    if subtype == "message_changed":
        inner = event.child("message")
        return _message(event, inner, bot, root.data, edited=True)
    if subtype not in _SAID:
        return None
    return _message(event, event, bot, root.data, edited=False)


def _message(
    event: Obj, message: Obj, bot: BotIdentity, raw: Mapping[str, object], *, edited: bool
) -> InboundMessage | None:
    """``event`` holds the channel; ``message`` the rest (the same object unless edited)."""
    channel = _id(event, "channel")
    ts = _ts(message, "ts")
    sender = _sender(message, bot)
    decoded = decode(message.opt_str("text") or "", bot.user_id)
    attachments = tuple(_file(item) for item in message.children("files") if _shown(item))
    if sender is None or not (decoded.text or attachments):
        return None
    conversation = _conversation(
        channel, event.opt_str("channel_type"), ts, _opt_ts(message, "thread_ts")
    )
    return InboundMessage(
        id=f"{channel}:{ts}",
        channel=CHANNEL,
        account=bot.user_id,
        conversation=conversation,
        sender=sender,
        text=decoded.text,
        sent_at=float(ts),
        mentions=decoded.mentions,
        attachments=attachments,
        edited=edited,
        raw=RawPayload(CHANNEL, copy.deepcopy(dict(raw))),
    )


def _conversation(
    channel: str, channel_type: str | None, ts: str, thread_ts: str | None
) -> Conversation:
    in_thread = thread_ts is not None and thread_ts != ts
    if channel_type == "im" or (channel_type is None and channel.startswith("D")):
        if in_thread:
            return Conversation(channel, ConversationKind.DM, thread_id=thread_ts)
        return Conversation(channel, ConversationKind.DM)
    root = thread_ts if in_thread else ts
    return Conversation(channel, ConversationKind.THREAD, thread_id=root, parent_id=channel)


def _sender(message: Obj, bot: BotIdentity) -> Sender | None:
    user = message.opt_str("user")
    bot_id = message.opt_str("bot_id")
    is_bot = bot_id is not None or message.opt_str("subtype") == "bot_message"
    if user is not None:
        _check_id(user, f"{message.path}.user")
        profile = message.opt_child("user_profile")
        display = _display_name(profile) if profile is not None else None
        username = profile.opt_str("name") if profile is not None else None
        return Sender(user, display, username, is_bot=is_bot or user == bot.user_id)
    if bot_id is not None:
        _check_id(bot_id, f"{message.path}.bot_id")
        return Sender(bot_id, message.opt_str("username"), is_bot=True)
    return None


def _display_name(profile: Obj) -> str | None:
    return profile.opt_str("display_name") or profile.opt_str("real_name")


# -- attachments ---------------------------------------------------------------


def _shown(item: Obj) -> bool:
    return item.opt_str("mode") not in _SKIPPED_FILE_MODES


def _file(item: Obj) -> Attachment:
    file_id = _id(item, "id")
    mime = item.opt_str("mimetype")
    name = item.opt_str("name") or item.opt_str("title")
    return Attachment(
        kind=_kind(mime, item.opt_str("subtype")),
        ref=item.opt_str("url_private_download") or item.opt_str("url_private") or file_id,
        name=name[:_MAX_NAME] if name else None,  # shown to people only, never a path
        mime_type=mime,
        size=item.opt_int("size"),
    )


def _kind(mime: str | None, subtype: str | None) -> AttachmentKind:
    if subtype == "slack_audio":  # a voice clip recorded in Slack
        return AttachmentKind.VOICE
    return kind_of(mime)


# -- buttons -------------------------------------------------------------------


def _button(root: Obj, bot: BotIdentity) -> ButtonPress | None:
    decoded = None
    for action in root.children("actions"):
        decoded = decode_button(action.opt_str("action_id") or "")
        if decoded is not None:
            break
    channel = root.opt_child("channel")
    message = root.opt_child("message")  # absent for buttons in modals and App Home
    if decoded is None or channel is None or message is None:
        return None
    channel_id = _id(channel, "id")
    user = root.child("user")
    conversation = _conversation(
        channel_id, None, _ts(message, "ts"), _opt_ts(message, "thread_ts")
    )
    request_id, decision = decoded
    return ButtonPress(
        channel=CHANNEL,
        account=bot.user_id,
        conversation_id=channel_id,
        thread_id=conversation.thread_id,
        sender=Sender(_id(user, "id"), user.opt_str("name"), user.opt_str("username")),
        request_id=request_id,
        decision=decision,
    )


# -- checked ids -----------------------------------------------------------------


def _id(item: Obj, key: str) -> str:
    value = item.req_str(key)
    _check_id(value, f"{item.path}.{key}")
    return value


def _check_id(value: str, path: str) -> None:
    if _ID.fullmatch(value) is None:
        raise MalformedEvent(f"{path} must be a Slack id (like C0123ABC), not {value[:40]!r}")


def _ts(item: Obj, key: str) -> str:
    value = item.req_str(key)
    if _TS.fullmatch(value) is None:
        raise MalformedEvent(f"{item.path}.{key} must be a Slack timestamp like 1700000000.000100")
    return value


def _opt_ts(item: Obj, key: str) -> str | None:
    return _ts(item, key) if item.has(key) else None
