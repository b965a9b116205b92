"""Behaviour of the sans-I/O protocol core: feed frames in, check the frames that come out.

Every connection here is built with ``validate_outbound=True`` and every frame
it emits goes through :class:`FrameChecker`, so each test also checks that all
outbound frames match the shipped server schemas (results against the result
schema of the method they answer).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import gateway.protocol as protocol
from gateway.protocol import (
    EVENTS,
    METHODS,
    PROTOCOL_VERSION,
    CloseCode,
    ConnectionState,
    ConnectRequest,
    ErrorCode,
    InvalidOutboundError,
    InvalidStateError,
    Limits,
    LocalProtocolError,
    MethodCall,
    ServerConnection,
    ServerInfo,
    validate_frame,
)
from gateway.protocol.state import TRANSITIONS, StateMachine, Trigger
from gateway.protocol.testing import FrameChecker

ROOT = Path(__file__).resolve().parents[2]
SERVER = ServerInfo(name="skillyard", version="0.1.0")
WALL = 1_767_225_600.0
WALL_MS = 1_767_225_600_000
SESSION = "web:owner:main"


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Peer:
    """A scripted client in front of one ServerConnection."""

    def __init__(self, **limits: int) -> None:
        self.clock = FakeClock()
        self.conn = ServerConnection(
            server=SERVER,
            limits=Limits(**limits),
            clock=self.clock,
            wall_clock=lambda: WALL,
            nonce="nonce-1",
            validate_outbound=True,
        )
        self.checker = FrameChecker()
        self.conn.start()

    def send(self, frame: dict[str, Any] | str) -> None:
        if isinstance(frame, dict) and validate_frame("client", frame) is None:
            self.checker.client(frame)
        self.conn.receive_text(frame if isinstance(frame, str) else json.dumps(frame))

    def frames(self) -> list[dict[str, Any]]:
        return [self.checker.server(text) for text in self.conn.data_to_send()]

    def connect(self, **params: Any) -> ConnectRequest:
        self.frames()  # the challenge
        self.send(connect_frame(**params))
        [request] = self.conn.events_received()
        assert isinstance(request, ConnectRequest)
        return request

    def handshake(self) -> None:
        self.conn.accept(self.connect(), principal="owner", session=SESSION)
        self.frames()

    def call(self, method: str, params: dict[str, Any], rid: str = "r1") -> list[dict[str, Any]]:
        self.send({"type": "req", "id": rid, "method": method, "params": params})
        return self.frames()


def state_of(conn: ServerConnection) -> ConnectionState:
    """The state, read through a call so that mypy does not narrow it between steps."""
    return conn.state


def close_of(conn: ServerConnection) -> CloseCode | None:
    return conn.close_code


def connect_frame(**params: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "min_protocol": 1,
        "max_protocol": 1,
        "client": {"name": "pytest", "version": "1.0"},
        "auth": {"token": "s3cret"},
    }
    base.update(params)
    return {"type": "req", "id": "c1", "method": "connect", "params": base}


def chat_send(rid: str = "r1", **params: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"text": "hello", "idempotency_key": f"key-{rid}"}
    base.update(params)
    return {"type": "req", "id": rid, "method": "chat.send", "params": base}


def error_of(frame: dict[str, Any]) -> dict[str, Any]:
    assert frame["type"] == "res"
    assert frame["ok"] is False
    error: dict[str, Any] = frame["error"]
    return error


@pytest.fixture
def peer() -> Peer:
    p = Peer()
    p.handshake()
    return p


# --- handshake ---------------------------------------------------------------------------


def test_start_sends_the_challenge_first() -> None:
    p = Peer()
    assert state_of(p.conn) is ConnectionState.CHALLENGED
    assert p.frames() == [
        {
            "type": "event",
            "event": "connect.challenge",
            "payload": {"nonce": "nonce-1", "ts": WALL_MS},
        }
    ]


def test_happy_handshake() -> None:
    p = Peer()
    request = p.connect(session="web:owner:other")
    assert request == ConnectRequest(
        request_id="c1",
        client_name="pytest",
        client_version="1.0",
        min_protocol=1,
        max_protocol=1,
        token="s3cret",
        session="web:owner:other",
    )
    assert state_of(p.conn) is ConnectionState.AUTHENTICATING
    assert p.frames() == []

    p.conn.accept(request, principal="owner", session="web:owner:other")

    assert state_of(p.conn) is ConnectionState.CONNECTED
    assert (p.conn.principal, p.conn.session) == ("owner", "web:owner:other")
    [result] = p.frames()
    assert result == {
        "type": "res",
        "id": "c1",
        "ok": True,
        "payload": {
            "protocol": PROTOCOL_VERSION,
            "server": {"name": "skillyard", "version": "0.1.0"},
            "session": "web:owner:other",
            "limits": {
                "max_frame_bytes": 1_048_576,
                "rate_per_sec": 20,
                "burst": 40,
                "max_pending_events": 1024,
                "tick_interval_ms": 15_000,
            },
            "features": {"methods": list(METHODS), "events": list(EVENTS)},
        },
    }
    assert "connect" not in result["payload"]["features"]["methods"]


def test_connect_request_keeps_the_token_out_of_repr() -> None:
    request = Peer().connect()
    assert "s3cret" not in repr(request)
    assert request.token == "s3cret"


def test_wrong_token_is_answered_unauthorized_then_closed_4001() -> None:
    p = Peer()
    p.conn.reject_unauthorized(p.connect())
    [frame] = p.frames()
    assert frame["id"] == "c1"
    assert error_of(frame) == {
        "code": "unauthorized",
        "message": "invalid token",
        "retryable": False,
    }
    assert close_of(p.conn) is CloseCode.UNAUTHORIZED
    assert state_of(p.conn) is ConnectionState.CLOSING


def test_shell_can_refuse_a_handshake_as_unavailable() -> None:
    p = Peer()
    p.conn.reject(
        p.connect(), ErrorCode.UNAVAILABLE, "shutting down", close_code=CloseCode.GOING_AWAY
    )
    [frame] = p.frames()
    assert error_of(frame)["code"] == "unavailable"
    assert error_of(frame)["retryable"] is True
    assert close_of(p.conn) is CloseCode.GOING_AWAY


@pytest.mark.parametrize(
    ("first", "expected_id"),
    [
        (json.dumps({"type": "req", "id": "h1", "method": "health", "params": {}}), "h1"),
        (json.dumps({"type": "event", "event": "tick", "payload": {"ts": 1}}), None),
        (json.dumps({"type": "res", "id": "x", "ok": True, "payload": {}}), "x"),
        (json.dumps({"id": "c1", "method": "connect", "params": {}}), "c1"),
        ("{not json", None),
        ("", None),
        ("[1, 2]", None),
        ('"connect"', None),
        ("null", None),
        ("\ud800", None),
    ],
    ids=[
        "other-method",
        "event",
        "response",
        "no-type",
        "invalid-json",
        "empty",
        "array",
        "string",
        "null",
        "lone-surrogate",
    ],
)
def test_first_frame_that_is_not_connect_closes_4002(first: str, expected_id: str | None) -> None:
    p = Peer()
    p.frames()
    p.conn.receive_text(first)
    [frame] = p.frames()
    assert frame["id"] == expected_id
    error = error_of(frame)
    assert error["code"] == "protocol_error"
    assert error["message"].startswith("the first frame must be a connect request")
    assert close_of(p.conn) is CloseCode.PROTOCOL_ERROR
    assert p.conn.events_received() == []


def test_binary_first_frame_closes_4002() -> None:
    p = Peer()
    p.frames()
    p.conn.receive_binary(b'{"type":"req"}')
    [frame] = p.frames()
    assert error_of(frame)["code"] == "protocol_error"
    assert close_of(p.conn) is CloseCode.PROTOCOL_ERROR


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"auth": None}, "params.auth"),
        ({"auth": {}}, "params.auth.token"),
        ({"client": {"name": "", "version": "1"}}, "params.client.name"),
        ({"client": {"name": "x" * 65, "version": "1"}}, "params.client.name"),
        ({"min_protocol": "1"}, "params.min_protocol"),
        ({"min_protocol": 0}, "params.min_protocol"),
        ({"session": ""}, "params.session"),
        ({"extra": True}, "params.extra"),
    ],
)
def test_connect_that_breaks_its_schema_names_the_field_and_closes_4002(
    params: dict[str, Any], field: str
) -> None:
    p = Peer()
    p.frames()
    frame = connect_frame(**params)
    frame["params"] = {k: v for k, v in frame["params"].items() if v is not None}
    p.send(frame)
    [answer] = p.frames()
    error = error_of(answer)
    assert answer["id"] == "c1"
    assert (error["code"], error["field"]) == ("invalid_frame", field)
    assert error["message"].startswith(f"{field}: ")
    assert close_of(p.conn) is CloseCode.PROTOCOL_ERROR


@pytest.mark.parametrize(("low", "high"), [(2, 3), (2, 2), (3, 1)])
def test_protocol_range_without_1_is_unsupported(low: int, high: int) -> None:
    p = Peer()
    p.frames()
    p.send(connect_frame(min_protocol=low, max_protocol=high))
    [frame] = p.frames()
    error = error_of(frame)
    assert error["code"] == "unsupported_protocol"
    assert f"offered {low}..{high}" in error["message"]
    assert close_of(p.conn) is CloseCode.PROTOCOL_ERROR
    assert p.conn.events_received() == []


def test_protocol_range_around_1_is_accepted() -> None:
    request = Peer().connect(min_protocol=1, max_protocol=5)
    assert (request.min_protocol, request.max_protocol) == (1, 5)


def test_frames_before_the_connect_response_close_4002() -> None:
    p = Peer()
    request = p.connect()
    p.send(chat_send())
    [frame] = p.frames()
    assert error_of(frame)["code"] == "protocol_error"
    assert close_of(p.conn) is CloseCode.PROTOCOL_ERROR
    # The shell's late decision is a harmless no-op on a closing connection.
    p.conn.accept(request, principal="owner", session=SESSION)
    assert p.frames() == []
    assert state_of(p.conn) is ConnectionState.CLOSING


def test_connect_timeout_closes_4002_with_a_protocol_error() -> None:
    p = Peer(connect_timeout_ms=2000)
    p.frames()
    assert p.conn.connect_deadline == pytest.approx(502.0)
    p.clock.advance(1.999)
    p.conn.check_timeouts()
    assert p.frames() == []
    assert close_of(p.conn) is None

    p.clock.advance(0.001)
    p.conn.check_timeouts()

    [frame] = p.frames()
    assert frame["id"] is None
    assert error_of(frame) == {
        "code": "protocol_error",
        "message": "no connect frame within 2000 ms",
        "retryable": False,
    }
    assert close_of(p.conn) is CloseCode.PROTOCOL_ERROR
    assert p.conn.close_reason == "no connect frame within 2000 ms"


def test_no_connect_timeout_once_the_connect_frame_arrived() -> None:
    p = Peer(connect_timeout_ms=1000)
    p.connect()
    assert p.conn.connect_deadline is None
    p.clock.advance(60)
    p.conn.check_timeouts()
    assert close_of(p.conn) is None


def test_handshake_frames_are_limited_to_max_handshake_frame_bytes() -> None:
    p = Peer(max_handshake_frame_bytes=300)
    p.frames()
    p.send(connect_frame(auth={"token": "t" * 400}))
    assert p.frames() == []
    assert close_of(p.conn) is CloseCode.MESSAGE_TOO_BIG


# --- requests after the handshake --------------------------------------------------------


def test_valid_request_becomes_a_method_call(peer: Peer) -> None:
    peer.send(chat_send(session=SESSION, queue_mode="collect"))
    assert peer.frames() == []
    [call] = peer.conn.events_received()
    assert call == MethodCall(
        request_id="r1",
        method=protocol.Method.CHAT_SEND,
        params={
            "text": "hello",
            "idempotency_key": "key-r1",
            "session": SESSION,
            "queue_mode": "collect",
        },
    )
    assert call.method == "chat.send"
    assert peer.conn.awaiting_response == {"r1"}


def test_every_method_accepts_its_documented_params(peer: Peer) -> None:
    examples: dict[str, dict[str, Any]] = {
        "chat.send": {"text": "hi", "idempotency_key": "k"},
        "chat.abort": {"session": SESSION, "run_id": "run1"},
        "sessions.list": {"limit": 200},
        "sessions.history": {"session": SESSION, "limit": 500, "before_seq": 3},
        "sessions.subscribe": {"session": SESSION, "after_seq": 0},
        "sessions.unsubscribe": {"session": SESSION},
        "sessions.new": {},
        "skills.list": {},
        "approval.resolve": {"request_id": "apr1", "decision": "deny"},
        "health": {},
    }
    assert set(examples) == set(METHODS)
    for index, (method, params) in enumerate(examples.items()):
        assert peer.call(method, params, rid=f"m{index}") == []
    calls = peer.conn.events_received()
    assert [c.method for c in calls if isinstance(c, MethodCall)] == list(examples)


def test_invalid_json_after_connect_is_answered_and_the_connection_stays_usable(
    peer: Peer,
) -> None:
    peer.send('{"type": "req", "id": "r1", ')
    [frame] = peer.frames()
    assert frame["id"] is None
    error = error_of(frame)
    assert error["code"] == "invalid_frame"
    assert error["message"].startswith("invalid JSON: ")
    assert state_of(peer.conn) is ConnectionState.CONNECTED

    peer.send(chat_send("r2"))
    [call] = peer.conn.events_received()
    assert isinstance(call, MethodCall)
    assert call.request_id == "r2"


@pytest.mark.parametrize(
    ("frame", "field", "message"),
    [
        (chat_send(text=5), "params.text", "expected string, got integer"),
        (chat_send(text=""), "params.text", "must not be empty"),
        (chat_send(text="x" * 32769), "params.text", "must be at most 32768 characters"),
        (chat_send(text=None), "params.text", "expected string, got null"),
        (chat_send(idempotency_key="k" * 129), "params.idempotency_key", "at most 128"),
        (chat_send(queue_mode="later"), "params.queue_mode", 'one of "followup", "collect"'),
        (chat_send(sesion=SESSION), "params.sesion", "unexpected field (allowed: session,"),
        (
            {"type": "req", "id": "r1", "method": "chat.send", "params": {"text": "hi"}},
            "params.idempotency_key",
            "required field is missing",
        ),
        (
            {"type": "req", "id": "r1", "method": "sessions.subscribe", "params": {"session": "s"}},
            "params.after_seq",
            "required field is missing",
        ),
        (
            {
                "type": "req",
                "id": "r1",
                "method": "sessions.subscribe",
                "params": {"session": "s", "after_seq": -1},
            },
            "params.after_seq",
            "must be >= 0",
        ),
        (
            {"type": "req", "id": "r1", "method": "sessions.list", "params": {"limit": True}},
            "params.limit",
            "expected integer, got boolean",
        ),
        (
            {"type": "req", "id": "r1", "method": "sessions.list", "params": {"limit": 2.5}},
            "params.limit",
            "expected integer, got number",
        ),
        (
            {"type": "req", "id": "r1", "method": "sessions.list", "params": {"limit": 201}},
            "params.limit",
            "must be <= 200",
        ),
        (
            {
                "type": "req",
                "id": "r1",
                "method": "approval.resolve",
                "params": {"request_id": "a", "decision": "maybe"},
            },
            "params.decision",
            'expected one of "approve", "deny"',
        ),
        (
            {"type": "req", "id": "r1", "method": "health", "params": []},
            "params",
            "expected object, got array",
        ),
        (
            {"type": "req", "id": "r1", "method": "health", "params": {"verbose": 1}},
            "params.verbose",
            "unexpected field (allowed: none)",
        ),
        (
            {"type": "request", "id": "r1", "method": "health", "params": {}},
            "type",
            'expected "req"',
        ),
        ({"type": "req", "id": "r1", "method": "health"}, "params", "required field is missing"),
        (
            {"type": "req", "id": "r1", "method": 7, "params": {}},
            "method",
            "expected string, got integer",
        ),
        (
            {"type": "req", "id": "r1", "method": "health", "params": {}, "extra": 1},
            "extra",
            "unexpected field",
        ),
        (
            {"type": "req", "id": "r1", "method": "health", "params": {}, "odd key": 1},
            '["odd key"]',
            "unexpected field",
        ),
    ],
)
def test_schema_violation_names_the_field(
    peer: Peer, frame: dict[str, Any], field: str, message: str
) -> None:
    peer.send(frame)
    [answer] = peer.frames()
    error = error_of(answer)
    assert answer["id"] == "r1"
    assert error["code"] == "invalid_frame"
    assert error["field"] == field
    assert error["message"].startswith(f"{field}: ")
    assert message in error["message"]
    assert peer.conn.events_received() == []
    assert state_of(peer.conn) is ConnectionState.CONNECTED


@pytest.mark.parametrize("bad_id", [7, "", "x" * 129, None, ["r1"]])
def test_unusable_request_id_is_answered_with_null_id(peer: Peer, bad_id: object) -> None:
    peer.send({"type": "req", "id": bad_id, "method": "health", "params": {}})
    [answer] = peer.frames()
    assert answer["id"] is None
    assert error_of(answer)["field"] == "id"


def test_frame_that_is_not_an_object_is_named_frame(peer: Peer) -> None:
    peer.send("[]")
    [answer] = peer.frames()
    assert error_of(answer)["message"] == "frame: expected object, got array"
    assert "field" not in error_of(answer)


def test_text_length_counts_code_points(peer: Peer) -> None:
    peer.send(chat_send(text="\N{GRINNING FACE}" * 32768))
    assert peer.frames() == []
    assert len(peer.conn.events_received()) == 1


def test_integral_floats_arrive_as_integers(peer: Peer) -> None:
    peer.call("sessions.list", {"limit": 5.0})
    peer.send('{"type":"req","id":"r2","method":"sessions.list","params":{"limit":1e1}}')
    calls = peer.conn.events_received()
    assert [c.params["limit"] for c in calls if isinstance(c, MethodCall)] == [5, 10]
    assert all(type(c.params["limit"]) is int for c in calls if isinstance(c, MethodCall))


def test_unknown_method(peer: Peer) -> None:
    [frame] = peer.call("chat.sned", {"text": "hi"})
    assert frame["id"] == "r1"
    assert error_of(frame) == {
        "code": "unknown_method",
        "message": "unknown method 'chat.sned'",
        "retryable": False,
        "field": "method",
    }
    assert state_of(peer.conn) is ConnectionState.CONNECTED


def test_connect_after_the_handshake_is_a_bad_request(peer: Peer) -> None:
    peer.send(connect_frame())
    [frame] = peer.frames()
    assert error_of(frame)["code"] == "bad_request"
    assert error_of(frame)["message"] == "already connected"
    assert state_of(peer.conn) is ConnectionState.CONNECTED


def test_request_id_of_a_request_in_flight_cannot_be_reused(peer: Peer) -> None:
    peer.send(chat_send("r1"))
    peer.send(chat_send("r1"))
    [frame] = peer.frames()
    assert error_of(frame)["field"] == "id"
    assert len(peer.conn.events_received()) == 1

    peer.conn.send_result("r1", {"run_id": "run1", "session": SESSION, "duplicate": False})
    peer.send(chat_send("r1"))
    assert len(peer.conn.events_received()) == 1


def test_unpaired_surrogate_escape_is_refused_with_its_field(peer: Peer) -> None:
    peer.send('{"type":"req","id":"r1","method":"chat.send",'
              '"params":{"text":"a\\ud800b","idempotency_key":"k"}}')  # fmt: skip
    [frame] = peer.frames()
    assert error_of(frame)["field"] == "params.text"
    assert "surrogate" in error_of(frame)["message"]
    assert frame["id"] == "r1"


def test_surrogate_pair_escape_is_an_ordinary_character(peer: Peer) -> None:
    peer.send('{"type":"req","id":"r1","method":"chat.send",'
              '"params":{"text":"\\ud83d\\ude00","idempotency_key":"k"}}')  # fmt: skip
    [call] = peer.conn.events_received()
    assert isinstance(call, MethodCall)
    assert call.params["text"] == "\N{GRINNING FACE}"


def test_text_with_a_raw_lone_surrogate_is_not_utf8(peer: Peer) -> None:
    peer.send(json.dumps(chat_send(text="a\ud800"), ensure_ascii=False))
    [frame] = peer.frames()
    assert error_of(frame)["message"] == "frame is not valid UTF-8 text"
    assert state_of(peer.conn) is ConnectionState.CONNECTED


def test_binary_frame_after_connect_is_invalid_but_harmless(peer: Peer) -> None:
    peer.conn.receive_binary(b"{}")
    [frame] = peer.frames()
    assert error_of(frame)["code"] == "invalid_frame"
    assert state_of(peer.conn) is ConnectionState.CONNECTED


# --- size, rate and queue limits ---------------------------------------------------------


def _frame_of_size(size: int, char: str) -> str:
    """A valid chat.send frame of exactly ``size`` bytes of UTF-8, its text made of ``char``."""
    base = len(json.dumps(chat_send(text="", idempotency_key="k")).encode())
    count, extra = divmod(size - base, len(char.encode()))
    frame = chat_send(text=char * count, idempotency_key="k" + "x" * extra)
    text = json.dumps(frame, ensure_ascii=False)
    assert len(text.encode()) == size
    return text


@pytest.mark.parametrize("char", ["x", "\u00e9", "\u4e2d", "\N{GRINNING FACE}"])
def test_frame_of_exactly_max_frame_bytes_is_accepted(char: str) -> None:
    p = Peer(max_frame_bytes=600)
    p.handshake()
    p.send(_frame_of_size(600, char))
    assert p.frames() == []
    assert len(p.conn.events_received()) == 1


@pytest.mark.parametrize("char", ["x", "\u00e9", "\u4e2d", "\N{GRINNING FACE}"])
def test_frame_over_max_frame_bytes_closes_1009_unanswered(char: str) -> None:
    p = Peer(max_frame_bytes=600)
    p.handshake()
    p.send(_frame_of_size(601, char))  # bytes count, not characters
    assert p.frames() == []
    assert p.conn.events_received() == []
    assert close_of(p.conn) is CloseCode.MESSAGE_TOO_BIG
    assert p.conn.close_reason == "frame is larger than 600 bytes"
    p.send(chat_send("r2"))  # input after the close decision is ignored
    assert p.frames() == []
    assert p.conn.events_received() == []


def test_rate_limit_refuses_with_retry_after_then_recovers() -> None:
    p = Peer(rate_per_sec=2, burst=3)
    p.handshake()
    for index in range(3):
        p.send(chat_send(f"r{index}"))
    assert p.frames() == []
    assert len(p.conn.events_received()) == 3

    p.send(chat_send("r3"))
    [frame] = p.frames()
    assert frame["id"] == "r3"
    assert error_of(frame) == {
        "code": "rate_limited",
        "message": "too many frames: at most 2 per second, bursts of 3",
        "retryable": True,
        "retry_after_ms": 500,
    }
    assert p.conn.events_received() == []  # the refused frame is not processed

    p.clock.advance(0.25)
    p.send(chat_send("r3"))
    assert error_of(p.frames()[0])["retry_after_ms"] == 250

    p.clock.advance(0.25)
    p.send(chat_send("r3"))
    assert p.frames() == []
    [call] = p.conn.events_received()
    assert isinstance(call, MethodCall)
    assert call.request_id == "r3"


def test_rate_limit_counts_invalid_frames_too() -> None:
    p = Peer(rate_per_sec=1, burst=1)
    p.handshake()
    p.send("{oops")
    p.send("{oops")
    first, second = p.frames()
    assert error_of(first)["code"] == "invalid_frame"
    assert second["id"] is None
    assert error_of(second)["code"] == "rate_limited"


def test_binary_frames_take_rate_limit_tokens_too() -> None:
    p = Peer(rate_per_sec=1, burst=1)
    p.handshake()
    p.conn.receive_binary(b"x")
    p.conn.receive_binary(b"x")
    first, second = p.frames()
    assert error_of(first)["code"] == "invalid_frame"
    assert second["id"] is None
    assert error_of(second)["code"] == "rate_limited"


def test_sustained_flood_closes_1008() -> None:
    p = Peer(rate_per_sec=1, burst=1, max_rejected_frames=5)
    p.handshake()
    p.send(chat_send("r0"))
    for index in range(1, 5):
        p.send(chat_send(f"r{index}"))
    assert [error_of(f)["code"] for f in p.frames()] == ["rate_limited"] * 4
    assert close_of(p.conn) is None

    p.send(chat_send("r5"))  # the 5th refusal in a row
    assert p.frames() == []
    assert close_of(p.conn) is CloseCode.POLICY_VIOLATION


def test_an_admitted_frame_resets_the_flood_count() -> None:
    p = Peer(rate_per_sec=1, burst=1, max_rejected_frames=3)
    p.handshake()
    for round_ in range(3):
        p.send(chat_send(f"ok{round_}"))
        p.send(chat_send(f"no{round_}a"))
        p.send(chat_send(f"no{round_}b"))
        p.clock.advance(1.0)
    assert close_of(p.conn) is None
    assert len(p.conn.events_received()) == 3


def test_slow_consumer_closes_4008() -> None:
    p = Peer(max_pending_events=3)
    p.handshake()
    payload = {"session": SESSION, "run_id": "run1"}
    for seq in (1, 2, 3):
        p.conn.send_event("chat.typing", payload, seq=seq)
    assert close_of(p.conn) is None
    p.conn.send_event("chat.typing", payload, seq=4)
    assert close_of(p.conn) is CloseCode.SLOW_CONSUMER
    assert len(p.frames()) == 3  # the overflowing event is dropped
    p.conn.send_event("chat.typing", payload, seq=5)  # dropped quietly after the close
    assert p.frames() == []


def test_taking_frames_keeps_a_fast_consumer_connected() -> None:
    p = Peer(max_pending_events=2)
    p.handshake()
    for seq in range(1, 50):
        p.conn.send_event("chat.typing", {"session": SESSION, "run_id": "r"}, seq=seq)
        assert len(p.frames()) == 1
    assert close_of(p.conn) is None


# --- the shell's side --------------------------------------------------------------------


def test_results_errors_and_events_are_framed(peer: Peer) -> None:
    peer.send(chat_send("r1"))
    peer.send(chat_send("r2"))
    peer.conn.send_result("r1", {"run_id": "run1", "session": SESSION, "duplicate": False})
    peer.conn.send_error("r2", ErrorCode.UNAVAILABLE, "overloaded", retry_after_ms=2000)
    peer.conn.send_event("chat.delta", {"session": SESSION, "run_id": "run1", "text": "Hi"}, seq=7)
    assert peer.frames() == [
        {
            "type": "res",
            "id": "r1",
            "ok": True,
            "payload": {"run_id": "run1", "session": SESSION, "duplicate": False},
        },
        {
            "type": "res",
            "id": "r2",
            "ok": False,
            "error": {
                "code": "unavailable",
                "message": "overloaded",
                "retryable": True,
                "retry_after_ms": 2000,
            },
        },
        {
            "type": "event",
            "event": "chat.delta",
            "payload": {"session": SESSION, "run_id": "run1", "text": "Hi"},
            "seq": 7,
        },
    ]
    assert peer.conn.awaiting_response == frozenset()


def test_send_error_takes_retryable_and_field_from_the_caller(peer: Peer) -> None:
    peer.send(chat_send("r1"))
    peer.conn.send_error(
        "r1", ErrorCode.NOT_FOUND, "no such session", field="params.session", retryable=False
    )
    [frame] = peer.frames()
    assert error_of(frame) == {
        "code": "not_found",
        "message": "no such session",
        "retryable": False,
        "field": "params.session",
    }


def test_answering_an_unknown_or_answered_request_raises(peer: Peer) -> None:
    peer.send(chat_send("r1"))
    peer.conn.send_result("r1", {"run_id": "run1", "session": SESSION, "duplicate": False})
    with pytest.raises(LocalProtocolError, match="not awaiting"):
        peer.conn.send_result("r1", {"run_id": "run1", "session": SESSION, "duplicate": False})
    with pytest.raises(LocalProtocolError, match="not awaiting"):
        peer.conn.send_error("nope", ErrorCode.INTERNAL, "boom")


def test_rate_limited_from_the_shell_needs_retry_after(peer: Peer) -> None:
    peer.send(chat_send("r1"))
    with pytest.raises(LocalProtocolError, match="retry_after_ms"):
        peer.conn.send_error("r1", ErrorCode.RATE_LIMITED, "slow down")


def test_outbound_validation_catches_a_bad_result(peer: Peer) -> None:
    peer.send(chat_send("r1"))
    with pytest.raises(InvalidOutboundError, match=r"payload\.duplicate"):
        peer.conn.send_result("r1", {"run_id": "run1", "session": SESSION, "duplicate": "no"})


def test_outbound_validation_catches_a_bad_event_payload(peer: Peer) -> None:
    with pytest.raises(InvalidOutboundError, match="payload"):
        peer.conn.send_event("chat.final", {"session": SESSION, "run_id": "r"}, seq=1)


@pytest.mark.parametrize(
    ("name", "seq", "match"),
    [
        ("chat.delta", None, "needs an integer seq"),
        ("chat.delta", 0, "needs an integer seq"),
        ("chat.delta", True, "needs an integer seq"),
        ("tick", 3, "has no seq"),
        ("connect.challenge", None, "not an event the shell may send"),
        ("chat.unknown", 1, "not an event the shell may send"),
    ],
)
def test_send_event_misuse_raises(peer: Peer, name: str, seq: Any, match: str) -> None:
    with pytest.raises(LocalProtocolError, match=match):
        peer.conn.send_event(name, {"session": SESSION, "run_id": "r", "text": "x"}, seq=seq)


def test_events_before_connected_are_a_programming_error() -> None:
    p = Peer()
    with pytest.raises(InvalidStateError):
        p.conn.send_event("chat.typing", {"session": SESSION, "run_id": "r"}, seq=1)
    p.connect()
    with pytest.raises(InvalidStateError):
        p.conn.send_event("chat.typing", {"session": SESSION, "run_id": "r"}, seq=1)
    with pytest.raises(InvalidStateError):
        p.conn.send_result("c1", {})


def test_tick_only_while_connected() -> None:
    p = Peer()
    p.frames()
    p.conn.tick()
    assert p.frames() == []
    p.handshake()
    p.conn.tick()
    assert p.frames() == [{"type": "event", "event": "tick", "payload": {"ts": WALL_MS}}]
    p.conn.send_event("tick", {"ts": 5})
    assert p.frames()[0]["payload"] == {"ts": 5}


def test_shell_close_wins_once_and_silences_the_connection(peer: Peer) -> None:
    peer.send(chat_send("r1"))
    peer.conn.close(CloseCode.GOING_AWAY, "server shutting down")
    peer.conn.close(CloseCode.PROTOCOL_ERROR, "second close is ignored")
    assert state_of(peer.conn) is ConnectionState.CLOSING
    assert (peer.conn.close_code, peer.conn.close_reason) == (
        CloseCode.GOING_AWAY,
        "server shutting down",
    )
    peer.send(chat_send("r2"))
    peer.conn.send_result("r1", {"run_id": "run1", "session": SESSION, "duplicate": False})
    peer.conn.tick()
    assert peer.frames() == []

    peer.conn.connection_closed()
    peer.conn.connection_closed()
    assert state_of(peer.conn) is ConnectionState.CLOSED


def test_close_reason_is_cut_to_123_bytes() -> None:
    p = Peer()
    p.conn.close(CloseCode.GOING_AWAY, "\u00e9" * 100)
    reason = p.conn.close_reason
    assert reason is not None
    assert reason == "\u00e9" * 61
    assert len(reason.encode()) <= 123


def test_outbound_lone_surrogates_are_escaped_into_valid_utf8(peer: Peer) -> None:
    peer.conn.send_event(
        "chat.delta", {"session": SESSION, "run_id": "r", "text": "a\udc80"}, seq=1
    )
    [text] = peer.conn.data_to_send()
    text.encode("utf-8")  # must not raise
    assert json.loads(text)["payload"]["text"] == "a\udc80"


# --- lifecycle ---------------------------------------------------------------------------


def test_receiving_before_start_is_a_programming_error() -> None:
    conn = ServerConnection(server=SERVER)
    assert conn.state is ConnectionState.NEW
    with pytest.raises(InvalidStateError, match="start"):
        conn.receive_text("{}")
    conn.start()
    with pytest.raises(InvalidStateError):
        conn.start()


def test_accept_needs_the_pending_connect_request() -> None:
    p = Peer()
    request = p.connect()
    stranger = ConnectRequest("zz", "x", "1", 1, 1, "t")
    with pytest.raises(InvalidStateError):
        p.conn.accept(stranger, principal="owner", session=SESSION)
    with pytest.raises(LocalProtocolError, match="session"):
        p.conn.accept(request, principal="owner", session="")
    p.conn.accept(request, principal="owner", session=SESSION)
    with pytest.raises(InvalidStateError):
        p.conn.accept(request, principal="owner", session=SESSION)


def test_close_codes_have_their_documented_numbers() -> None:
    assert {c.name: c.value for c in CloseCode} == {
        "NORMAL": 1000,
        "GOING_AWAY": 1001,
        "POLICY_VIOLATION": 1008,
        "MESSAGE_TOO_BIG": 1009,
        "INTERNAL_ERROR": 1011,
        "UNAUTHORIZED": 4001,
        "PROTOCOL_ERROR": 4002,
        "SLOW_CONSUMER": 4008,
    }


def test_transition_table_allows_exactly_the_documented_lifecycle() -> None:
    expected = {
        ("NEW", "START"): "CHALLENGED",
        ("CHALLENGED", "CONNECT_RECEIVED"): "AUTHENTICATING",
        ("AUTHENTICATING", "ACCEPT"): "CONNECTED",
        ("CLOSED", "TRANSPORT_CLOSED"): "CLOSED",
        ("CLOSING", "TRANSPORT_CLOSED"): "CLOSED",
    }
    for name in ("NEW", "CHALLENGED", "AUTHENTICATING", "CONNECTED"):
        expected[(name, "CLOSE")] = "CLOSING"
        expected[(name, "TRANSPORT_CLOSED")] = "CLOSED"
    actual = {
        (state.name, trigger.name): target.name
        for state, table in TRANSITIONS.items()
        for trigger, target in table.items()
    }
    assert actual == expected
    for state in ConnectionState:
        for trigger in Trigger:
            machine = StateMachine()
            machine.state = state
            if (state.name, trigger.name) in expected:
                assert machine.fire(trigger).name == expected[(state.name, trigger.name)]
            else:
                with pytest.raises(InvalidStateError):
                    machine.fire(trigger)


@pytest.mark.parametrize(
    "field", ["max_frame_bytes", "burst", "rate_per_sec", "connect_timeout_ms"]
)
@pytest.mark.parametrize("value", [0, -1, 1.5, True])
def test_limits_must_be_positive_integers(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        Limits(**{field: value})  # type: ignore[arg-type]


def test_default_nonce_is_random() -> None:
    first, second = ServerConnection(server=SERVER), ServerConnection(server=SERVER)
    assert first.nonce != second.nonce
    assert len(first.nonce) >= 16


# --- packaging ---------------------------------------------------------------------------


def test_public_api() -> None:
    assert set(protocol.__all__) == {
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
    }
    for name in protocol.__all__:
        assert getattr(protocol, name) is not None


def test_protocol_package_imports_nothing_of_ours_and_no_io() -> None:
    script = (
        "import sys, gateway.protocol.connection, gateway.protocol\n"
        "conn = gateway.protocol.ServerConnection("
        "server=gateway.protocol.ServerInfo('s', '1'), nonce='n')\n"
        "conn.start()\n"
        "conn.receive_text('{}')\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
    )
    modules = set(result.stdout.split())
    ours = {m for m in modules if m.split(".")[0] in {"gateway", "channels", "brain", "registry"}}
    assert ours == {m for m in ours if m == "gateway" or m.startswith("gateway.protocol")}
    for forbidden in ("asyncio", "socket", "ssl", "starlette", "websockets", "jsonschema"):
        assert forbidden not in modules, forbidden
