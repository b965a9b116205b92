"""Reading one client frame: text in, a request out, or a :class:`PeerProtocolError`.

These functions hold no state; the connection decides *when* each applies
(:func:`read_connect` for the first frame, :func:`read_request` afterwards)
and what the connection's own state adds (rate limits, ids in flight).  The
errors they raise carry the response to send and, during the handshake, the
close code.
"""

from __future__ import annotations

from typing import Any

from gateway.protocol.catalog import METHODS, PROTOCOL_VERSION, Method
from gateway.protocol.codes import CloseCode, ErrorCode
from gateway.protocol.errors import PeerProtocolError
from gateway.protocol.frames import ConnectRequest, MethodCall, decode, recover_request_id
from gateway.protocol.schema import SchemaViolation, params_check, request_check

__all__ = ["handshake_error", "peek_request_id", "read_connect", "read_request"]

_METHODS_BY_NAME = {m.value: m for m in METHODS}
_NOT_CONNECT = "the first frame must be a connect request"


def handshake_error(message: str, request_id: str | None = None) -> PeerProtocolError:
    """A ``protocol_error`` that closes the connection with 4002."""
    return PeerProtocolError(
        ErrorCode.PROTOCOL_ERROR,
        message,
        request_id=request_id,
        close_code=CloseCode.PROTOCOL_ERROR,
    )


def read_connect(text: str, valid_utf8: bool) -> ConnectRequest:
    """The handshake frame: a valid ``connect`` request offering protocol 1."""
    try:
        frame = _decode(text, valid_utf8)
    except PeerProtocolError as exc:
        raise handshake_error(f"{_NOT_CONNECT}; {exc}") from None
    request_id = recover_request_id(frame)
    if (
        type(frame) is not dict
        or frame.get("type") != "req"
        or frame.get("method") != Method.CONNECT.value
    ):
        raise handshake_error(_NOT_CONNECT, request_id)
    violation = _check_envelope(frame) or _check_params(frame["params"], Method.CONNECT)
    if violation is not None:
        raise _invalid(violation, request_id, close_code=CloseCode.PROTOCOL_ERROR)
    assert request_id is not None  # the envelope check guarantees it
    return _connect_request(request_id, frame["params"])


def _connect_request(request_id: str, params: dict[str, Any]) -> ConnectRequest:
    low, high = params["min_protocol"], params["max_protocol"]
    if not low <= PROTOCOL_VERSION <= high:
        raise PeerProtocolError(
            ErrorCode.UNSUPPORTED_PROTOCOL,
            f"this server speaks protocol {PROTOCOL_VERSION}; the client offered {low}..{high}",
            field="params.max_protocol" if high < PROTOCOL_VERSION else "params.min_protocol",
            request_id=request_id,
            close_code=CloseCode.PROTOCOL_ERROR,
        )
    return ConnectRequest(
        request_id=request_id,
        client_name=params["client"]["name"],
        client_version=params["client"]["version"],
        min_protocol=low,
        max_protocol=high,
        token=params["auth"]["token"],
        session=params.get("session"),
    )


def read_request(text: str, valid_utf8: bool) -> MethodCall:
    """A frame after the handshake: a valid request for a method of :data:`METHODS`."""
    frame = _decode(text, valid_utf8)
    request_id = recover_request_id(frame)
    violation = _check_envelope(frame)
    if violation is not None:
        raise _invalid(violation, request_id)
    # The envelope check guarantees both.
    assert type(frame) is dict
    assert request_id is not None
    method = _method(frame["method"], request_id)
    violation = _check_params(frame["params"], method)
    if violation is not None:
        raise _invalid(violation, request_id)
    return MethodCall(request_id, method, frame["params"])


def peek_request_id(text: str, valid_utf8: bool) -> str | None:
    """The frame's request id if one can be read, for answering a frame we will not process."""
    try:
        return recover_request_id(_decode(text, valid_utf8))
    except PeerProtocolError:
        return None


def _decode(text: str, valid_utf8: bool) -> object:
    if not valid_utf8:
        raise PeerProtocolError(ErrorCode.INVALID_FRAME, "frame is not valid UTF-8 text")
    return decode(text)


def _method(name: str, request_id: str) -> Method:
    method = _METHODS_BY_NAME.get(name)
    if method is not None:
        return method
    if name == Method.CONNECT.value:
        code, message = ErrorCode.BAD_REQUEST, "already connected"
    else:
        shown = name if len(name) <= 64 else name[:61] + "..."
        code, message = ErrorCode.UNKNOWN_METHOD, f"unknown method {shown!r}"
    raise PeerProtocolError(code, message, field="method", request_id=request_id)


def _check_envelope(frame: object) -> SchemaViolation | None:
    violation = request_check()(frame)
    return None if violation is None else SchemaViolation.from_violation(violation)


def _check_params(params: object, method: Method) -> SchemaViolation | None:
    violation = params_check(method)(params)
    return None if violation is None else SchemaViolation.from_violation(violation, "params")


def _invalid(
    violation: SchemaViolation, request_id: str | None, close_code: CloseCode | None = None
) -> PeerProtocolError:
    return PeerProtocolError(
        ErrorCode.INVALID_FRAME,
        f"{violation.field or 'frame'}: {violation.message}",
        field=violation.field,
        request_id=request_id,
        close_code=close_code,
    )
