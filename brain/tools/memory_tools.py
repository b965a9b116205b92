"""The memory tools: the model reads and edits the calling user's memory (``brain.memory``).

``memory_get_blocks`` and ``memory_set_block`` work on the pinned blocks
(``persona``, ``user``, ``task``); ``memory_remember``, ``memory_search`` and
``memory_forget`` on long-term knowledge records.  Every call is keyed by
``CallContext.user``, never by an argument, so a model cannot reach another
user's memory whatever it asks for.  Reads are ``read`` risk; edits,
including ``memory_forget``, are ``write``: the memory is the user's own and
an agent keeps it tidy as part of its work.

A value the store refuses (over a limit, an unknown label, a bad tag) comes
back as an error naming the limit.  A damaged store file is logged with its
path and reported to the model without it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from brain.memory import (
    BLOCK_LABELS,
    KINDS,
    KnowledgeRecord,
    Memory,
    MemoryInputError,
    MemoryLimitError,
    MemoryStoreError,
)
from brain.tools.core import CallContext, ErrorKind, Risk, Tool, ToolFailed, ToolReply

__all__ = ["MemoryTools"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_SOURCE_CHARS = 200  # the record schema's limit for ``source``


def _schema(properties: Mapping[str, object], required: list[str]) -> dict[str, object]:
    return {"type": "object", "properties": dict(properties), "required": required,
            "additionalProperties": False}  # fmt: skip


_GET = _schema({}, [])
_SET = _schema(
    {"label": {"enum": list(BLOCK_LABELS)}, "value": {"type": "string", "maxLength": 100_000}},
    ["label", "value"],
)
_REMEMBER = _schema(
    {
        "kind": {"enum": list(KINDS)},
        "content": {"type": "string", "minLength": 1, "maxLength": 100_000},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 16},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    },
    ["kind", "content"],
)
_SEARCH = _schema(
    {
        "query": {"type": "string", "minLength": 1, "maxLength": 2_000},
        "k": {"type": "integer", "minimum": 1, "maximum": 20},
    },
    ["query"],
)
_FORGET = _schema({"id": {"type": "string", "minLength": 1, "maxLength": 100}}, ["id"])


class MemoryTools:
    """The five memory tools over one :class:`~brain.memory.Memory`."""

    def __init__(self, memory: Memory) -> None:
        self._memory = memory

    def tools(self) -> tuple[Tool, ...]:
        return (
            Tool("memory_get_blocks", _GET_DOC, _GET, Risk.READ, self._get_blocks),
            Tool("memory_set_block", _SET_DOC, _SET, Risk.WRITE, self._set_block),
            Tool("memory_remember", _REMEMBER_DOC, _REMEMBER, Risk.WRITE, self._remember),
            Tool("memory_search", _SEARCH_DOC, _SEARCH, Risk.READ, self._search),
            Tool("memory_forget", _FORGET_DOC, _FORGET, Risk.WRITE, self._forget),
        )

    async def _get_blocks(self, args: Mapping[str, Any], context: CallContext) -> ToolReply:
        blocks = await _call(lambda: self._memory.blocks(context.user))
        body = {b.label: {"value": b.value, "chars": len(b.value), "limit": b.limit}
                for b in blocks.values()}  # fmt: skip
        return ToolReply(_json(body))

    async def _set_block(self, args: Mapping[str, Any], context: CallContext) -> ToolReply:
        label, value = args["label"], args["value"]
        block = await _call(lambda: self._memory.set_block(context.user, label, value))
        return ToolReply(f"block {block.label} is now {len(block.value)} of {block.limit} chars")

    async def _remember(self, args: Mapping[str, Any], context: CallContext) -> ToolReply:
        def add() -> KnowledgeRecord:
            return self._memory.knowledge.add(
                context.user,
                kind=args["kind"],
                content=args["content"],
                tags=tuple(args.get("tags", ())),
                source=f"session:{context.session}"[:_SOURCE_CHARS],
                confidence=float(args.get("confidence", 0.5)),
            )

        record = await _call(add)
        return ToolReply(_json({"remembered": _record(record)}))

    async def _search(self, args: Mapping[str, Any], context: CallContext) -> ToolReply:
        query, k = args["query"], args.get("k", 5)
        found = await _call(lambda: self._memory.knowledge.search(context.user, query, k=k))
        return ToolReply(_json({"records": [_record(r) for r in found]}))

    async def _forget(self, args: Mapping[str, Any], context: CallContext) -> ToolReply:
        record_id = args["id"]
        gone = await _call(lambda: self._memory.knowledge.forget(context.user, record_id))
        if not gone:
            raise ToolFailed(ErrorKind.NOT_FOUND, f"no memory record {record_id!r}")
        return ToolReply(f"forgot {record_id}")


_GET_DOC = "Show your pinned memory blocks about this user (persona, user, task) and their limits."
_SET_DOC = (
    "Replace one pinned memory block (persona, user or task) with new text within its "
    "limit; it is shown to you on every turn."
)
_REMEMBER_DOC = (
    "Store a long-term memory about this user: a fact, preference, procedure, "
    "failure_pattern or skill_ref, with optional tags and confidence (0-1)."
)
_SEARCH_DOC = "Search this user's long-term memories; returns the best matches with their ids."
_FORGET_DOC = "Delete one long-term memory of this user by its id (from memory_search)."


async def _call(operation: Callable[[], _T]) -> _T:
    """Run one store operation off the event loop, its faults as error observations."""
    try:
        return await asyncio.to_thread(operation)
    except MemoryLimitError as exc:
        raise ToolFailed(ErrorKind.TOO_LARGE, str(exc)) from exc
    except MemoryInputError as exc:
        raise ToolFailed(ErrorKind.INVALID_ARGUMENTS, str(exc)) from exc
    except MemoryStoreError as exc:
        log.error("memory store failed: %s", exc)
        message = "the memory store cannot be read; an administrator has to look at it"
        raise ToolFailed(ErrorKind.FAILED, message) from exc


def _record(record: KnowledgeRecord) -> dict[str, object]:
    return {
        "id": record.id,
        "kind": record.kind,
        "content": record.content,
        "tags": list(record.tags),
        "confidence": record.confidence,
    }


def _json(body: object) -> str:
    return json.dumps(body, ensure_ascii=False)
