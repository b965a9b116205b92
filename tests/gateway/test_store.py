"""The gateway's SQLite store: numbering, replay, dedupe, run states."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import StoreError
from gateway.store import GatewayStore


@pytest.fixture
def store(tmp_path: Path) -> GatewayStore:
    return GatewayStore.open(tmp_path / "state.db")


def test_events_are_numbered_per_session_from_one(store: GatewayStore) -> None:
    store.ensure_session("web:owner:a", "owner", 1.0)
    store.ensure_session("web:owner:b", "owner", 1.0)
    seqs_a = [store.append_event("web:owner:a", "chat.delta", {"i": i}, 2.0) for i in range(3)]
    seqs_b = [store.append_event("web:owner:b", "chat.delta", {"i": i}, 2.0) for i in range(2)]
    assert seqs_a == [1, 2, 3]
    assert seqs_b == [1, 2]
    replay = store.events_after("web:owner:a", 1, 100)
    assert [(e.seq, e.payload["i"]) for e in replay] == [(2, 1), (3, 2)]


def test_numbering_survives_reopening(tmp_path: Path) -> None:
    first = GatewayStore.open(tmp_path / "state.db")
    first.ensure_session("web:owner:a", "owner", 1.0)
    first.append_event("web:owner:a", "chat.final", {"text": "hi"}, 2.0)
    first.close()
    second = GatewayStore.open(tmp_path / "state.db")
    assert second.append_event("web:owner:a", "chat.final", {"text": "again"}, 3.0) == 2
    assert [e.payload["text"] for e in second.events_after("web:owner:a", 0, 10)] == ["hi", "again"]


def test_an_event_for_an_unknown_session_is_refused_and_stores_nothing(
    store: GatewayStore,
) -> None:
    with pytest.raises(StoreError, match="unknown session"):
        store.append_event("web:owner:nope", "chat.final", {}, 1.0)
    assert store.events_after("web:owner:nope", 0, 10) == []


def test_claim_reports_duplicates_with_the_first_run(store: GatewayStore) -> None:
    first = store.claim("web:owner:a|k1", "web:owner:a", "run_1", "d1", 1.0)
    again = store.claim("web:owner:a|k1", "web:owner:a", "run_2", "d1", 2.0)
    other = store.claim("web:owner:a|k1", "web:owner:a", "run_3", "d2", 3.0)
    assert not first.duplicate
    assert again.duplicate and again.run_id == "run_1" and again.same_content
    assert other.duplicate and not other.same_content


def test_old_claims_are_forgotten(store: GatewayStore) -> None:
    store.claim("old", "web:owner:a", "run_1", "d", 1.0)
    store.claim("new", "web:owner:a", "run_2", "d", 100.0)
    assert store.forget_dedupe_before(50.0) == 1
    assert not store.claim("old", "web:owner:a", "run_3", "d", 101.0).duplicate
    assert store.claim("new", "web:owner:a", "run_4", "d", 101.0).duplicate


def test_history_returns_the_latest_messages_oldest_first(store: GatewayStore) -> None:
    key = "web:owner:a"
    store.ensure_session(key, "owner", 1.0)
    for i in range(5):
        store.append_event(key, "chat.message", {"text": f"q{i}"}, 1.0)
        store.append_event(key, "chat.delta", {"text": "x"}, 1.0)
        store.append_event(key, "chat.final", {"text": f"a{i}"}, 1.0)
    events = store.history(key, None, 4)
    assert [e.payload["text"] for e in events] == ["q3", "a3", "q4", "a4"]
    older = store.history(key, events[0].seq, 2)
    assert [e.payload["text"] for e in older] == ["q2", "a2"]


def test_history_keeps_the_error_that_ended_a_failed_run(store: GatewayStore) -> None:
    key = "web:owner:a"
    store.ensure_session(key, "owner", 1.0)
    store.append_event(key, "chat.message", {"text": "q"}, 1.0)
    store.append_event(key, "chat.tool", {"tool": "t", "phase": "start"}, 1.0)
    store.append_event(key, "chat.error", {"code": "timeout", "message": "too slow"}, 1.0)
    assert [e.event for e in store.history(key, None, 10)] == ["chat.message", "chat.error"]


def test_files_between_covers_a_history_page(store: GatewayStore) -> None:
    key = "web:owner:a"
    store.ensure_session(key, "owner", 1.0)
    for i in range(3):
        store.append_event(key, "chat.message", {"text": f"q{i}"}, 1.0)
        store.append_event(key, "chat.file", {"file_id": f"f{i}"}, 1.0)
        store.append_event(key, "chat.final", {"text": f"a{i}"}, 1.0)
    page = store.history(key, None, 2)  # q2, a2
    newest = store.files_between(key, page[0].seq, None, 10)
    assert [e.payload["file_id"] for e in newest] == ["f2"]
    older = store.files_between(key, 1, page[0].seq, 10)
    assert [e.payload["file_id"] for e in older] == ["f0", "f1"]
    assert [e.payload["file_id"] for e in store.files_between(key, 1, None, 2)] == ["f1", "f2"]


def test_sent_file_is_per_session(store: GatewayStore) -> None:
    store.ensure_session("web:owner:a", "owner", 1.0)
    store.ensure_session("web:owner:b", "owner", 1.0)
    store.append_event("web:owner:a", "chat.file", {"file_id": "abc"}, 1.0)
    store.append_event("web:owner:a", "chat.message", {"file_id": "xyz"}, 1.0)
    assert store.sent_file("web:owner:a", "abc")
    assert not store.sent_file("web:owner:b", "abc")
    assert not store.sent_file("web:owner:a", "xyz")  # only chat.file events count


def test_new_epoch_changes_the_conversation_id(store: GatewayStore) -> None:
    record = store.ensure_session("web:owner:a", "owner", 1.0)
    renewed = store.start_new_epoch("web:owner:a", 2.0)
    assert record.conversation_id != renewed.conversation_id
    assert renewed.key == record.key


def test_unfinished_runs_are_found_after_a_crash(store: GatewayStore) -> None:
    store.record_run("run_1", "web:owner:a", "running", 1.0)
    store.record_run("run_2", "web:owner:a", "done", 1.0)
    store.record_run("run_3", "web:owner:a", "queued", 1.0)
    assert sorted(store.unfinished_runs()) == [
        ("run_1", "web:owner:a", "running"),
        ("run_3", "web:owner:a", "queued"),
    ]
