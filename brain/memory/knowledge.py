"""Tier 3: long-term knowledge, one JSON file of schema-checked records per user.

Storage: ``<root>/<sha256(user)[:32]>/records.json``::

    {"version": 1, "user": "web:alice", "records": [{...}, ...]}

JSON, not prose, so a model's edit (always through these methods) cannot
reformat it; records are sorted by ``created`` then ``id`` so files diff
cleanly.  Every change is one read-modify-write under the user's flock,
written with :func:`registry.diskio.write_atomic`: concurrent writers (threads, tasks in
worker threads, other processes) queue up and none is lost.  Reads take no
lock: a reader sees the previous or the next file, never a mix.

Per-kind caps (:data:`DEFAULT_KIND_CAPS`): adding beyond the cap evicts the
least recently used record of that kind (fewer uses first on a tie); the
record just added is never the one evicted.

A file that is not what we write raises :class:`MemoryCorruptError` and is
never overwritten, so bad bytes on disk lose nothing more.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

from brain.memory._search import record_terms, top_k
from brain.memory.errors import InvalidRecordError, MemoryCorruptError
from brain.memory.files import locked, stat_key, user_file
from brain.memory.records import KINDS, KnowledgeRecord, merge, new_record, record_from_json
from registry.diskio import write_atomic

__all__ = ["DEFAULT_KIND_CAPS", "KnowledgeStore"]

DEFAULT_KIND_CAPS: Mapping[str, int] = MappingProxyType(
    {"fact": 500, "preference": 200, "procedure": 200, "failure_pattern": 200, "skill_ref": 200}
)
_VERSION = 1
_CACHED_USERS = 256


@dataclass(frozen=True, slots=True)
class _Loaded:
    """A parsed file, with each record's search words and JSON line kept for reuse."""

    key: tuple[int, int, int] | None
    records: tuple[KnowledgeRecord, ...]
    terms: tuple[frozenset[str], ...]
    lines: tuple[str, ...]

    @classmethod
    def of(
        cls, key: tuple[int, int, int] | None, records: tuple[KnowledgeRecord, ...], *,
        previous: _Loaded | None = None,
    ) -> _Loaded:  # fmt: skip
        """Words and lines of records unchanged since ``previous`` are reused, not recomputed."""
        if previous is None:
            return cls(key, records, tuple(map(record_terms, records)), tuple(map(_line, records)))
        terms = dict(zip(previous.records, previous.terms, strict=True))
        lines = dict(zip(previous.records, previous.lines, strict=True))
        return cls(
            key,
            records,
            tuple(terms.get(r) or record_terms(r) for r in records),
            tuple(lines.get(r) or _line(r) for r in records),
        )


_EMPTY = _Loaded(None, (), (), ())


class KnowledgeStore:
    """Use through ``Memory.knowledge``.  ``clock`` gives seconds since the epoch."""

    def __init__(
        self,
        root: Path,
        *,
        clock: Callable[[], float],
        caps: Mapping[str, int] = DEFAULT_KIND_CAPS,
    ) -> None:
        if set(caps) != set(KINDS) or min(caps.values()) < 1:
            raise ValueError(f"caps must give each of {', '.join(KINDS)} at least 1")
        self._root = root
        self._clock = clock
        self._caps = dict(caps)
        self._cache: OrderedDict[Path, _Loaded] = OrderedDict()
        self._cache_lock = threading.Lock()

    def add(
        self,
        user: str,
        *,
        kind: str,
        content: str,
        tags: Sequence[str] = (),
        source: str = "",
        confidence: float = 0.5,
    ) -> KnowledgeRecord:
        """Store a record, or merge it into the record with the same content (dedup).

        Raises ``MemoryLimitError`` or ``InvalidRecordError`` (naming the field)
        before anything is written.
        """
        added = new_record(
            kind=kind, content=content, tags=tags, source=source,
            confidence=confidence, now=self._clock(),
        )  # fmt: skip
        with self._locked(user):
            records = {r.id: r for r in self._load(user).records}
            old = records.get(added.id)
            stored = added if old is None else merge(old, added)
            records[stored.id] = stored
            self._evict(records, stored)
            self._write(user, records.values())
        return stored

    def search(
        self, user: str, query: str, k: int = 5, *, touch: bool = True
    ) -> list[KnowledgeRecord]:
        """The ``k`` records of ``user`` that best match ``query`` (BM25), best first.

        With ``touch`` (the default) the results count as used (``use_count``,
        ``last_used``), which keeps them from eviction; ``touch=False`` is a pure read.
        """
        loaded = self._load(user)
        found = top_k(query, loaded.records, loaded.terms, k)
        if touch and found:
            return self.touch(user, [r.id for r in found])
        return found

    def touch(self, user: str, ids: Sequence[str]) -> list[KnowledgeRecord]:
        """Mark records as used now; returns them (ids no longer stored are skipped)."""
        if not ids:
            return []
        now = self._clock()
        with self._locked(user):
            records = {r.id: r for r in self._load(user).records}
            used = [records[i] for i in dict.fromkeys(ids) if i in records]
            for record in used:
                records[record.id] = replace(record, last_used=now, use_count=record.use_count + 1)
            if used:  # usage counters: losing one to a power cut is harmless
                self._write(user, records.values(), durable=False)
        return [records[r.id] for r in used]

    def forget(self, user: str, record_id: str) -> bool:
        """Delete one record of ``user``; False when there was none with that id."""
        with self._locked(user):
            records = {r.id: r for r in self._load(user).records}
            if records.pop(record_id, None) is None:
                return False
            self._write(user, records.values())
        return True

    def get(self, user: str, record_id: str) -> KnowledgeRecord | None:
        return next((r for r in self._load(user).records if r.id == record_id), None)

    def records(self, user: str, kind: str | None = None) -> list[KnowledgeRecord]:
        """All records of ``user`` (of one ``kind``), oldest first."""
        return [r for r in self._load(user).records if kind is None or r.kind == kind]

    # -- storage ---------------------------------------------------------------

    def _path(self, user: str) -> Path:
        return user_file(self._root, user, "records.json")

    def _locked(self, user: str) -> AbstractContextManager[None]:
        return locked(user_file(self._root, user, ".lock"))

    def _evict(self, records: dict[str, KnowledgeRecord], keep: KnowledgeRecord) -> None:
        same_kind = [r for r in records.values() if r.kind == keep.kind and r.id != keep.id]
        excess = len(same_kind) + 1 - self._caps[keep.kind]
        same_kind.sort(key=lambda r: (r.last_used, r.use_count, r.created, r.id))
        for record in same_kind[: max(excess, 0)]:
            del records[record.id]

    def _load(self, user: str) -> _Loaded:
        path = self._path(user)
        key = stat_key(path)
        with self._cache_lock:
            cached = self._cache.get(path)
            if cached is not None and cached.key == key:
                self._cache.move_to_end(path)
                return cached
        loaded = self._parse(path, key, user)
        self._remember(path, loaded)
        return loaded

    def _parse(self, path: Path, key: tuple[int, int, int] | None, user: str) -> _Loaded:
        if key is None:
            return _EMPTY
        try:
            document = json.loads(path.read_bytes())
        except FileNotFoundError:
            return _EMPTY
        except (OSError, ValueError) as exc:
            raise MemoryCorruptError(path, f"cannot read the knowledge file: {exc}") from exc
        records = _checked(path, document, user)
        return _Loaded.of(key, records)

    def _remember(self, path: Path, loaded: _Loaded) -> None:
        with self._cache_lock:
            self._cache[path] = loaded
            self._cache.move_to_end(path)
            while len(self._cache) > _CACHED_USERS:
                self._cache.popitem(last=False)

    def _write(
        self, user: str, records: Iterable[KnowledgeRecord], *, durable: bool = True
    ) -> None:
        """Write and cache what was written (callers hold the user's lock, so the file's
        stat after the write is this content's)."""
        path = self._path(user)
        with self._cache_lock:
            previous = self._cache.get(path)
        ordered = tuple(sorted(records, key=lambda r: (r.created, r.id)))
        loaded = _Loaded.of(None, ordered, previous=previous)
        write_atomic(path, _document(user, loaded.lines).encode("utf-8"), durable=durable)
        self._remember(path, replace(loaded, key=stat_key(path)))


def _line(record: KnowledgeRecord) -> str:
    return json.dumps(record.to_json(), ensure_ascii=False, sort_keys=True)


def _document(user: str, lines: Sequence[str]) -> str:
    """One record per line, so that diffs stay readable and unchanged records are not
    re-encoded (``_Loaded.lines``): at 1,000 records a touch costs a join, not 1,000 dumps."""
    head = json.dumps({"user": user, "version": _VERSION}, ensure_ascii=False)[:-1]
    body = ",\n".join(lines)
    return f'{head}, "records": [\n{body}\n]}}\n'


def _checked(path: Path, document: object, user: str) -> tuple[KnowledgeRecord, ...]:
    if not isinstance(document, dict) or document.get("version") != _VERSION:
        raise MemoryCorruptError(path, f"not a version {_VERSION} knowledge file")
    if document.get("user") != user:
        raise MemoryCorruptError(path, "the file belongs to another user")
    items = document.get("records")
    if not isinstance(items, list):
        raise MemoryCorruptError(path, "'records' must be a list")
    try:
        return tuple(record_from_json(item) for item in items)
    except InvalidRecordError as exc:
        raise MemoryCorruptError(path, f"a record breaks the schema: {exc}") from exc
