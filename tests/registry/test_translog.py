"""The transparency log against a naive reference: RFC 6962 recomputed from the leaves.

The reference below recomputes MTH, PATH and PROOF straight from the RFC's
recursive definitions over the full list of leaves, with no stored nodes;
the log under test must produce the same roots and proofs, and its
verifiers must accept exactly the honest ones.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.signing import SignatureError, SigningKey
from registry.translog import (
    Checkpoint,
    LogEntry,
    LogForkError,
    LogMonitor,
    MemoryTree,
    ProofError,
    consistency_proof,
    empty_root,
    find_forks,
    inclusion_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)


def H(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1, literally."""
    n = len(leaves)
    if n == 0:
        return H(b"")
    if n == 1:
        return H(b"\x00" + leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return H(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*subproof(m, leaves[:k], b), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def tree_of(leaves: list[bytes]) -> MemoryTree:
    tree = MemoryTree()
    for leaf in leaves:
        tree.append(leaf)
    return tree


entries = st.lists(st.binary(max_size=8), min_size=1, max_size=70)


@settings(max_examples=150, deadline=None)
@given(entries)
def test_roots_match_the_reference_at_every_size(leaves: list[bytes]) -> None:
    tree = tree_of(leaves)
    for size in range(len(leaves) + 1):
        assert tree.root(size) == mth(leaves[:size])


@settings(max_examples=150, deadline=None)
@given(entries, st.data())
def test_inclusion_proofs_match_the_reference_and_verify(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = tree_of(leaves)
    size = data.draw(st.integers(1, len(leaves)))
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(tree, index, size)
    assert proof == path(index, leaves[:size])
    verify_inclusion(leaf_hash(leaves[index]), index, size, proof, tree.root(size))


@settings(max_examples=150, deadline=None)
@given(entries, st.data())
def test_consistency_proofs_match_the_reference_and_verify(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = tree_of(leaves)
    new = data.draw(st.integers(1, len(leaves)))
    old = data.draw(st.integers(1, new))
    proof = consistency_proof(tree, old, new)
    assert proof == (subproof(old, leaves[:new], True) if old < new else [])
    verify_consistency(old, tree.root(old), new, tree.root(new), proof)


@settings(max_examples=100, deadline=None)
@given(entries, st.data())
def test_a_tampered_inclusion_proof_fails(leaves: list[bytes], data: st.DataObject) -> None:
    tree = tree_of(leaves)
    index = data.draw(st.integers(0, len(leaves) - 1))
    proof = inclusion_proof(tree, index, len(leaves))
    root = tree.root()
    wrong_leaf = leaf_hash(leaves[index] + b"!")
    with pytest.raises(ProofError):
        verify_inclusion(wrong_leaf, index, len(leaves), proof, root)
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1))
        bent = [*proof[:at], H(proof[at]), *proof[at + 1 :]]
        with pytest.raises(ProofError):
            verify_inclusion(leaf_hash(leaves[index]), index, len(leaves), bent, root)
        with pytest.raises(ProofError):
            verify_inclusion(leaf_hash(leaves[index]), index, len(leaves), proof[:-1], root)


@settings(max_examples=100, deadline=None)
@given(entries, entries, st.data())
def test_a_rewritten_history_is_a_fork(
    leaves: list[bytes], extra: list[bytes], data: st.DataObject
) -> None:
    """A log that changed any old entry cannot prove it extends the old checkpoint."""
    old = len(leaves)
    honest = tree_of(leaves)
    at = data.draw(st.integers(0, old - 1))
    rewritten = [*leaves[:at], leaves[at] + b"forged", *leaves[at + 1 :], *extra]
    forked = tree_of(rewritten)
    proof = consistency_proof(forked, old, len(rewritten))
    with pytest.raises(LogForkError):
        verify_consistency(old, honest.root(), len(rewritten), forked.root(), proof)


def test_edge_cases_of_the_verifiers() -> None:
    tree = tree_of([b"a", b"b", b"c"])
    verify_consistency(0, empty_root(), 3, tree.root(), [])
    verify_consistency(3, tree.root(), 3, tree.root(), [])
    with pytest.raises(LogForkError):
        verify_consistency(3, tree.root(), 3, tree.root(2), [])
    with pytest.raises(ProofError):
        verify_consistency(4, tree.root(), 3, tree.root(), [])
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(b"a"), 3, 3, [], tree.root())
    with pytest.raises(ProofError):
        inclusion_proof(tree, 3, 3)
    with pytest.raises(ProofError):
        consistency_proof(tree, 2, 1)


def entry(version: str, digest: str) -> LogEntry:
    return LogEntry("publish", "alice/notes", version, digest, "k" * 32, b"\x01" * 64)


def test_two_hashes_for_one_version_are_found() -> None:
    log = [
        entry("1.0.0", "sha256:aa"),
        entry("1.1.0", "sha256:bb"),
        LogEntry("yank", "alice/notes", "1.0.0", "sha256:aa"),
        entry("1.0.0", "sha256:cc"),
    ]
    (fork,) = find_forks(log)
    assert (fork.skill, fork.version, fork.hashes) == (
        "alice/notes",
        "1.0.0",
        ("sha256:aa", "sha256:cc"),
    )
    assert find_forks(log[:3]) == []


def test_entries_are_canonical_json() -> None:
    assert LogEntry("yank", "a/b", "1.0.0", "sha256:00").encode() == (
        b'{"hash":"sha256:00","op":"yank","skill":"a/b","v":1,"version":"1.0.0"}'
    )


def test_the_monitor_accepts_extensions_and_refuses_forks_and_strangers() -> None:
    key = SigningKey.generate()
    honest = tree_of([b"a", b"b", b"c"])
    monitor = LogMonitor(key.public_key)
    first = Checkpoint("test-log", 3, honest.root()).sign(key)
    assert monitor.observe(first, []) == first.checkpoint
    honest.append(b"d")
    second = Checkpoint("test-log", 4, honest.root()).sign(key)
    assert monitor.observe(second, consistency_proof(honest, 3, 4)).size == 4

    forked = tree_of([b"a", b"B", b"c", b"d", b"e"])
    lie = Checkpoint("test-log", 5, forked.root()).sign(key)
    with pytest.raises(LogForkError):
        monitor.observe(lie, consistency_proof(forked, 4, 5))
    assert monitor.trusted == second.checkpoint

    stranger = Checkpoint("test-log", 5, honest.root()).sign(SigningKey.generate())
    with pytest.raises(SignatureError):
        monitor.observe(stranger, [])
    assert monitor.observe(first, []) == second.checkpoint  # stale, not adopted
