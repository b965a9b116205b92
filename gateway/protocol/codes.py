"""Error codes (inside error responses) and close codes (on the WebSocket).

Both sets are closed and documented in ``docs/reference/protocol.md``; the
schemas list the same error codes (``common.json#/$defs/error_code``) and a
test keeps the three in agreement.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

__all__ = ["CLOSE_REASON_MAX_BYTES", "CloseCode", "ErrorCode"]

# RFC 6455 §5.5: a control frame carries at most 125 bytes of payload, two of
# which hold the close code, so a close reason is at most 123 bytes of UTF-8.
CLOSE_REASON_MAX_BYTES = 123


class ErrorCode(StrEnum):
    """``error.code`` of a failed response: what the client should do next."""

    UNAUTHORIZED = "unauthorized"
    PROTOCOL_ERROR = "protocol_error"
    UNSUPPORTED_PROTOCOL = "unsupported_protocol"
    INVALID_FRAME = "invalid_frame"
    UNKNOWN_METHOD = "unknown_method"
    RATE_LIMITED = "rate_limited"
    NOT_FOUND = "not_found"
    BAD_REQUEST = "bad_request"
    CONFLICT = "conflict"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"

    @property
    def retryable(self) -> bool:
        """Whether repeating the same request later may succeed (the default of ``retryable``)."""
        return self in _RETRYABLE


_RETRYABLE = frozenset({ErrorCode.RATE_LIMITED, ErrorCode.UNAVAILABLE})


class CloseCode(IntEnum):
    """WebSocket close codes the gateway uses (RFC 6455 §7.4; 4000-4999 are ours)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011
    UNAUTHORIZED = 4001
    PROTOCOL_ERROR = 4002
    SLOW_CONSUMER = 4008
