"""Reply operations as Bot API calls: sendMessage, editMessageText, sendChatAction,
sendDocument and sendPhoto.

Text arrives already in Telegram HTML (``channels.replies`` renders it), so it
is sent with ``parse_mode=HTML``.  Should Telegram still refuse the markup
("can't parse entities"), the same text goes once more as plain text: a reply
with lost formatting beats a lost reply.  Replies quote the message they answer
(``reply_parameters``, without failing when it was deleted) and stay in their
forum topic (``message_thread_id``); approval requests carry an inline keyboard,
which an edit removes (``editMessageText`` without ``reply_markup`` drops it).
A file is uploaded (multipart) the same way, threaded and in its topic: a
JPEG or PNG photo up to 10 MB with ``sendPhoto`` (shown inline), anything
else with ``sendDocument`` (up to 50 MB); its caption goes as plain text.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyParameters,
)
from telegram import error as tg
from telegram.constants import ChatAction, ParseMode

from channels.approvals import NO_BUTTONS_HINT, button_ids
from channels.base import (
    ApprovalButtons,
    EditMessage,
    OutboundFile,
    ReplyTarget,
    SendFile,
    SendMessage,
    SentMessage,
)
from channels.errors import ChannelRequestError
from channels.files import read_outbound
from channels.telegram.errors import CHANNEL, translated

__all__ = ["Outbound", "plain_text"]

log = logging.getLogger(__name__)

T = TypeVar("T")
_TAG = re.compile(r"<[^>]*>")
MAX_CALLBACK_BYTES = 64  # Telegram Bot API: callback_data is 1-64 bytes
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # Telegram Bot API: bots send files of up to 50 MB
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # Telegram Bot API: sendPhoto takes at most 10 MB
MAX_CAPTION = 1024  # Telegram Bot API: a caption is 0-1024 characters (UTF-16 units)
_PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})


class Outbound:
    """Performs reply operations with ``bot``; every error is a ``ChannelError``."""

    def __init__(self, bot: Bot, *, token: str) -> None:
        self._bot = bot
        self._token = token

    async def send(self, op: SendMessage) -> SentMessage:
        target = op.target
        chat, thread = _chat_id(target.conversation_id), _optional(target.thread_id, "thread")
        reply = _reply_parameters(target)
        markup = _keyboard(op.buttons) if op.buttons is not None else None
        text = op.text + (
            f"\n{NO_BUTTONS_HINT}" if op.buttons is not None and markup is None else ""
        )

        async def attempt(body: str, mode: str | None) -> Message:
            return await self._bot.send_message(
                chat,
                body,
                parse_mode=mode,
                message_thread_id=thread,
                reply_parameters=reply,
                reply_markup=markup,
            )

        message = await self._formatted("sendMessage", text, attempt)
        return SentMessage(str(message.message_id))

    async def edit(self, op: EditMessage) -> None:
        chat, message_id = _chat_id(op.target.conversation_id), _number(op.message_id, "message")

        async def attempt(body: str, mode: str | None) -> Message | bool:
            return await self._bot.edit_message_text(
                body, chat_id=chat, message_id=message_id, parse_mode=mode
            )

        try:
            await self._formatted("editMessageText", op.text, attempt)
        except ChannelRequestError as exc:
            # Telegram refuses an edit to the same text; the message already shows it.
            if "message is not modified" not in str(exc).lower():
                raise

    async def send_file(self, op: SendFile) -> SentMessage:
        target, file = op.target, op.file
        chat, thread = _chat_id(target.conversation_id), _optional(target.thread_id, "thread")
        upload = InputFile(await read_outbound(file, channel=CHANNEL), filename=file.name)
        caption, reply = _caption(file.caption), _reply_parameters(target)
        if _is_photo(file):
            with translated("sendPhoto", token=self._token):
                message = await self._bot.send_photo(
                    chat, upload, caption, message_thread_id=thread, reply_parameters=reply
                )
        else:
            with translated("sendDocument", token=self._token):
                message = await self._bot.send_document(
                    chat, upload, caption, message_thread_id=thread, reply_parameters=reply
                )
        return SentMessage(str(message.message_id))

    async def typing(self, target: ReplyTarget) -> None:
        chat, thread = _chat_id(target.conversation_id), _optional(target.thread_id, "thread")
        with translated("sendChatAction", token=self._token):
            await self._bot.send_chat_action(chat, ChatAction.TYPING, message_thread_id=thread)

    async def _formatted(
        self, call: str, text: str, attempt: Callable[[str, str | None], Awaitable[T]]
    ) -> T:
        with translated(call, token=self._token):
            try:
                return await attempt(text, ParseMode.HTML)
            except tg.BadRequest as exc:
                if "can't parse entities" not in exc.message.lower():
                    raise
                log.warning("telegram %s: markup refused (%s); sending plain text", call, exc)
                return await attempt(plain_text(text), None)


def plain_text(markup: str) -> str:
    """Telegram HTML as the text it shows (tags dropped, entities decoded)."""
    return html.unescape(_TAG.sub("", markup))


def _is_photo(file: OutboundFile) -> bool:
    return file.media_type.lower() in _PHOTO_TYPES and file.size <= MAX_PHOTO_BYTES


def _caption(caption: str | None) -> str | None:
    """The caption within Telegram's limit (cut, with an ellipsis, when longer)."""
    if not caption:
        return None
    if len(caption.encode("utf-16-le")) // 2 <= MAX_CAPTION:
        return caption
    cut = caption.encode("utf-16-le")[: (MAX_CAPTION - 1) * 2].decode("utf-16-le", "ignore")
    return cut + "…"


def _keyboard(buttons: ApprovalButtons) -> InlineKeyboardMarkup | None:
    ids = button_ids(buttons, max_bytes=MAX_CALLBACK_BYTES)
    if ids is None:
        return None  # the id does not fit in callback_data: /approve and /deny still work
    approve, deny = ids
    row = [
        InlineKeyboardButton(buttons.approve_label, callback_data=approve),
        InlineKeyboardButton(buttons.deny_label, callback_data=deny),
    ]
    return InlineKeyboardMarkup([row])


def _reply_parameters(target: ReplyTarget) -> ReplyParameters | None:
    if target.reply_to is None:
        return None
    # The user may have deleted their message by now; answer anyway.
    return ReplyParameters(_number(target.reply_to, "message"), allow_sending_without_reply=True)


def _chat_id(value: str) -> int:
    return _number(value, "chat")


def _optional(value: str | None, what: str) -> int | None:
    return None if value is None else _number(value, what)


def _number(value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ChannelRequestError(
            f"{value!r} is not a Telegram {what} id", channel=CHANNEL
        ) from None
