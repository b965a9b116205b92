"""Memory in three tiers, keyed by user and scope.

1. Working context: pinned blocks ``persona``, ``user``, ``task`` per user,
   each with a character limit, edited only through tools (``brain.memory.blocks``).
2. Session log: one append-only markdown file per conversation, a section per
   turn and per compaction (``brain.memory.session_log``, format in ``logformat``).
3. Long-term knowledge: schema-checked JSON records per user, deduplicated by
   content, capped per kind, searched offline with BM25 (``brain.memory.knowledge``).

Usage::

    memory = Memory.open(data_dir)
    memory.set_block("web:alice", "user", "Prefers metric units.")
    memory.knowledge.add("web:alice", kind="fact", content="Alice lives in Lyon.")
    memory.knowledge.search("web:alice", "where does alice live", k=5)
    memory.session_log(conversation_id).append_turn(goal=..., result=..., ...)
"""

from __future__ import annotations

from brain.memory.blocks import BLOCK_LABELS, DEFAULT_BLOCK_LIMITS, Block
from brain.memory.errors import (
    InvalidRecordError,
    MemoryCorruptError,
    MemoryInputError,
    MemoryLimitError,
    MemoryStoreError,
    SessionLogError,
    UnknownBlockError,
)
from brain.memory.knowledge import DEFAULT_KIND_CAPS, KnowledgeStore
from brain.memory.logformat import (
    ActionEntry,
    CompactionEntry,
    LogEntry,
    TurnEntry,
    args_digest,
    lint_session_log,
    parse_session_log,
)
from brain.memory.memory import Memory
from brain.memory.records import KINDS, KnowledgeRecord
from brain.memory.session_log import SessionLog
from brain.memory.turnlog import record_turn

__all__ = [
    "BLOCK_LABELS",
    "DEFAULT_BLOCK_LIMITS",
    "DEFAULT_KIND_CAPS",
    "KINDS",
    "ActionEntry",
    "Block",
    "CompactionEntry",
    "InvalidRecordError",
    "KnowledgeRecord",
    "KnowledgeStore",
    "LogEntry",
    "Memory",
    "MemoryCorruptError",
    "MemoryInputError",
    "MemoryLimitError",
    "MemoryStoreError",
    "SessionLog",
    "SessionLogError",
    "TurnEntry",
    "UnknownBlockError",
    "args_digest",
    "lint_session_log",
    "parse_session_log",
    "record_turn",
]
