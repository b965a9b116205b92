"""Hostile input: whatever a client sends, the core answers with documented errors and never
raises; every frame it sends matches the server schemas."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.protocol import (
    CloseCode,
    ConnectionState,
    ConnectRequest,
    ErrorCode,
    Limits,
    MethodCall,
    ServerConnection,
    ServerInfo,
    validate_frame,
)
from gateway.protocol.testing import FrameChecker

SESSION = "web:owner:main"
CONNECT = json.dumps(
    {
        "type": "req",
        "id": "c1",
        "method": "connect",
        "params": {
            "min_protocol": 1,
            "max_protocol": 1,
            "client": {"name": "fuzz", "version": "1"},
            "auth": {"token": "t"},
        },
    }
)
# Generous rate limits: these tests are about content, not flooding.
LIMITS = Limits(rate_per_sec=1_000_000, burst=1_000_000, max_frame_bytes=65_536)
ANSWERABLE = {"invalid_frame", "unknown_method", "bad_request"}


def new_connection(*, connected: bool) -> ServerConnection:
    conn = ServerConnection(
        server=ServerInfo("skillyard", "0.1.0"),
        limits=LIMITS,
        clock=lambda: 0.0,
        wall_clock=lambda: 0.0,
        nonce="n",
        validate_outbound=True,
    )
    conn.start()
    if connected:
        conn.receive_text(CONNECT)
        [request] = conn.events_received()
        assert isinstance(request, ConnectRequest)
        conn.accept(request, principal="owner", session=SESSION)
    conn.data_to_send()
    return conn


def sent(conn: ServerConnection) -> list[dict[str, Any]]:
    checker = FrameChecker()
    return [checker.server(text) for text in conn.data_to_send()]


def assert_answered_after_connect(conn: ServerConnection, text: str) -> None:
    """One input → exactly one of: a MethodCall, one documented error, or close 1009."""
    conn.receive_text(text)
    frames, calls = sent(conn), conn.events_received()
    if conn.close_code is CloseCode.MESSAGE_TOO_BIG:
        assert (frames, calls) == ([], [])
        return
    assert conn.state is ConnectionState.CONNECTED
    if calls:
        [call] = calls
        assert isinstance(call, MethodCall)
        assert frames == []
        assert validate_frame("client", json.loads(text)) is None
        conn.send_error(call.request_id, ErrorCode.BAD_REQUEST, "fuzz")
        sent(conn)
    else:
        [frame] = frames
        assert frame["ok"] is False
        assert frame["error"]["code"] in ANSWERABLE


def assert_refused_before_connect(conn: ServerConnection, text: str) -> None:
    conn.receive_text(text)
    frames, calls = sent(conn), conn.events_received()
    if calls:  # a valid connect frame, by chance
        assert isinstance(calls[0], ConnectRequest)
        return
    assert conn.close_code in {CloseCode.PROTOCOL_ERROR, CloseCode.MESSAGE_TOO_BIG}
    if conn.close_code is CloseCode.PROTOCOL_ERROR:
        [frame] = frames
        assert frame["error"]["code"] in {"protocol_error", "invalid_frame", "unsupported_protocol"}


HOSTILE = [
    "[" * 100_000,
    "{" * 50_000,
    '{"a":' * 20_000 + "1" + "}" * 20_000,
    "[" * 900 + "]" * 900,
    "1" * 5000,
    '{"type":"req","id":"r","method":"sessions.list","params":{"limit":' + "9" * 4500 + "}}",
    '{"type":"req","id":"r","method":"sessions.list","params":{"limit":1e999}}',
    '{"type":"req","id":"r","method":"sessions.list","params":{"limit":-1e999}}',
    '{"type":"req","id":"r","method":"sessions.list","params":{"limit":NaN}}',
    '{"type":"req","id":"r","method":"sessions.list","params":{"limit":Infinity}}',
    '{"type":"req","id":"r","method":"sessions.list","params":{"limit":1e-400}}',
    '{"type":"req","id":"r","method":"sessions.list","params":{"limit":5.000000000000001}}',
    '{"type":"req","id":"\\ud800","method":"health","params":{}}',
    '{"type":"req","id":"r","method":"health","params":{"\\udfff":1}}',
    '{"type":"req","id":"r","method":"health\\u0000","params":{}}',
    '{"type":"req","id":"r","method":"health","params":{}}\x00',
    '{"type":"req","id":"r","method":"health","params":{}} {}',
    '{"type":"req","id":"r","method":"health","params":{},"params":[]}',
    '{"type":"req","id":"r","method":"' + "m" * 10_000 + '","params":{}}',
    '{"type":"req","id":"r","method":"health","params":{"' + "k" * 10_000 + '":1}}',
    "\ufeff{}",
    "\ud800",
    "\x00",
    "   ",
    "true",
    '"\\ud83d"',
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_frames_after_connect_are_answered(text: str) -> None:
    assert_answered_after_connect(new_connection(connected=True), text)


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_first_frames_close_the_connection(text: str) -> None:
    assert_refused_before_connect(new_connection(connected=False), text)


def test_deep_nesting_is_reported_as_invalid_json() -> None:
    conn = new_connection(connected=True)
    conn.receive_text("[" * 50_000)
    [frame] = sent(conn)
    assert frame["error"]["message"] == "invalid JSON: nested too deeply"


def test_long_unexpected_keys_are_shortened_in_the_answer() -> None:
    conn = new_connection(connected=True)
    key = "k" * 10_000
    conn.receive_text(
        json.dumps({"type": "req", "id": "r", "method": "health", "params": {key: 1}})
    )
    [frame] = sent(conn)
    assert len(frame["error"]["field"]) < 100
    assert len(frame["error"]["message"]) < 200


def test_surrogate_deep_inside_params_is_found_without_recursion() -> None:
    conn = new_connection(connected=True)
    nested = "[" * 500 + '"\\udc00"' + "]" * 500
    conn.receive_text('{"type":"req","id":"r","method":"health","params":{"x":' + nested + "}}")
    [frame] = sent(conn)
    assert frame["id"] == "r"
    assert "surrogate" in frame["error"]["message"]
    assert len(frame["error"]["field"]) <= 256


# Surrogates included: a shell could hand us a str that was never valid UTF-8.
ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=300)
JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(alphabet=st.characters(exclude_categories=()), max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
REQUEST_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["req", "res", "event"]) | JSON_VALUES,
        "id": st.text(max_size=130) | JSON_VALUES,
        "method": st.sampled_from(["chat.send", "health", "sessions.list", "connect"])
        | JSON_VALUES,
        "params": st.dictionaries(
            st.sampled_from(["text", "idempotency_key", "session", "limit", "x"]),
            JSON_VALUES,
            max_size=4,
        )
        | JSON_VALUES,
    },
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(text=ANY_TEXT)
def test_any_text_after_connect(text: str) -> None:
    assert_answered_after_connect(new_connection(connected=True), text)


@SETTINGS
@given(text=ANY_TEXT)
def test_any_text_as_first_frame(text: str) -> None:
    assert_refused_before_connect(new_connection(connected=False), text)


@SETTINGS
@given(value=JSON_VALUES, ascii_only=st.booleans())
def test_any_json_after_connect(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert_answered_after_connect(new_connection(connected=True), text)


@SETTINGS
@given(frame=REQUEST_LIKE, ascii_only=st.booleans())
def test_request_shaped_json_after_connect(frame: dict[str, Any], ascii_only: bool) -> None:
    text = json.dumps(frame, ensure_ascii=ascii_only)
    assert_answered_after_connect(new_connection(connected=True), text)


@SETTINGS
@given(frames=st.lists(REQUEST_LIKE.map(json.dumps) | ANY_TEXT, min_size=1, max_size=15))
def test_a_stream_of_garbage_never_breaks_the_connection(frames: list[str]) -> None:
    conn = new_connection(connected=True)
    for text in frames:
        assert_answered_after_connect(conn, text)
    conn.receive_text(json.dumps({"type": "req", "id": "last", "method": "health", "params": {}}))
    [call] = conn.events_received()
    assert isinstance(call, MethodCall)
    assert call.request_id == "last"
