"""Frames on the wire: decoding client text, encoding server frames.

The inbound side turns hostile text into a Python value or a
:class:`PeerProtocolError`, never anything else:

* deep nesting (``RecursionError``), digit strings longer than Python's
  int-conversion limit, ``NaN``/``Infinity`` and malformed JSON are all
  "invalid JSON";
* an integral float (``1.0``, ``1e2``) decodes as an ``int``: JSON Schema
  counts it as an integer, and the shell should never see a float where the
  schema promises an integer;
* strings holding an unpaired UTF-16 surrogate (``"\\ud800"``) are refused,
  because they cannot be encoded as UTF-8 and so could not be stored or echoed.

The outbound side always produces compact JSON that is valid UTF-8.

:class:`ConnectRequest` and :class:`MethodCall` are what
``ServerConnection.events_received()`` returns.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from gateway.protocol._compile import render_path
from gateway.protocol.catalog import Method
from gateway.protocol.codes import ErrorCode
from gateway.protocol.errors import PeerProtocolError

__all__ = [
    "ConnectRequest",
    "Inbound",
    "MethodCall",
    "decode",
    "encode",
    "error_frame",
    "event_frame",
    "recover_request_id",
    "result_frame",
    "utf8_size",
]


@dataclass(frozen=True, slots=True)
class ConnectRequest:
    """The client's valid ``connect`` request, waiting for ``accept()`` or a rejection.

    ``token`` is kept out of ``repr`` so that it never reaches a log line.
    """

    request_id: str
    client_name: str
    client_version: str
    min_protocol: int
    max_protocol: int
    token: str = field(repr=False)
    session: str | None = None


@dataclass(frozen=True, slots=True)
class MethodCall:
    """A valid request after the handshake; answer it with ``send_result``/``send_error``.

    ``params`` has already been checked against the method's params schema, so
    the keys and value types it promises are there.
    """

    request_id: str
    method: Method
    params: dict[str, Any]


Inbound = ConnectRequest | MethodCall
"""What ``ServerConnection.events_received()`` returns."""


def _parse_float(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() else value


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_float=_parse_float, parse_constant=_reject_constant)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_ASCII_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False)
# A \uD800-\uDFFF escape: the only way a surrogate gets into a decoded string.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_MAX_ID_LENGTH = 128


def utf8_size(text: str) -> tuple[int, bool]:
    """``(bytes, valid)``: the UTF-8 size of ``text`` and whether it is valid UTF-8."""
    if text.isascii():
        return len(text), True
    try:
        return len(text.encode("utf-8")), True
    except UnicodeEncodeError:
        return len(text.encode("utf-8", "surrogatepass")), False


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _find_surrogate(value: object) -> list[str | int] | None:
    """Path (innermost first) to a string or key with a lone surrogate, if any."""
    stack: list[tuple[object, list[str | int]]] = [(value, [])]
    while stack:  # iterative: the value may be nested up to the decoder's limit
        item, path = stack.pop()
        if type(item) is str:
            if not _encodable(item):
                return path
        elif type(item) is dict:
            for key, child in item.items():
                if not _encodable(key):
                    return [key, *path]
                stack.append((child, [key, *path]))
        elif type(item) is list:
            stack.extend((child, [index, *path]) for index, child in enumerate(item))
    return None


def decode(text: str) -> object:
    """Parse one client frame; raise :class:`PeerProtocolError` (``invalid_frame``) if unusable."""
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise _invalid(f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise _invalid("invalid JSON: nested too deeply") from None
    except ValueError as exc:  # NaN/Infinity, or more digits than int() accepts
        raise _invalid(f"invalid JSON: {str(exc)[:80]}") from None
    if _SURROGATE_ESCAPE.search(text) is not None:
        path = _find_surrogate(value)
        if path is not None:
            where = render_path(path)
            raise _invalid(
                f"{where or 'frame'}: string contains an unpaired UTF-16 surrogate",
                field=where or None,
                request_id=recover_request_id(value),
            )
    return value


def _invalid(message: str, **details: Any) -> PeerProtocolError:
    return PeerProtocolError(ErrorCode.INVALID_FRAME, message, **details)


def recover_request_id(frame: object) -> str | None:
    """The frame's ``id`` if it is usable in a response, else ``None`` (answered as ``null``)."""
    if type(frame) is not dict:
        return None
    request_id = frame.get("id")
    if type(request_id) is not str or not 1 <= len(request_id) <= _MAX_ID_LENGTH:
        return None
    return request_id if _encodable(request_id) else None


def encode(frame: dict[str, Any]) -> str:
    """Compact JSON text that is always valid UTF-8.

    Raises ``TypeError``/``ValueError`` for values JSON cannot carry (the
    caller's bug).  A stray lone surrogate in server data is escaped rather
    than producing text the transport could not encode.
    """
    text = _ENCODER.encode(frame)
    if not _encodable(text):
        text = _ASCII_ENCODER.encode(frame)
    return text


def result_frame(request_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"type": "res", "id": request_id, "ok": True, "payload": payload}


def error_frame(
    request_id: str | None,
    code: ErrorCode,
    message: str,
    *,
    retryable: bool,
    retry_after_ms: int | None = None,
    field: str | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code.value, "message": message, "retryable": retryable}
    if retry_after_ms is not None:
        error["retry_after_ms"] = retry_after_ms
    if field is not None:
        error["field"] = field
    return {"type": "res", "id": request_id, "ok": False, "error": error}


def event_frame(name: str, payload: dict[str, Any], seq: int | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "event", "event": name, "payload": payload}
    if seq is not None:
        frame["seq"] = seq
    return frame
