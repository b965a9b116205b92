"""Checks every adapter's settings make once, at start-up; errors name the key or variable.

A channel that is enabled but misconfigured stops the gateway before anything
starts, with a ``ChannelConfigError`` that says which key of
``channels.<name>`` or which environment variable is wrong — never quoting a
secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar
from urllib.parse import urlsplit

from channels.errors import ChannelConfigError

__all__ = ["checked_url", "mode_of", "secret"]

M = TypeVar("M", bound=StrEnum)


def mode_of(value: str | None, modes: type[M], *, default: M, channel: str) -> M:
    """``channels.<channel>.mode`` as one of ``modes`` (``default`` when unset)."""
    try:
        return modes(value or default)
    except ValueError:
        names = " or ".join(modes)
        raise ChannelConfigError(
            f"channels.{channel}.mode: {value!r} is not a {channel.title()} mode ({names})",
            channel=channel,
        ) from None


def checked_url(
    value: str | None, default: str, *, key: str, schemes: tuple[str, ...], channel: str
) -> str:
    """``channels.<channel>.<key>`` (``default`` when unset), without a trailing slash."""
    url = (value or default).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.hostname:
        kinds = " or ".join(schemes)
        raise ChannelConfigError(
            f"channels.{channel}.{key}: {url!r} is not a {kinds} URL", channel=channel
        )
    return url


def secret(secrets: Mapping[str, str], name: str, *, what: str, channel: str) -> str:
    """The environment variable ``name``, stripped; ``what`` tells where to find it."""
    value = secrets.get(name, "").strip()
    if not value:
        raise ChannelConfigError(f"{name} is not set ({what})", channel=channel)
    return value
