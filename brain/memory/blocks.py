"""Tier 1: pinned blocks (``persona``, ``user``, ``task``), one set per user.

A block is short text the model sees on every turn, above the conversation,
and edits only through tools (Letta's core memory).  Each has a character
limit; a write over the limit raises :class:`MemoryLimitError` and changes
nothing, so the model learns the limit and can shorten its text.

Storage: ``<root>/<sha256(user)[:32]>/blocks.json``::

    {"version": 1, "user": "web:alice", "blocks": {"persona": "...", "task": "..."}}

written atomically under the user's lock.  ``user`` is checked on read, so a
file can never be served to another user.  A limit lowered in the
configuration does not cut text already stored; the next write must fit.

The blocks are read on every turn, so a parsed file is kept, per user, with
its ``stat_key``: a read costs a ``stat`` while the file is unchanged, and a
write by this store or by anything else (a new inode, size or time) is read
afresh.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from brain.memory.errors import MemoryCorruptError, MemoryLimitError, UnknownBlockError
from brain.memory.files import locked, stat_key, user_file
from brain.memory.records import check_text
from registry.diskio import write_atomic

__all__ = ["BLOCK_LABELS", "DEFAULT_BLOCK_LIMITS", "Block", "BlockStore"]

BLOCK_LABELS = ("persona", "user", "task")
# Letta 0.8.0 gives a core block 5,000 chars; Hermes keeps USER.md to 1,375 and
# MEMORY.md to 2,200.  Persona and user facts stay short; a task needs room.
DEFAULT_BLOCK_LIMITS: Mapping[str, int] = MappingProxyType(
    {"persona": 2_000, "user": 2_000, "task": 5_000}
)
_VERSION = 1
_CACHED_USERS = 256


@dataclass(frozen=True, slots=True)
class Block:
    label: str
    value: str
    limit: int


_Cached = tuple[tuple[int, int, int], Mapping[str, Block]]


class BlockStore:
    """Pinned blocks under ``root``; ``limits`` maps every label in :data:`BLOCK_LABELS`."""

    def __init__(self, root: Path, limits: Mapping[str, int] = DEFAULT_BLOCK_LIMITS) -> None:
        missing = [label for label in BLOCK_LABELS if label not in limits]
        if missing:
            raise ValueError(f"block limits missing for {', '.join(missing)}")
        self._root = root
        self._limits = {label: limits[label] for label in BLOCK_LABELS}
        self._empty = self._blocks({})
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._cache_lock = threading.Lock()

    def get(self, user: str) -> Mapping[str, Block]:
        """All blocks of ``user`` in :data:`BLOCK_LABELS` order; unset blocks are empty."""
        key = stat_key(self._path(user))
        if key is None:
            return self._empty
        with self._cache_lock:
            cached = self._cache.get(user)
            if cached is not None and cached[0] == key:
                self._cache.move_to_end(user)
                return cached[1]
        blocks = self._blocks(self._read(user))
        self._remember(user, key, blocks)
        return blocks

    def set(self, user: str, label: str, value: str) -> Block:
        """Replace one block; raises ``UnknownBlockError`` or ``MemoryLimitError``."""
        return self.update(user, label, lambda _old: value)

    def update(self, user: str, label: str, edit: Callable[[str], str]) -> Block:
        """Apply ``edit`` to the stored value under the user's lock (for insert/replace tools).

        ``edit`` must be pure and quick: it runs while other writers wait.
        """
        limit = self._limit(label)
        with locked(user_file(self._root, user, ".lock")):
            values = self._read(user)
            value = check_text(f"block {label!r}", edit(values.get(label, "")))
            if len(value) > limit:
                raise MemoryLimitError(f"block {label!r}", len(value), limit)
            values[label] = value
            self._write(user, values)
        return Block(label, value, limit)

    def _limit(self, label: str) -> int:
        if label not in self._limits:
            raise UnknownBlockError(label, BLOCK_LABELS)
        return self._limits[label]

    def _path(self, user: str) -> Path:
        return user_file(self._root, user, "blocks.json")

    def _blocks(self, values: Mapping[str, str]) -> Mapping[str, Block]:
        return MappingProxyType(
            {
                label: Block(label, values.get(label, ""), self._limits[label])
                for label in BLOCK_LABELS
            }
        )

    def _remember(
        self, user: str, key: tuple[int, int, int] | None, blocks: Mapping[str, Block]
    ) -> None:
        if key is None:  # removed meanwhile: nothing to remember
            return
        with self._cache_lock:
            self._cache[user] = (key, blocks)
            self._cache.move_to_end(user)
            while len(self._cache) > _CACHED_USERS:
                self._cache.popitem(last=False)

    def _read(self, user: str) -> dict[str, str]:
        path = self._path(user)
        try:
            document = json.loads(path.read_bytes())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise MemoryCorruptError(path, f"cannot read the blocks: {exc}") from exc
        return _checked(path, document, user)

    def _write(self, user: str, values: Mapping[str, str]) -> None:
        document = {"version": _VERSION, "user": user, "blocks": dict(values)}
        data = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        path = self._path(user)
        write_atomic(path, data.encode("utf-8"))
        # Callers hold the user's lock, so the file's stat after the write is this content's.
        self._remember(user, stat_key(path), self._blocks(values))


def _checked(path: Path, document: object, user: str) -> dict[str, str]:
    if not isinstance(document, dict) or document.get("version") != _VERSION:
        raise MemoryCorruptError(path, f"not a version {_VERSION} blocks file")
    if document.get("user") != user:
        raise MemoryCorruptError(path, "the file belongs to another user")
    blocks = document.get("blocks")
    if not isinstance(blocks, dict) or not all(
        label in BLOCK_LABELS and isinstance(value, str) for label, value in blocks.items()
    ):
        raise MemoryCorruptError(path, "'blocks' must map known labels to text")
    return dict(blocks)
