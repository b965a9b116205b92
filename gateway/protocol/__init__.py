"""Gateway protocol v1: a sans-I/O core, its JSON Schemas and its vocabulary.

The server shell feeds client text into a :class:`ServerConnection` and writes
out the frames it produces; nothing here does I/O, imports asyncio or knows
about sockets.  The reference for clients is ``docs/reference/protocol.md``
together with the schema files shipped in ``gateway/protocol/schemas/``.
"""

from __future__ import annotations

from gateway.protocol.catalog import (
    CONNECTION_EVENTS,
    EVENTS,
    METHODS,
    PROTOCOL_VERSION,
    SESSION_EVENTS,
    Event,
    Method,
)
from gateway.protocol.codes import CloseCode, ErrorCode
from gateway.protocol.connection import ServerConnection
from gateway.protocol.errors import (
    InvalidOutboundError,
    InvalidStateError,
    LocalProtocolError,
    PeerProtocolError,
    ProtocolError,
    SchemaError,
)
from gateway.protocol.frames import ConnectRequest, Inbound, MethodCall
from gateway.protocol.limits import Limits, ServerInfo
from gateway.protocol.schema import (
    BASE_URI,
    SchemaViolation,
    load_schema,
    schema_documents,
    validate_event,
    validate_frame,
    validate_params,
    validate_result,
)
from gateway.protocol.state import ConnectionState

__all__ = [
    "BASE_URI",
    "CONNECTION_EVENTS",
    "EVENTS",
    "METHODS",
    "PROTOCOL_VERSION",
    "SESSION_EVENTS",
    "CloseCode",
    "ConnectRequest",
    "ConnectionState",
    "ErrorCode",
    "Event",
    "Inbound",
    "InvalidOutboundError",
    "InvalidStateError",
    "Limits",
    "LocalProtocolError",
    "Method",
    "MethodCall",
    "PeerProtocolError",
    "ProtocolError",
    "SchemaError",
    "SchemaViolation",
    "ServerConnection",
    "ServerInfo",
    "load_schema",
    "schema_documents",
    "validate_event",
    "validate_frame",
    "validate_params",
    "validate_result",
]
