"""Pending human approvals: the driver waits, ``Brain.resolve_approval`` settles.

A request lives from :meth:`ApprovalGate.request` until the ``async with``
block around its wait ends, whatever way it ends (decision, cancellation, a
closed turn); after that its id is unknown and resolving it returns False.
Each id is settled at most once.  The gate lives in the event-loop thread.

Weak spot (skeleton): pending requests live in this process only, so a
restart forgets them (the harness persists them as checkpoints, R4.2).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from gateway.events import ApprovalDecision

__all__ = ["ApprovalGate", "PendingApproval"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PendingApproval:
    request_id: str
    run_id: str
    tool: str
    decision: asyncio.Future[ApprovalDecision]

    async def wait(self) -> ApprovalDecision:
        return await self.decision


class ApprovalGate:
    def __init__(self) -> None:
        self._pending: dict[str, PendingApproval] = {}

    @asynccontextmanager
    async def request(self, run_id: str, tool: str) -> AsyncIterator[PendingApproval]:
        """Open a request; it is forgotten when the block exits."""
        request_id = f"apr_{secrets.token_urlsafe(12)}"
        future: asyncio.Future[ApprovalDecision] = asyncio.get_running_loop().create_future()
        pending = PendingApproval(request_id, run_id, tool, future)
        self._pending[request_id] = pending
        try:
            yield pending
        finally:
            del self._pending[request_id]
            future.cancel()

    def resolve(self, request_id: str, decision: ApprovalDecision, *, decided_by: str) -> bool:
        """Settle a pending request; False if it is unknown or already settled."""
        pending = self._pending.get(request_id)
        if pending is None or pending.decision.done():
            return False
        pending.decision.set_result(decision)
        log.info(
            "approval %s for %s in run %s: %s by %s",
            request_id,
            pending.tool,
            pending.run_id,
            decision.value,
            decided_by,
        )
        return True

    @property
    def pending(self) -> int:
        return len(self._pending)
