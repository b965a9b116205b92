"""``telegram.error.*`` translated into the ``channels.errors`` tree; the token kept out of logs.

::

    channels.errors.ChannelError
    ├── MalformedPayload          an update we cannot read (the message names the field)
    │   └── MalformedUpdate
    ├── ChannelAuthError          InvalidToken; Forbidden while connecting
    ├── ChannelUnavailable        NetworkError, TimedOut, Conflict (another poller or a webhook)
    └── ChannelRequestError       BadRequest, Forbidden while sending, ChatMigrated, the rest
        └── ChannelRateLimited    RetryAfter

PTB puts the bot token into some messages (``InvalidToken``: "The token `…` was
rejected") and httpx logs every request URL, which contains the token, at INFO;
so every message we build is redacted and :func:`token_redacted` filters
httpx's log records while the adapter runs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from telegram import error as tg

from channels.errors import (
    ChannelAuthError,
    ChannelError,
    ChannelRateLimited,
    ChannelRequestError,
    ChannelUnavailable,
    MalformedPayload,
)

__all__ = ["CHANNEL", "MalformedUpdate", "token_redacted", "translated"]

CHANNEL = "telegram"
_HIDDEN = "<token>"


class MalformedUpdate(MalformedPayload):
    """An update that does not have the shape the Bot API documents."""

    platform = CHANNEL


@contextmanager
def translated(call: str, *, token: str, connecting: bool = False) -> Iterator[None]:
    """Run a Bot API call, raising only ``ChannelError``s; ``connecting`` makes a
    refusal (403) an authentication failure rather than a refused request."""
    try:
        yield
    except tg.TelegramError as exc:
        raise _translate(exc, call, token, connecting=connecting) from _cause(exc)


def _cause(exc: tg.TelegramError) -> BaseException | None:
    # InvalidToken's text quotes the token: do not chain it into tracebacks.
    return None if isinstance(exc, tg.InvalidToken) else exc


def _translate(exc: tg.TelegramError, call: str, token: str, *, connecting: bool) -> ChannelError:
    text = f"{call}: {redact(exc.message, token)}"
    if isinstance(exc, tg.RetryAfter):
        return ChannelRateLimited(text, channel=CHANNEL, retry_after_s=retry_after_s(exc))
    if isinstance(exc, tg.InvalidToken):
        return ChannelAuthError(f"{call}: the Bot API refused TELEGRAM_BOT_TOKEN", channel=CHANNEL)
    if isinstance(exc, tg.Forbidden):
        kind: type[ChannelError] = ChannelAuthError if connecting else ChannelRequestError
        return kind(text, channel=CHANNEL)
    if isinstance(exc, tg.ChatMigrated):
        moved = f"{call}: the group moved to chat {exc.new_chat_id}"
        return ChannelRequestError(moved, channel=CHANNEL)
    if isinstance(exc, tg.BadRequest):  # before NetworkError: BadRequest is one
        return ChannelRequestError(text, channel=CHANNEL)
    if isinstance(exc, tg.NetworkError | tg.Conflict):
        return ChannelUnavailable(text, channel=CHANNEL)
    return ChannelRequestError(text, channel=CHANNEL)


def retry_after_s(exc: tg.RetryAfter) -> float:
    """Seconds to wait; PTB gives an int, or a timedelta once ``PTB_TIMEDELTA`` is on."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def redact(text: str, token: str) -> str:
    return text.replace(token, _HIDDEN) if token else text


class _RedactToken(logging.Filter):
    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self._token in str(record.msg):
            record.msg = redact(str(record.msg), self._token)
        if isinstance(record.args, tuple):
            record.args = tuple(self._clean(arg) for arg in record.args)
        return True

    def _clean(self, arg: object) -> object:
        text = str(arg)
        return redact(text, self._token) if self._token in text else arg


@contextmanager
def token_redacted(token: str) -> Iterator[None]:
    """While inside, httpx's request log lines (INFO) show ``<token>`` instead of the token."""
    # Filters on a logger see only records logged on it; httpx logs on "httpx" itself.
    logger = logging.getLogger("httpx")
    redacting = _RedactToken(token)
    logger.addFilter(redacting)
    try:
        yield
    finally:
        logger.removeFilter(redacting)
