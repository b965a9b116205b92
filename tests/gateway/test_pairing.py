"""Pairing codes: format, expiry, limits, approval."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.pairing import CODE_ALPHABET, CODE_LENGTH, CODE_TTL_S, MAX_PENDING, PairingStore


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> PairingStore:
    return PairingStore.open(tmp_path / "state.db", clock=clock)


def test_a_code_has_eight_unambiguous_characters(store: PairingStore) -> None:
    request = store.request("telegram", "bot", "u1", "Alice")
    assert request is not None
    assert len(request.code) == CODE_LENGTH
    assert set(request.code) <= set(CODE_ALPHABET)
    assert not set("0O1I") & set(CODE_ALPHABET)


def test_asking_again_gives_the_same_code(store: PairingStore) -> None:
    first = store.request("telegram", "bot", "u1", None)
    again = store.request("telegram", "bot", "u1", None)
    assert first is not None and again is not None
    assert first.code == again.code


def test_at_most_three_codes_wait_per_account(store: PairingStore, clock: Clock) -> None:
    codes = [store.request("telegram", "bot", f"u{i}", None) for i in range(MAX_PENDING)]
    assert all(codes)
    assert store.request("telegram", "bot", "u9", None) is None
    assert store.request("slack", "bot", "u9", None) is not None  # other channels unaffected
    clock.now += CODE_TTL_S + 1  # the old codes expire and make room
    assert store.request("telegram", "bot", "u9", None) is not None


def test_approving_a_code_makes_the_sender_known(store: PairingStore) -> None:
    request = store.request("telegram", "bot", "u1", "Alice")
    assert request is not None
    assert not store.is_known("telegram", "bot", "u1")
    approved = store.approve("telegram", request.code.lower())
    assert approved is not None and approved.sender_id == "u1"
    assert store.is_known("telegram", "bot", "u1")
    assert store.approve("telegram", request.code) is None  # used up
    assert store.pending() == []


def test_an_expired_or_foreign_code_is_refused(store: PairingStore, clock: Clock) -> None:
    request = store.request("telegram", "bot", "u1", None)
    assert request is not None
    assert store.approve("slack", request.code) is None
    clock.now += CODE_TTL_S
    assert store.approve("telegram", request.code) is None
    assert not store.is_known("telegram", "bot", "u1")


def test_revoking_forgets_a_sender(store: PairingStore) -> None:
    request = store.request("telegram", "bot", "u1", None)
    assert request is not None
    store.approve("telegram", request.code)
    assert store.revoke("telegram", "u1")
    assert not store.is_known("telegram", "bot", "u1")
