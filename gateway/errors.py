"""Exceptions raised by the gateway.

::

    GatewayError                 root: anything the gateway raises on purpose
    ├── ConfigError              the configuration is invalid (the message names the key)
    ├── AuthError                the access token cannot be set up (bad file mode, bind policy)
    ├── StoreError               the state database is unusable
    └── SessionError             a session request cannot be honoured
        ├── UnknownSession       no such session for this principal
        ├── QueueFull            the session's queue is at its limit (retryable)
        └── KeyReused            an idempotency key came back with another message

Protocol violations by a peer are not exceptions: the protocol core answers
them with error frames (see ``gateway.protocol``).
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConfigError",
    "GatewayError",
    "KeyReused",
    "QueueFull",
    "SessionError",
    "StoreError",
    "UnknownSession",
]


class GatewayError(Exception):
    """Root of the gateway's exceptions."""


class ConfigError(GatewayError):
    pass


class AuthError(GatewayError):
    pass


class StoreError(GatewayError):
    pass


class SessionError(GatewayError):
    def __init__(self, message: str, *, session: str | None = None) -> None:
        super().__init__(message)
        self.session = session


class UnknownSession(SessionError):
    pass


class QueueFull(SessionError):
    pass


class KeyReused(SessionError):
    pass
