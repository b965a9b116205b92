"""Reply operations as Bot API calls: sendMessage, editMessageText, sendChatAction.

Text arrives already in Telegram HTML (``channels.replies`` renders it), so it
is sent with ``parse_mode=HTML``.  Should Telegram still refuse the markup
("can't parse entities"), the same text goes once more as plain text: a reply
with lost formatting beats a lost reply.  Replies quote the message they answer
(``reply_parameters``, without failing when it was deleted) and stay in their
forum topic (``message_thread_id``); approval requests carry an inline keyboard,
which an edit removes (``editMessageText`` without ``reply_markup`` drops it).
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters
from telegram import error as tg
from telegram.constants import ChatAction, ParseMode

from channels.approvals import NO_BUTTONS_HINT, button_ids
from channels.base import ApprovalButtons, EditMessage, ReplyTarget, SendMessage, SentMessage
from channels.errors import ChannelRequestError
from channels.telegram.errors import CHANNEL, translated

__all__ = ["Outbound", "plain_text"]

log = logging.getLogger(__name__)

T = TypeVar("T")
_TAG = re.compile(r"<[^>]*>")
MAX_CALLBACK_BYTES = 64  # Telegram Bot API: callback_data is 1-64 bytes


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
