"""``discord.*`` exceptions translated into the ``channels.errors`` tree.

::

    channels.errors.ChannelError
    ├── MalformedPayload          a payload we cannot read (the message names the field)
    │   └── MalformedEvent
    ├── ChannelConfigError        a privileged intent or gateway setting Discord refused
    ├── ChannelAuthError          LoginFailure; gateway close code 4004 (token refused)
    ├── ChannelUnavailable        connection errors, timeouts, 5xx, other gateway closes
    └── ChannelRequestError       Forbidden, NotFound, 400 (50035 Invalid Form Body …)
        └── ChannelRateLimited    RateLimited; a 429 discord.py did not wait out itself

discord.py waits out a 429 that carries ``Via`` and a JSON ``retry_after`` by
itself (up to ``max_ratelimit_timeout``), so the caller never sees those; a
429 without them (Cloudflare's ban page) or a longer wait arrives here and
is handed to the channel host, which waits it out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import discord

from channels.errors import (
    ChannelAuthError,
    ChannelConfigError,
    ChannelError,
    ChannelRateLimited,
    ChannelRequestError,
    ChannelUnavailable,
    MalformedPayload,
)

__all__ = ["CHANNEL", "MalformedEvent", "translated"]

CHANNEL = "discord"
# A 429 without Retry-After (Cloudflare's block page has none): wait this long.
_UNKNOWN_RETRY_AFTER_S = 10.0
# Gateway close codes (Discord: "Gateway Close Event Codes").
_AUTH_FAILED = 4004
_CONFIG_CLOSES = {
    4010: "invalid shard",
    4011: "sharding required (the bot is in too many guilds for one connection)",
    4012: "invalid API version",
    4013: "invalid intents",
}
INTENT_HELP = (
    "Discord refused the MESSAGE CONTENT intent: enable it for the bot in the Developer "
    "Portal (Bot → Privileged Gateway Intents → Message Content Intent)"
)


class MalformedEvent(MalformedPayload):
    """A gateway payload that does not have the shape Discord documents."""

    platform = CHANNEL


@contextmanager
def translated(call: str) -> Iterator[None]:
    """Run discord.py calls, raising only ``ChannelError``s (named after ``call``)."""
    try:
        yield
    except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise translate(exc, call) from exc


def translate(exc: BaseException, call: str) -> ChannelError:
    """The ``ChannelError`` for a discord.py, aiohttp or socket failure of ``call``."""
    if isinstance(exc, discord.LoginFailure):
        return ChannelAuthError(f"{call}: Discord refused DISCORD_BOT_TOKEN", channel=CHANNEL)
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return ChannelConfigError(f"{call}: {INTENT_HELP}", channel=CHANNEL)
    if isinstance(exc, discord.RateLimited):
        return _limited(call, exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        return _http(exc, call)
    if isinstance(exc, discord.ConnectionClosed):
        return _closed(exc, call)
    return ChannelUnavailable(f"{call}: {_describe(exc)}", channel=CHANNEL)


def _http(exc: discord.HTTPException, call: str) -> ChannelError:
    text = f"{call}: HTTP {exc.status} (code {exc.code}) {exc.text}".rstrip()
    if exc.status == 429:
        return _limited(call, _retry_after(exc))
    if exc.status == 401:
        return ChannelAuthError(f"{call}: Discord refused DISCORD_BOT_TOKEN", channel=CHANNEL)
    if isinstance(exc, discord.DiscordServerError) or exc.status >= 500:
        return ChannelUnavailable(text, channel=CHANNEL)
    return ChannelRequestError(text, channel=CHANNEL)


def _closed(exc: discord.ConnectionClosed, call: str) -> ChannelError:
    if exc.code == _AUTH_FAILED:
        return ChannelAuthError(f"{call}: the gateway refused DISCORD_BOT_TOKEN", channel=CHANNEL)
    if exc.code in _CONFIG_CLOSES:
        reason = _CONFIG_CLOSES[exc.code]
        return ChannelConfigError(
            f"{call}: gateway closed with {exc.code}, {reason}", channel=CHANNEL
        )
    return ChannelUnavailable(f"{call}: the gateway closed with {exc.code}", channel=CHANNEL)


def _limited(call: str, retry_after_s: float) -> ChannelRateLimited:
    text = f"{call}: rate limited for {retry_after_s:.2f} s"
    return ChannelRateLimited(text, channel=CHANNEL, retry_after_s=retry_after_s)


def _retry_after(exc: discord.HTTPException) -> float:
    header = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return max(0.0, float(header)) if header is not None else _UNKNOWN_RETRY_AFTER_S
    except ValueError:
        return _UNKNOWN_RETRY_AFTER_S


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__
