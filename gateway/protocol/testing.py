"""Test support: check both directions of a conversation against the schemas.

Meant for our tests and for third-party client authors::

    checker = FrameChecker()
    checker.client(text_sent)        # every frame the client sends
    checker.server(text_received)    # every frame the server sends

Each call returns the decoded frame and raises ``AssertionError`` naming the
offending field when a frame breaks ``frame-client.json`` /
``frame-server.json``.  The checker remembers which method each request id
called, so a successful response is also checked against that method's result
schema.  It uses ``jsonschema`` for server frames and is far too slow for
production traffic.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gateway.protocol.catalog import Method
from gateway.protocol.schema import validate_frame

__all__ = ["FrameChecker"]

_KNOWN_METHODS = frozenset(m.value for m in Method)


def _decoded(frame: str | Mapping[str, Any]) -> dict[str, Any]:
    value = json.loads(frame) if isinstance(frame, str) else dict(frame)
    if not isinstance(value, dict):
        raise AssertionError(f"a frame must be a JSON object, got {value!r:.200}")
    return value


class FrameChecker:
    def __init__(self) -> None:
        self._methods: dict[str, str] = {}
        self.server_frames: list[dict[str, Any]] = []
        """Every server frame checked so far, decoded, in order."""

    def client(self, frame: str | Mapping[str, Any]) -> dict[str, Any]:
        decoded = _decoded(frame)
        violation = validate_frame("client", decoded)
        if violation is not None:
            raise AssertionError(f"client frame breaks frame-client.json: {violation}: {decoded}")
        self._methods[decoded["id"]] = decoded["method"]
        return decoded

    def server(self, frame: str | Mapping[str, Any]) -> dict[str, Any]:
        decoded = _decoded(frame)
        method = None
        if decoded.get("type") == "res" and isinstance(decoded.get("id"), str):
            method = self._methods.pop(decoded["id"], None)
        if method not in _KNOWN_METHODS:
            method = None
        violation = validate_frame("server", decoded, method=method)
        if violation is not None:
            raise AssertionError(f"server frame breaks the schemas: {violation}: {decoded}")
        self.server_frames.append(decoded)
        return decoded
