"""The shipped schemas: well formed, complete, consistent with the code, and the fast
validator agrees with the reference implementation (``jsonschema``)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from gateway.protocol import (
    BASE_URI,
    CONNECTION_EVENTS,
    EVENTS,
    SESSION_EVENTS,
    ErrorCode,
    Method,
    SchemaError,
    load_schema,
    schema_documents,
    validate_event,
    validate_frame,
    validate_params,
    validate_result,
)
from gateway.protocol._compile import SchemaCompiler, render_path
from gateway.protocol.testing import FrameChecker

SESSION = "web:owner:main"

VALID_PARAMS: dict[str, dict[str, Any]] = {
    "connect": {
        "min_protocol": 1,
        "max_protocol": 2,
        "client": {"name": "c", "version": "1"},
        "auth": {"token": "t"},
        "session": SESSION,
    },
    "chat.send": {
        "session": SESSION,
        "text": "hi",
        "idempotency_key": "k",
        "queue_mode": "interrupt",
    },
    "chat.abort": {"session": SESSION, "run_id": "run1"},
    "sessions.list": {"limit": 10},
    "sessions.history": {"session": SESSION, "limit": 10, "before_seq": 5},
    "sessions.subscribe": {"session": SESSION, "after_seq": 0},
    "sessions.unsubscribe": {"session": SESSION},
    "sessions.new": {"session": SESSION},
    "skills.list": {},
    "approval.resolve": {"request_id": "a1", "decision": "approve"},
    "health": {},
}

VALID_RESULTS: dict[str, dict[str, Any]] = {
    "connect": {
        "protocol": 1,
        "server": {"name": "s", "version": "1"},
        "session": SESSION,
        "limits": {
            "max_frame_bytes": 1,
            "rate_per_sec": 1,
            "burst": 1,
            "max_pending_events": 1,
            "tick_interval_ms": 1,
        },
        "features": {"methods": ["health"], "events": ["tick"]},
    },
    "chat.send": {"run_id": "r", "session": SESSION, "duplicate": True},
    "chat.abort": {"aborted": False},
    "sessions.list": {
        "sessions": [
            {"session": SESSION, "last_seq": 0, "updated_at": 0},
            {"session": "x:y:z", "title": "", "last_seq": 9, "updated_at": 1},
        ]
    },
    "sessions.history": {
        "session": SESSION,
        "messages": [
            {"seq": 1, "role": "user", "text": "", "run_id": "r", "ts": 0},
            {
                "seq": 2,
                "role": "assistant",
                "text": "a",
                "run_id": "r",
                "ts": 1,
                "status": "failed",
            },
        ],
        "files": [
            {
                "seq": 3,
                "run_id": "r",
                "ts": 1,
                "file_id": "q3Vb8xL0sTn2WcYd9KfA1uPe",
                "name": "report.csv",
                "media_type": "text/csv",
                "size": 0,
                "caption": "",
            }
        ],
    },
    "sessions.subscribe": {"session": SESSION, "last_seq": 0},
    "sessions.unsubscribe": {"session": SESSION},
    "sessions.new": {"session": SESSION},
    "skills.list": {
        "skills": [{"name": "w", "description": "", "tools": [], "source": "local"}],
    },
    "approval.resolve": {"resolved": True},
    "health": {"status": "draining", "uptime_ms": 0, "version": "0.1.0"},
}

SR = {"session": SESSION, "run_id": "run1"}
VALID_EVENTS: dict[str, dict[str, Any]] = {
    "chat.message": {**SR, "text": "hi", "sender": {"id": "u1", "name": "U"}},
    "chat.delta": {**SR, "text": "h"},
    "chat.tool": {**SR, "tool": "t", "phase": "error", "detail": "boom"},
    "chat.final": {**SR, "text": "", "status": "stopped"},
    "chat.error": {**SR, "code": "model_unavailable", "message": "m", "retryable": False},
    "chat.typing": SR,
    "chat.file": {
        **SR,
        "file_id": "q3Vb8xL0sTn2WcYd9KfA1uPe",
        "name": "report.csv",
        "media_type": "text/csv",
        "size": 2048,
        "caption": "Here",
    },
    "approval.requested": {**SR, "request_id": "a", "tool": "t", "summary": "s"},
    "approval.resolved": {**SR, "request_id": "a", "decision": "deny"},
    "tick": {"ts": 0},
    "connect.challenge": {"nonce": "n", "ts": 1},
}


def _file_event(**changes: Any) -> dict[str, Any]:
    """A ``chat.file`` event frame with ``changes`` to its payload."""
    payload = VALID_EVENTS["chat.file"] | changes
    return {"type": "event", "event": "chat.file", "payload": payload, "seq": 1}


def _reference(name: str) -> Draft202012Validator:
    registry: Registry[Any] = Registry().with_resources(
        (uri, DRAFT202012.create_resource(doc)) for uri, doc in schema_documents().items()
    )
    return Draft202012Validator({"$ref": BASE_URI + name}, registry=registry)


CLIENT_REFERENCE = _reference("frame-client.json")


def request(method: str, params: Any, rid: Any = "r1") -> dict[str, Any]:
    return {"type": "req", "id": rid, "method": method, "params": params}


# --- the files -----------------------------------------------------------------------------


def test_every_schema_is_a_valid_draft_2020_12_document() -> None:
    documents = schema_documents()
    assert len(documents) == 1 + 2 + 2 * len(Method) + len(EVENTS)
    for uri, document in documents.items():
        Draft202012Validator.check_schema(document)
        assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert document["$id"] == uri
        assert document["title"]
        assert document["description"]


def test_there_is_a_params_and_result_schema_per_method_and_a_payload_schema_per_event() -> None:
    for method in Method:
        assert load_schema(f"methods/{method.value}.params.json")["type"] == "object"
        assert load_schema(f"methods/{method.value}.result.json")["type"] == "object"
    for event in EVENTS:
        assert load_schema(f"events/{event.value}.json")["type"] == "object"


def test_client_frame_schema_dispatches_every_method_to_its_params() -> None:
    dispatch = load_schema("frame-client.json")["allOf"][1:]
    pairs = {
        rule["if"]["properties"]["method"]["const"]: rule["then"]["properties"]["params"]["$ref"]
        for rule in dispatch
    }
    assert pairs == {m.value: f"methods/{m.value}.params.json" for m in Method}


def test_server_frame_schema_knows_every_event_and_its_seq_rule() -> None:
    event = load_schema("frame-server.json")["$defs"]["event"]
    assert event["properties"]["event"]["enum"] == [e.value for e in EVENTS]
    for rule in event["allOf"]:
        name = rule["if"]["properties"]["event"]["const"]
        assert rule["then"]["properties"]["payload"]["$ref"] == f"events/{name}.json"
        if name in SESSION_EVENTS:
            assert rule["then"]["required"] == ["seq"]
        else:
            assert name in CONNECTION_EVENTS
            assert rule["then"]["not"] == {"required": ["seq"]}


def test_error_codes_in_the_schema_match_the_enum() -> None:
    assert load_schema("common.json")["$defs"]["error_code"]["enum"] == [c.value for c in ErrorCode]


def test_every_client_object_is_closed_and_every_client_string_bounded() -> None:
    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                assert node.get("additionalProperties") is False, where
            if node.get("type") == "string":
                assert "maxLength" in node, where
            for key, child in node.items():
                walk(child, f"{where}/{key}")
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, f"{where}/{index}")

    for method in Method:
        walk(load_schema(f"methods/{method.value}.params.json"), method.value)
    walk(load_schema("common.json"), "common")


def test_unknown_schema_name_raises() -> None:
    with pytest.raises(SchemaError):
        load_schema("methods/nope.params.json")


# --- valid and invalid values --------------------------------------------------------------


@pytest.mark.parametrize("method", list(VALID_PARAMS))
def test_valid_params_and_results_pass(method: str) -> None:
    assert validate_params(method, VALID_PARAMS[method]) is None
    assert validate_frame("client", request(method, VALID_PARAMS[method])) is None
    assert validate_result(method, VALID_RESULTS[method]) is None
    frame = {"type": "res", "id": "r1", "ok": True, "payload": VALID_RESULTS[method]}
    assert validate_frame("server", frame, method=method) is None


@pytest.mark.parametrize("name", list(VALID_EVENTS))
def test_valid_events_pass_and_seq_is_checked(name: str) -> None:
    payload = VALID_EVENTS[name]
    assert validate_event(name, payload) is None
    with_seq = {"type": "event", "event": name, "payload": payload, "seq": 1}
    without_seq = {"type": "event", "event": name, "payload": payload}
    good, bad = (with_seq, without_seq) if name in SESSION_EVENTS else (without_seq, with_seq)
    assert validate_frame("server", good) is None
    assert validate_frame("server", bad) is not None


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ({"type": "res", "id": None, "ok": True, "payload": {}}, "id"),
        ({"type": "res", "id": "r", "ok": True}, None),
        (
            {
                "type": "res",
                "id": "r",
                "ok": False,
                "error": {"code": "rate_limited", "message": "m", "retryable": True},
            },
            "error",
        ),
        (
            {
                "type": "res",
                "id": "r",
                "ok": False,
                "error": {"code": "teapot", "message": "m", "retryable": False},
            },
            "error.code",
        ),
        ({"type": "event", "event": "chat.unknown", "payload": {}, "seq": 1}, "event"),
        ({"type": "event", "event": "tick", "payload": {"ts": -1}}, "payload.ts"),
        ({"type": "req", "id": "r", "method": "health", "params": {}}, None),
        (_file_event(file_id="../../state.db/xxxxxxxxxxxx"), "payload.file_id"),
        (_file_event(size=-1), "payload.size"),
        (_file_event(caption="x" * 1025), "payload.caption"),
        (_file_event(path="/etc/passwd"), "payload"),
    ],
)
def test_invalid_server_frames_are_caught(frame: dict[str, Any], field: str | None) -> None:
    violation = validate_frame("server", frame)
    assert violation is not None
    assert violation.message
    if field is not None:
        assert violation.field is not None
        assert violation.field.startswith(field) or field.startswith(violation.field)


def test_the_reference_validator_agrees_on_chat_file_frames() -> None:
    server = _reference("frame-server.json")
    assert server.is_valid(_file_event())
    for bad in (_file_event(file_id="a/b" * 8), _file_event(size=1.5), _file_event(name="")):
        assert not server.is_valid(bad)
        assert validate_frame("server", bad) is not None


def _history(**changes: Any) -> dict[str, Any]:
    """A ``sessions.history`` result whose one file entry has ``changes``."""
    result = copy.deepcopy(VALID_RESULTS["sessions.history"])
    result["files"][0].update(changes)
    return result


HISTORY_REFERENCE = _reference("methods/sessions.history.result.json")


def test_history_files_are_optional_and_checked_like_chat_file() -> None:
    without = {k: v for k, v in VALID_RESULTS["sessions.history"].items() if k != "files"}
    no_caption = _history()
    del no_caption["files"][0]["caption"]
    for good in (without, without | {"files": []}, _history(), no_caption):
        assert validate_result("sessions.history", good) is None
        assert HISTORY_REFERENCE.is_valid(good)
    for bad in (
        _history(file_id="../../state.db/xxxxxxxx"),
        _history(size=-1),
        _history(name=""),
        _history(caption="x" * 1025),
        _history(session=SESSION),  # the page names the session once
        _history(path="/etc/passwd"),
        _history(seq=0),
        without | {"files": [{"seq": 3}]},
        without | {"files": {}},
    ):
        assert validate_result("sessions.history", bad) is not None
        assert not HISTORY_REFERENCE.is_valid(bad)


def test_a_failed_run_in_history_carries_its_error_code() -> None:
    result = copy.deepcopy(VALID_RESULTS["sessions.history"])
    failed = {"seq": 9, "role": "assistant", "text": "too slow", "run_id": "run_1", "ts": 1}
    good = result | {"messages": [failed | {"status": "failed", "error_code": "timeout"}]}
    assert validate_result("sessions.history", good) is None
    assert HISTORY_REFERENCE.is_valid(good)
    bad = result | {"messages": [failed | {"error_code": "Not A Code"}]}
    assert validate_result("sessions.history", bad) is not None
    assert not HISTORY_REFERENCE.is_valid(bad)


def test_error_response_may_have_a_null_id() -> None:
    frame = {
        "type": "res",
        "id": None,
        "ok": False,
        "error": {"code": "invalid_frame", "message": "m", "retryable": False},
    }
    assert validate_frame("server", frame) is None


def test_wrong_result_for_the_method_is_caught() -> None:
    frame = {"type": "res", "id": "r1", "ok": True, "payload": {"aborted": True}}
    violation = validate_frame("server", frame, method="chat.send")
    assert violation is not None
    assert violation.field == "payload" or "payload" in str(violation)


def test_validate_frame_needs_a_direction() -> None:
    with pytest.raises(ValueError, match="direction"):
        validate_frame("sideways", {})  # type: ignore[arg-type]


def test_frame_checker_follows_requests_to_their_results() -> None:
    checker = FrameChecker()
    checker.client(request("chat.abort", {"session": SESSION}))
    with pytest.raises(AssertionError, match="payload"):
        checker.server({"type": "res", "id": "r1", "ok": True, "payload": {"resolved": True}})
    checker.client(request("chat.abort", {"session": SESSION}, rid="r2"))
    checker.server('{"type":"res","id":"r2","ok":true,"payload":{"aborted":false}}')
    with pytest.raises(AssertionError, match="frame-client"):
        checker.client(request("chat.abort", {}))
    with pytest.raises(AssertionError, match="JSON object"):
        checker.server("[]")
    assert len(checker.server_frames) == 1


# --- the fast validator ----------------------------------------------------------------------


def test_render_path() -> None:
    assert render_path([]) == ""
    assert render_path(["text", "params"]) == "params.text"
    assert render_path(["name", 2, "skills"]) == "skills[2].name"
    assert render_path(["a b", "params"]) == 'params["a b"]'
    assert render_path(["x" * 100]) == '["' + "x" * 64 + '..."]'
    assert render_path(["\ud800"]) == '["\\ud800"]'


@pytest.mark.parametrize(
    "schema",
    [
        {"oneOf": [{"type": "string"}]},
        {"type": "string", "format": "email"},
        {"enum": [1, 2]},
        {"type": "object", "additionalProperties": {"type": "string"}},
        {"if": {"type": "string"}},
        {"type": "decimal"},
        {"$ref": "#/$defs/missing"},
        {"$ref": "other.json"},
        {"$ref": "#nopointer"},
    ],
)
def test_compiler_refuses_what_it_cannot_enforce(schema: dict[str, Any]) -> None:
    uri = "https://example.test/s.json"
    with pytest.raises(SchemaError):
        SchemaCompiler({uri: schema}).compile(uri)


def test_every_client_schema_compiles() -> None:
    for method in Method:
        assert validate_params(method.value, VALID_PARAMS[method.value]) is None


JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
BOUNDARIES: st.SearchStrategy[Any] = st.sampled_from(
    [
        "",
        "x",
        "x" * 64,
        "x" * 65,
        "x" * 128,
        "x" * 129,
        "x" * 256,
        "x" * 257,
        "x" * 4096,
        "x" * 4097,
        -1,
        0,
        1,
        2,
        200,
        201,
        500,
        501,
        65535,
        65536,
        2**53 - 1,
        2**53,
        1.0,
        1.5,
        True,
        False,
        None,
        [],
        {},
        "req",
        "res",
        "connect",
        "chat.send",
        "followup",
        "approve",
    ]
)
KEYS = st.sampled_from(
    ["type", "id", "method", "params", "text", "session", "limit", "auth", "token", "x"]
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_paths(child, (*prefix, index)))
    return found


@st.composite
def mutated_frames(draw: st.DrawFn) -> Any:
    method = draw(st.sampled_from(list(VALID_PARAMS)))
    frame: Any = copy.deepcopy(request(method, VALID_PARAMS[method]))
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        path = draw(st.sampled_from(_paths(frame)))
        operation = draw(st.sampled_from(["replace", "boundary", "delete", "add"]))
        if not path:
            if operation == "replace":
                frame = draw(JSON_VALUES)
            continue
        parent = frame
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        if operation == "replace":
            parent[last] = draw(JSON_VALUES)
        elif operation == "boundary":
            parent[last] = draw(BOUNDARIES)
        elif operation == "delete" and isinstance(parent, dict):
            del parent[last]
        elif operation == "add" and isinstance(parent, dict):
            parent[draw(KEYS)] = draw(JSON_VALUES | BOUNDARIES)
    return frame


@settings(max_examples=600, deadline=None)
@given(frame=mutated_frames())
def test_fast_validator_agrees_with_jsonschema(frame: Any) -> None:
    fast = validate_frame("client", frame)
    assert (fast is None) == CLIENT_REFERENCE.is_valid(frame), fast


@settings(max_examples=200, deadline=None)
@given(frame=JSON_VALUES)
def test_fast_validator_agrees_with_jsonschema_on_arbitrary_json(frame: Any) -> None:
    assert (validate_frame("client", frame) is None) == CLIENT_REFERENCE.is_valid(frame)
