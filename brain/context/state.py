"""Where a conversation's :class:`CompactionState` lives: ``<sessions>/<name>.state.json``.

Next to the conversation's session log (same :func:`safe_name` stem), written
atomically after the log's compaction section, so a crash between the two
leaves the old state and a log that says more, never the reverse.  Messages
keep every field, the provider's native copy included.  A file that does not
parse raises :class:`ContextStateError` and is not overwritten.

Every turn loads its conversation's state, so a parsed file is kept with its
``stat_key`` and read again only when the file changed (whoever changed it).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from brain.context.compaction import CompactionState
from brain.context.errors import ContextStateError
from brain.memory.files import safe_name, stat_key
from brain.models.base import Message, NativePayload, Role, ToolCall
from registry.diskio import write_atomic

__all__ = ["CompactionStateStore"]

_VERSION = 1
_CACHED_STATES = 256


class CompactionStateStore:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._cache: OrderedDict[str, tuple[tuple[int, int, int], CompactionState]] = OrderedDict()
        self._cache_lock = threading.Lock()

    def path(self, conversation_id: str) -> Path:
        return self._root / f"{safe_name(conversation_id)}.state.json"

    def load(self, conversation_id: str) -> CompactionState:
        """The stored state, or the empty one when the conversation was never compacted."""
        key = stat_key(self.path(conversation_id))
        if key is None:
            return CompactionState()
        with self._cache_lock:
            cached = self._cache.get(conversation_id)
            if cached is not None and cached[0] == key:
                self._cache.move_to_end(conversation_id)
                return cached[1]
        state = self._read(conversation_id)
        self._remember(conversation_id, key, state)
        return state

    def _read(self, conversation_id: str) -> CompactionState:
        path = self.path(conversation_id)
        try:
            document = json.loads(path.read_bytes())
        except FileNotFoundError:
            return CompactionState()
        except (OSError, ValueError) as exc:
            raise ContextStateError(path, f"cannot read: {exc}") from exc
        try:
            return _decode(document, conversation_id)
        except (KeyError, TypeError, ValueError) as exc:
            raise ContextStateError(path, f"malformed state: {exc!r}") from exc

    def save(self, conversation_id: str, state: CompactionState) -> None:
        document = {
            "version": _VERSION,
            "conversation_id": conversation_id,
            "summary": state.summary,
            "head": [_encode(m) for m in state.head],
            "through": state.through,
            "count": state.count,
        }
        data = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        write_atomic(self.path(conversation_id), data.encode("utf-8"))
        with self._cache_lock:  # the next load reads what was written
            self._cache.pop(conversation_id, None)

    def _remember(
        self, conversation_id: str, key: tuple[int, int, int], state: CompactionState
    ) -> None:
        with self._cache_lock:
            self._cache[conversation_id] = (key, state)
            self._cache.move_to_end(conversation_id)
            while len(self._cache) > _CACHED_STATES:
                self._cache.popitem(last=False)


def _decode(document: Any, conversation_id: str) -> CompactionState:
    if document["version"] != _VERSION or document["conversation_id"] != conversation_id:
        raise ValueError("another version or another conversation")
    through, count = document["through"], document["count"]
    if not (isinstance(through, int) and isinstance(count, int) and through >= 0 and count >= 0):
        raise ValueError("'through' and 'count' must be non-negative integers")
    summary = document["summary"]
    if not isinstance(summary, str):
        raise TypeError("'summary' must be text")
    head = tuple(_decode_message(m) for m in document["head"])
    return CompactionState(summary, head, through, count)


def _encode(message: Message) -> dict[str, Any]:
    native = message.native
    return {
        "role": message.role.value,
        "content": message.content,
        "tool_calls": [
            {"id": c.id, "name": c.name, "arguments": dict(c.arguments)} for c in message.tool_calls
        ],
        "tool_call_id": message.tool_call_id,
        "native": None if native is None else {"producer": native.producer, "body": native.body},
    }


def _decode_message(item: Any) -> Message:
    native = item["native"]
    calls = tuple(ToolCall(c["id"], c["name"], dict(c["arguments"])) for c in item["tool_calls"])
    content, call_id = item["content"], item["tool_call_id"]
    if not isinstance(content, str) or not (call_id is None or isinstance(call_id, str)):
        raise TypeError("a message's content and tool_call_id must be text")
    return Message(
        Role(item["role"]),
        content,
        calls,
        call_id,
        None if native is None else NativePayload(str(native["producer"]), str(native["body"])),
    )
