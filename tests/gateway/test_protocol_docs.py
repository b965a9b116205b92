"""docs/reference/protocol.md cannot drift: its example frames validate against the shipped
schemas, and the frames the core produces itself match the examples word for word."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gateway.protocol import (
    EVENTS,
    METHODS,
    CloseCode,
    ConnectRequest,
    ErrorCode,
    Limits,
    MethodCall,
    ServerConnection,
    ServerInfo,
    validate_frame,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "protocol.md"
TEXT = DOC.read_text(encoding="utf-8")
FENCE = re.compile(
    r"^(?P<indent>[ ]*)```json (?P<tag>client|server)(?: (?P<extra>\S+))?\n"
    r"(?P<body>.*?)^(?P=indent)```",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class Example:
    line: int
    side: str
    extra: str | None
    frame: dict[str, Any]

    def __str__(self) -> str:
        return f"protocol.md:{self.line}"


def _examples() -> list[Example]:
    found = []
    for match in FENCE.finditer(TEXT):
        indent = match["indent"]
        body = "\n".join(line.removeprefix(indent) for line in match["body"].splitlines())
        line = TEXT.count("\n", 0, match.start()) + 1
        found.append(Example(line, match["tag"], match["extra"], json.loads(body)))
    return found


EXAMPLES = _examples()
CLIENT = [e for e in EXAMPLES if e.side == "client"]
SERVER = [e for e in EXAMPLES if e.side == "server"]


def _error_example(code: str) -> dict[str, Any]:
    [frame] = [
        e.frame for e in SERVER if e.frame.get("ok") is False and e.frame["error"]["code"] == code
    ]
    return frame


def test_the_reference_has_examples_of_everything() -> None:
    assert len(CLIENT) >= 12
    shown_results = {e.extra for e in SERVER if e.extra}
    assert shown_results == {"connect", *METHODS}
    shown_events = {e.frame["event"] for e in SERVER if e.frame["type"] == "event"}
    assert shown_events == set(EVENTS)


@pytest.mark.parametrize("example", CLIENT, ids=str)
def test_client_examples_validate(example: Example) -> None:
    violation = validate_frame("client", example.frame)
    if example.extra == "invalid":
        assert violation is not None
    else:
        assert example.extra is None
        assert violation is None, violation


@pytest.mark.parametrize("example", SERVER, ids=str)
def test_server_examples_validate(example: Example) -> None:
    violation = validate_frame("server", example.frame, method=example.extra)
    assert violation is None, violation
    if example.extra is not None:
        assert example.frame["ok"] is True


def _connection() -> ServerConnection:
    conn = ServerConnection(
        server=ServerInfo("skillyard", "0.1.0"),
        limits=Limits(),
        clock=lambda: 0.0,
        wall_clock=lambda: 1_767_225_600.0,
        validate_outbound=True,
    )
    conn.start()
    conn.data_to_send()
    return conn


def _handshake(conn: ServerConnection) -> tuple[dict[str, Any], dict[str, Any]]:
    [connect] = [e for e in CLIENT if e.frame["method"] == "connect"]
    conn.receive_text(json.dumps(connect.frame))
    [request] = conn.events_received()
    assert isinstance(request, ConnectRequest)
    assert request.session is not None
    conn.accept(request, principal="owner", session=request.session)
    [result] = conn.data_to_send()
    [documented] = [e.frame for e in SERVER if e.extra == "connect"]
    return json.loads(result), documented


def test_the_connect_result_example_is_what_the_core_sends_by_default() -> None:
    sent, documented = _handshake(_connection())
    assert sent == documented


def test_client_examples_through_the_core_get_the_documented_answers() -> None:
    conn = _connection()
    _handshake(conn)
    for example in CLIENT:
        if example.frame["method"] == "connect":
            continue
        conn.receive_text(json.dumps(example.frame))
        answers = [json.loads(text) for text in conn.data_to_send()]
        calls = conn.events_received()
        if answers:
            # The core answered by itself: the next block in the doc shows that answer.
            following = EXAMPLES[EXAMPLES.index(example) + 1]
            assert following.side == "server", example
            assert answers == [following.frame], example
        else:
            [call] = calls
            assert isinstance(call, MethodCall)
            conn.send_error(call.request_id, ErrorCode.INTERNAL, "not under test")
            conn.data_to_send()


def test_handshake_error_examples_match_the_core() -> None:
    conn = _connection()
    [connect] = [e for e in CLIENT if e.frame["method"] == "connect"]
    conn.receive_text(json.dumps(connect.frame))
    [request] = conn.events_received()
    assert isinstance(request, ConnectRequest)
    conn.reject_unauthorized(request)
    assert [json.loads(t) for t in conn.data_to_send()] == [_error_example("unauthorized")]

    conn = _connection()
    frame = json.loads(json.dumps(connect.frame))
    frame["params"].update(min_protocol=2, max_protocol=3)
    conn.receive_text(json.dumps(frame))
    assert [json.loads(t) for t in conn.data_to_send()] == [_error_example("unsupported_protocol")]

    now = [0.0]
    conn = ServerConnection(server=ServerInfo("skillyard", "0.1.0"), clock=lambda: now[0])
    conn.start()
    conn.data_to_send()
    now[0] = 10.0
    conn.check_timeouts()
    assert [json.loads(t) for t in conn.data_to_send()] == [_error_example("protocol_error")]


def test_rate_limited_example_matches_the_core() -> None:
    conn = _connection()
    _handshake(conn)
    documented = _error_example("rate_limited")
    for index in range(Limits().burst):
        conn.receive_text(
            json.dumps({"type": "req", "id": f"x{index}", "method": "health", "params": {}})
        )
    conn.receive_text(
        json.dumps({"type": "req", "id": documented["id"], "method": "health", "params": {}})
    )
    assert [json.loads(t) for t in conn.data_to_send()] == [documented]


def test_every_method_has_a_section() -> None:
    for method in METHODS:
        assert f"\n### `{method}`\n" in TEXT, method


def test_every_event_error_code_and_close_code_is_in_its_table() -> None:
    for event in EVENTS:
        assert f"\n| `{event}` |" in TEXT, event
    for code in ErrorCode:
        assert f"\n| `{code.value}` |" in TEXT, code
    for close in CloseCode:
        assert f"\n| {close.value} |" in TEXT, close
