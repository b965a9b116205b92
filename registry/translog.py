"""The transparency log: an append-only Merkle tree in the style of RFC 6962.

Theory of operation
-------------------
Every published version, yank and unyank is an *entry*: the canonical JSON
of a :class:`LogEntry`.  Entries are leaves of a Merkle tree hashed as in
RFC 6962 §2.1: ``leaf = SHA-256(0x00 ‖ entry)``, ``node = SHA-256(0x01 ‖
left ‖ right)``, the tree of ``n`` leaves splitting at the largest power of
two below ``n``.  The registry signs a :class:`Checkpoint` (origin, size,
root) after each append.

Storage keeps only *perfect* subtrees: the node at ``(level, index)`` covers
leaves ``[index·2^level, (index+1)·2^level)``.  Appending a leaf adds it at
level 0 and one node per level it completes (:func:`append_nodes`), so every
subtree hash, root, inclusion proof (``PATH`` in RFC 6962 §2.1.1) and
consistency proof (``PROOF``, §2.1.2) needs O(log² n) stored nodes
(:class:`NodeReader`).  :class:`MemoryTree` is the in-memory store; the
registry's SQLite store implements the same reader.

Clients verify with :func:`verify_inclusion` and :func:`verify_consistency`,
the iterative algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2, written apart
from the generators so a bug in one cannot hide a bug in the other.  A
:class:`LogMonitor` keeps the last checkpoint it trusted and refuses one
that is not a consistent extension of it; :func:`find_forks` finds two
different hashes logged for one ``owner/name@version``.  Either is a *fork*
(:class:`LogForkError`): the log, or whoever served it, lied.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from registry.errors import RegistryError
from registry.signing import PublicKey, SignatureError, SigningKey, b64encode, canonical_json

__all__ = [
    "Checkpoint",
    "Fork",
    "LogEntry",
    "LogForkError",
    "LogMonitor",
    "MemoryTree",
    "NodeReader",
    "ProofError",
    "SignedCheckpoint",
    "append_nodes",
    "consistency_proof",
    "empty_root",
    "find_forks",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_hash",
    "subtree_hash",
    "verify_consistency",
    "verify_inclusion",
]

ENTRY_VERSION = 1
Operation = Literal["publish", "yank", "unyank"]


class ProofError(RegistryError):
    """A proof that does not verify, or a request for one that cannot exist."""


class LogForkError(ProofError):
    """The log contradicts itself: an inconsistent checkpoint or two hashes for one version."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def empty_root() -> bytes:
    return hashlib.sha256(b"").digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n`` ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class NodeReader(Protocol):
    def node(self, level: int, index: int) -> bytes:
        """The stored perfect subtree ``(level, index)``; the caller asks only for complete ones."""
        ...


def subtree_hash(nodes: NodeReader, start: int, end: int) -> bytes:
    """MTH of leaves ``[start, end)``; the caller guarantees ``end`` ≤ the tree's size."""
    size = end - start
    if size == 0:
        return empty_root()
    if size & (size - 1) == 0 and start % size == 0:
        return nodes.node(size.bit_length() - 1, start // size)
    k = _split(size)
    return node_hash(subtree_hash(nodes, start, start + k), subtree_hash(nodes, start + k, end))


def root_hash(nodes: NodeReader, size: int) -> bytes:
    return subtree_hash(nodes, 0, size)


def inclusion_proof(nodes: NodeReader, index: int, size: int) -> list[bytes]:
    """RFC 6962 ``PATH(index, D[0:size])``; raises :class:`ProofError` unless index < size."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} entries")
    return _path(nodes, index, 0, size)


def _path(nodes: NodeReader, index: int, start: int, end: int) -> list[bytes]:
    if end - start == 1:
        return []
    k = _split(end - start)
    if index < start + k:
        return [*_path(nodes, index, start, start + k), subtree_hash(nodes, start + k, end)]
    return [*_path(nodes, index, start + k, end), subtree_hash(nodes, start, start + k)]


def consistency_proof(nodes: NodeReader, old_size: int, new_size: int) -> list[bytes]:
    """RFC 6962 ``PROOF(old_size, D[0:new_size])``; empty for equal or empty old trees."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    return _subproof(nodes, old_size, 0, new_size, complete=True)


def _subproof(nodes: NodeReader, m: int, start: int, end: int, *, complete: bool) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if complete else [subtree_hash(nodes, start, end)]
    k = _split(n)
    if m <= k:
        left = _subproof(nodes, m, start, start + k, complete=complete)
        return [*left, subtree_hash(nodes, start + k, end)]
    right = _subproof(nodes, m - k, start + k, end, complete=False)
    return [*right, subtree_hash(nodes, start, start + k)]


def append_nodes(nodes: NodeReader, size: int, leaf: bytes) -> list[tuple[int, int, bytes]]:
    """The ``(level, index, hash)`` nodes to store when ``leaf`` becomes leaf number ``size``."""
    added = [(0, size, leaf)]
    index, level, current = size, 0, leaf
    while index & 1:
        current = node_hash(nodes.node(level, index - 1), current)
        index, level = index >> 1, level + 1
        added.append((level, index, current))
    return added


class MemoryTree:
    """An append-only tree held in memory: for clients, audits and tests."""

    def __init__(self) -> None:
        self._levels: list[list[bytes]] = [[]]

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def node(self, level: int, index: int) -> bytes:
        return self._levels[level][index]

    def append(self, entry: bytes) -> int:
        """Add ``entry``; return its index."""
        index = self.size
        for level, _, digest in append_nodes(self, index, leaf_hash(entry)):
            if level == len(self._levels):
                self._levels.append([])
            self._levels[level].append(digest)
        return index

    def root(self, size: int | None = None) -> bytes:
        return root_hash(self, self.size if size is None else size)


def _lsb(value: int) -> bool:
    return bool(value & 1)


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Return if ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree (``size``, ``root``).

    RFC 9162 §2.1.3.2.  Raises :class:`ProofError` otherwise.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} cannot be in a tree of {size} entries")
    fn, sn, digest = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if _lsb(fn) or fn == sn:
            digest = node_hash(sibling, digest)
            while not _lsb(fn) and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            digest = node_hash(digest, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or digest != root:
        raise ProofError(f"entry {index} is not in the tree of size {size} with that root")


def verify_consistency(
    old_size: int, old_root: bytes, new_size: int, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Return if the tree (``new_size``, ``new_root``) extends (``old_size``, ``old_root``).

    RFC 9162 §2.1.4.2.  Raises :class:`LogForkError` when the proof shows the
    two roots cannot belong to one append-only log, :class:`ProofError` for
    a malformed request.
    """
    if not 0 <= old_size <= new_size:
        raise ProofError(f"size {new_size} cannot extend size {old_size}")
    if old_size == new_size:
        if proof or old_root != new_root:
            raise LogForkError(f"two different roots for one tree size {old_size}")
        return
    if old_size == 0:
        if proof or old_root != empty_root():
            raise LogForkError("an empty tree has the empty root and needs no proof")
        return
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    if not path:
        raise LogForkError("the consistency proof is empty")
    if not _consistent(old_size, old_root, new_size, new_root, path):
        raise LogForkError(f"the log of size {new_size} does not extend the log of size {old_size}")


def _consistent(
    old_size: int, old_root: bytes, new_size: int, new_root: bytes, path: list[bytes]
) -> bool:
    fn, sn = old_size - 1, new_size - 1
    while _lsb(fn):
        fn, sn = fn >> 1, sn >> 1
    first = second = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if _lsb(fn) or fn == sn:
            first, second = node_hash(node, first), node_hash(node, second)
            while not _lsb(fn) and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            second = node_hash(second, node)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and first == old_root and second == new_root


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One logged event; ``publisher_signature`` only on a publish."""

    op: Operation
    skill: str
    version: str
    content_hash: str
    publisher_key_id: str = ""
    publisher_signature: bytes = b""

    def encode(self) -> bytes:
        value: dict[str, object] = {
            "v": ENTRY_VERSION,
            "op": self.op,
            "skill": self.skill,
            "version": self.version,
            "hash": self.content_hash,
        }
        if self.op == "publish":
            value["publisher_key"] = self.publisher_key_id
            value["publisher_signature"] = b64encode(self.publisher_signature)
        return canonical_json(value)


@dataclass(frozen=True, slots=True)
class Fork:
    skill: str
    version: str
    hashes: tuple[str, ...]


def find_forks(entries: Iterable[LogEntry]) -> list[Fork]:
    """Every ``skill@version`` published with more than one content hash."""
    seen: dict[tuple[str, str], list[str]] = {}
    for entry in entries:
        if entry.op == "publish":
            hashes = seen.setdefault((entry.skill, entry.version), [])
            if entry.content_hash not in hashes:
                hashes.append(entry.content_hash)
    return [Fork(s, v, tuple(h)) for (s, v), h in seen.items() if len(h) > 1]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The log's state: ``size`` entries with Merkle root ``root``, named by ``origin``."""

    origin: str
    size: int
    root: bytes

    def encode(self) -> bytes:
        return canonical_json(
            {
                "v": ENTRY_VERSION,
                "origin": self.origin,
                "size": self.size,
                "root": b64encode(self.root),
            }
        )

    def sign(self, key: SigningKey) -> SignedCheckpoint:
        return SignedCheckpoint(self, key.key_id, key.sign(self.encode()))


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    key_id: str
    signature: bytes

    def verify(self, key: PublicKey) -> None:
        """Raise :class:`~registry.signing.SignatureError` unless ``key`` signed this checkpoint."""
        if key.key_id != self.key_id:
            raise SignatureError("checkpoint", f"signed by {self.key_id}, not by {key.key_id}")
        key.verify(self.signature, self.checkpoint.encode(), what="checkpoint")


class LogMonitor:
    """Remembers the newest checkpoint it verified; refuses any that does not extend it.

    The caller persists :attr:`trusted` between runs (a client keeps it with
    its lockfile) and passes it back in.
    """

    def __init__(self, registry_key: PublicKey, trusted: Checkpoint | None = None) -> None:
        self._key = registry_key
        self.trusted = trusted

    def observe(self, signed: SignedCheckpoint, proof: Sequence[bytes]) -> Checkpoint:
        """Accept ``signed`` given a consistency proof from :attr:`trusted`; return it.

        A smaller tree than the trusted one is not a fork but it is stale: the
        trusted checkpoint stays and the caller gets it back.
        """
        signed.verify(self._key)
        new = signed.checkpoint
        old = self.trusted
        if old is not None and new.origin != old.origin:
            raise ProofError(f"checkpoint of log {new.origin!r}, expected {old.origin!r}")
        if old is None:
            self.trusted = new
            return new
        if new.size < old.size:
            return old
        verify_consistency(old.size, old.root, new.size, new.root, proof)
        self.trusted = new
        return new
