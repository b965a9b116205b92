"""discord.py's exceptions translated into ChannelErrors."""

from __future__ import annotations

from types import SimpleNamespace

import aiohttp
import discord
import pytest

import channels.discord  # noqa: F401  (imports discord.py without its audioop warning)
from channels.discord.errors import translate
from channels.errors import (
    ChannelAuthError,
    ChannelConfigError,
    ChannelRateLimited,
    ChannelRequestError,
    ChannelUnavailable,
)


def response(status: int, **headers: str) -> SimpleNamespace:
    return SimpleNamespace(status=status, reason="", headers=headers)


def http(
    cls: type[discord.HTTPException], status: int, body: object, **headers: str
) -> discord.HTTPException:
    return cls(response(status, **headers), body)  # type: ignore[arg-type]


def closed(code: int) -> discord.ConnectionClosed:
    return discord.ConnectionClosed(SimpleNamespace(close_code=code), shard_id=None, code=code)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "kind", "text"),
    [
        (discord.LoginFailure("Improper token has been passed."), ChannelAuthError, "TOKEN"),
        (discord.PrivilegedIntentsRequired(None), ChannelConfigError, "MESSAGE CONTENT"),
        (discord.RateLimited(42.0), ChannelRateLimited, "42.00"),
        (
            http(discord.HTTPException, 429, "<html>", **{"Retry-After": "7"}),
            ChannelRateLimited,
            "7",
        ),
        (
            http(discord.HTTPException, 400, {"code": 50035, "message": "Invalid Form Body"}),
            ChannelRequestError,
            "50035",
        ),
        (
            http(discord.Forbidden, 403, {"code": 50013, "message": "Missing Permissions"}),
            ChannelRequestError,
            "Missing Permissions",
        ),
        (
            http(discord.NotFound, 404, {"code": 10008, "message": "Unknown Message"}),
            ChannelRequestError,
            "10008",
        ),
        (
            http(discord.HTTPException, 401, {"code": 0, "message": "401: Unauthorized"}),
            ChannelAuthError,
            "TOKEN",
        ),
        (http(discord.DiscordServerError, 502, "Bad Gateway"), ChannelUnavailable, "502"),
        (closed(4004), ChannelAuthError, "TOKEN"),
        (closed(4013), ChannelConfigError, "invalid intents"),
        (closed(4000), ChannelUnavailable, "4000"),
        (discord.GatewayNotFound(), ChannelUnavailable, "gateway"),  # type: ignore[no-untyped-call]
        (aiohttp.ClientConnectionError("refused"), ChannelUnavailable, "refused"),
        (ConnectionResetError(104, "reset"), ChannelUnavailable, "reset"),
        (TimeoutError(), ChannelUnavailable, "timed out"),
    ],
)
def test_discord_failures_become_channel_errors(exc: BaseException, kind: type, text: str) -> None:
    translated = translate(exc, "call")
    assert type(translated) is kind
    assert text.lower() in str(translated).lower() and str(translated).startswith("discord: call")


def test_a_rate_limit_carries_how_long_to_wait() -> None:
    limited = translate(http(discord.HTTPException, 429, "", **{"Retry-After": "2.5"}), "send")
    assert isinstance(limited, ChannelRateLimited) and limited.retry_after_s == 2.5
    no_header = translate(http(discord.HTTPException, 429, ""), "send")
    assert isinstance(no_header, ChannelRateLimited) and no_header.retry_after_s == 10.0
