"""Exceptions raised by channel adapters.

::

    ChannelError                  root: what an adapter raises (SDK errors translated)
    ├── ChannelConfigError        enabled but misconfigured (the message names the key)
    ├── ChannelAuthError          the platform refused our credentials (not retried)
    ├── ChannelUnavailable        the platform cannot be reached now (retried with backoff)
    ├── MalformedPayload          a payload without the documented shape (names the field);
    │                             each platform has its own subclass (``MalformedUpdate`` …)
    └── ChannelRequestError       the platform refused one request
        └── ChannelRateLimited    too many requests; ``retry_after_s`` says how long to wait

SDK exceptions (``telegram.error.*``, ``slack_sdk.errors.*``, ``discord.*``)
never leave an adapter: each shell translates them into this tree.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ChannelAuthError",
    "ChannelConfigError",
    "ChannelError",
    "ChannelRateLimited",
    "ChannelRequestError",
    "ChannelUnavailable",
    "MalformedPayload",
]


class ChannelError(Exception):
    def __init__(self, message: str, *, channel: str) -> None:
        super().__init__(f"{channel}: {message}")
        self.channel = channel


class ChannelConfigError(ChannelError):
    pass


class ChannelAuthError(ChannelError):
    pass


class ChannelUnavailable(ChannelError):
    pass


class MalformedPayload(ChannelError):
    """What a platform sent does not have the shape its documentation gives.

    A subclass per platform sets :attr:`platform`; it is built from the
    message alone (``channels.payload.Obj`` raises it).
    """

    platform: ClassVar[str]

    def __init__(self, message: str) -> None:
        super().__init__(message, channel=self.platform)


class ChannelRequestError(ChannelError):
    pass


class ChannelRateLimited(ChannelRequestError):
    def __init__(self, message: str, *, channel: str, retry_after_s: float) -> None:
        super().__init__(message, channel=channel)
        self.retry_after_s = retry_after_s
