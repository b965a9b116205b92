"""Exceptions of the protocol core.

::

    ProtocolError                 root of this package's exceptions
    ├── PeerProtocolError         the client broke the protocol
    └── LocalProtocolError        we (the server shell) misused the API
        ├── InvalidStateError     a call that the connection's state forbids
        ├── InvalidOutboundError  a frame we were asked to send breaks the schema
        └── SchemaError           a shipped schema file is broken or unsupported

The split follows h11: whatever the *peer* sends never makes the core raise.
:class:`PeerProtocolError` is raised and caught inside ``receive_text()`` and
turned into an error response (and, where documented, a close code); it is
public only so that the shell can recognise it in logs and tests.  The
:class:`LocalProtocolError` family is for bugs on our side and propagates to
the caller.
"""

from __future__ import annotations

from gateway.protocol.codes import CloseCode, ErrorCode

__all__ = [
    "InvalidOutboundError",
    "InvalidStateError",
    "LocalProtocolError",
    "PeerProtocolError",
    "ProtocolError",
    "SchemaError",
]


class ProtocolError(Exception):
    """Root of the protocol core's exceptions."""


class PeerProtocolError(ProtocolError):
    """The client sent something protocol v1 forbids.

    Carries what the error response says (``code``, ``field``), the request id
    when it could be recovered, and the close code when the violation ends the
    connection.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        field: str | None = None,
        request_id: str | None = None,
        close_code: CloseCode | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.request_id = request_id
        self.close_code = close_code


class LocalProtocolError(ProtocolError):
    """The server shell called the core in a way the protocol does not allow."""


class InvalidStateError(LocalProtocolError):
    """The call is not allowed in the connection's current state."""


class InvalidOutboundError(LocalProtocolError):
    """A frame we were asked to send does not match the shipped schemas."""


class SchemaError(LocalProtocolError):
    """A shipped schema file is malformed or uses a keyword the fast validator lacks."""
