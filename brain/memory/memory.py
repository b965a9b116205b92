"""``Memory``: the three tiers of one data dir, each keyed by user or conversation.

Layout under ``data_dir``::

    knowledge/<sha256(user)[:32]>/blocks.json    tier 1, pinned blocks
    knowledge/<sha256(user)[:32]>/records.json   tier 3, long-term knowledge
    sessions/<conversation>-<hash>.md            tier 2, session logs

Scope: blocks and knowledge belong to a *user* (``channel:sender``, the
``TurnRequest.user`` key), never to a session, so in a group chat each member
has their own and none is shown to another.  Session logs belong to a
conversation, which everyone in it already sees.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path

from brain.memory.blocks import DEFAULT_BLOCK_LIMITS, Block, BlockStore
from brain.memory.knowledge import DEFAULT_KIND_CAPS, KnowledgeStore
from brain.memory.session_log import SessionLog, session_log_path

__all__ = ["Memory"]

_OPEN_LOGS = 256


class Memory:
    """Open with :meth:`open`; methods are blocking but short (one small file each).

    Call them from the event loop only for single operations; a bulk import
    belongs in a worker thread.  All methods are thread-safe.
    """

    def __init__(self, blocks: BlockStore, knowledge: KnowledgeStore, sessions: Path) -> None:
        self._blocks = blocks
        self.knowledge = knowledge
        self._sessions = sessions
        self._logs: OrderedDict[str, SessionLog] = OrderedDict()
        self._logs_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        data_dir: Path,
        *,
        clock: Callable[[], float] = time.time,
        block_limits: Mapping[str, int] = DEFAULT_BLOCK_LIMITS,
        kind_caps: Mapping[str, int] = DEFAULT_KIND_CAPS,
    ) -> Memory:
        """Nothing is created on disk until something is written."""
        root = data_dir / "knowledge"
        return cls(
            BlockStore(root, block_limits),
            KnowledgeStore(root, clock=clock, caps=kind_caps),
            data_dir / "sessions",
        )

    def blocks(self, user: str) -> Mapping[str, Block]:
        """``persona``, ``user`` and ``task`` of ``user``, in that order (unset ones empty)."""
        return self._blocks.get(user)

    def set_block(self, user: str, label: str, value: str) -> Block:
        """Replace a block; ``MemoryLimitError`` (says the limit) or ``UnknownBlockError``."""
        return self._blocks.set(user, label, value)

    def session_log(self, conversation_id: str) -> SessionLog:
        with self._logs_lock:
            log = self._logs.get(conversation_id)
            if log is None:
                path = session_log_path(self._sessions, conversation_id)
                log = self._logs[conversation_id] = SessionLog(path, conversation_id)
            self._logs.move_to_end(conversation_id)
            while len(self._logs) > _OPEN_LOGS:
                self._logs.popitem(last=False)
        return log
