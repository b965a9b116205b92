"""Approvals: a turn waits for a person; the decision and the turn survive a restart.

Theory of operation
-------------------
When the turn machine asks for an approval, the driver's :class:`RunApprovals`
saves the request with the whole paused turn (``TurnMachine.snapshot()``) in
``brain_approvals`` (``brain.guard.approval_store``) and waits in this
process.  :meth:`ApprovalGate.resolve` records the decision in the store first,
once (an atomic ``pending -> approved|denied``), then wakes the waiter, if
any.  Before an approved call runs, the driver claims it
(``approved -> running``) and stores its outcome (``running -> done``); only
the winner of the claim runs the tool, so approving twice, concurrently, or
from two processes runs it once.

When the turn ends (answer, failure, a person's stop, the gateway's timeout)
its requests are closed, and a request still pending is withdrawn.  When the
process stops instead (:meth:`ApprovalGate.drain` at shutdown, or a crash,
where no code runs), the requests stay open: :meth:`ApprovalGate.resumable`
lists them at the next start, and ``Brain.run_turn(TurnRequest(resume=id))``
continues each one as a new run (:meth:`ApprovalGate.restore`): it asks again
for a pending request (same id), runs an approved one, feeds a stored outcome
back, and reports an outcome lost in a crash as unknown, never running the
tool a second time (at most once, when a crash hits during the tool).

Everything runs in the event-loop thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from brain.guard._codec import decode, encode
from brain.guard.approval_store import (
    OPEN_STATES,
    ApprovalState,
    ApprovalStore,
    AuditEntry,
    StoredRequest,
)
from brain.guard.checkpoint import loads
from brain.loop import TurnMachine, TurnPlan
from brain.models.base import ToolCall
from brain.steps import ToolOutcome
from gateway.events import ApprovalDecision

__all__ = ["ApprovalGate", "PendingApproval", "RunApprovals", "RunRef"]

log = logging.getLogger(__name__)

_S = ApprovalState
_DECIDED_YES = frozenset({_S.APPROVED, _S.RUNNING, _S.DONE})
# Where a run's request goes when the run ends (still undecided: withdrawn).
_AT_END = {
    _S.PENDING: _S.WITHDRAWN,
    _S.APPROVED: _S.WITHDRAWN,
    _S.DENIED: _S.CLOSED,
    _S.RUNNING: _S.CLOSED,
    _S.DONE: _S.CLOSED,
}
_LOST = (
    "the server restarted while this action ran; it was not run again, "
    "and whether it finished is unknown"
)


@dataclass(frozen=True, slots=True)
class RunRef:
    """Which run a request belongs to, and whose conversation it continues."""

    run_id: str
    session: str
    conversation_id: str
    user: str


@dataclass(frozen=True, slots=True)
class PendingApproval:
    """``announce``: tell people about it (false when it was decided before a restart)."""

    request_id: str
    announce: bool
    decision: asyncio.Future[ApprovalDecision]

    async def wait(self) -> ApprovalDecision:
        return await self.decision


class ApprovalGate:
    """The process-wide side: the store, the waiting runs, decisions."""

    def __init__(self, store: ApprovalStore, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        self._waiters: dict[str, asyncio.Future[ApprovalDecision]] = {}
        self._owned: set[str] = set()  # requests a run in this process is continuing
        self._draining = False

    @property
    def store(self) -> ApprovalStore:
        return self._store

    @property
    def pending(self) -> int:
        """How many runs of this process wait for a decision now."""
        return len(self._waiters)

    @property
    def draining(self) -> bool:
        return self._draining

    def drain(self) -> None:
        """The process is stopping: runs stopped from now on keep their requests open."""
        self._draining = True

    def for_run(self, run: RunRef, *, resume: str | None = None) -> RunApprovals:
        return RunApprovals(self, run, resume)

    def resolve(self, request_id: str, decision: ApprovalDecision, *, decided_by: str) -> bool:
        """Record a decision; False if the request is unknown or no longer pending."""
        target = _S.APPROVED if decision is ApprovalDecision.APPROVE else _S.DENIED
        if not self._store.move(request_id, target, actor=decided_by, now=self._clock()):
            log.info(
                "approval %s: %s by %s refused (not pending)", request_id, decision, decided_by
            )
            return False
        log.info("approval %s: %s by %s", request_id, decision.value, decided_by)
        waiter = self._waiters.get(request_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(decision)
        return True

    def resumable(self) -> list[StoredRequest]:
        """Open requests no run of this process is continuing, oldest first."""
        return [r for r in self._store.open_requests() if r.request_id not in self._owned]

    def restore(self, request_id: str, template: TurnPlan) -> tuple[StoredRequest, TurnMachine]:
        """The saved turn of an open request, ready to continue; raises ``LookupError``
        if it cannot continue (unknown, closed or withdrawn) and ``CheckpointError``
        if its saved turn cannot be read."""
        saved = self._store.get(request_id)
        if saved is None or saved.state not in OPEN_STATES:
            raise LookupError(f"approval {request_id!r} has no turn left to continue")
        return saved, TurnMachine.restore(template, loads(saved.continuation))

    def audit(self, request_id: str | None = None) -> list[AuditEntry]:
        return self._store.audit(request_id)

    def close(self) -> None:
        self._store.close()

    # -- used by RunApprovals --------------------------------------------------

    def _now(self) -> float:
        return self._clock()


class RunApprovals:
    """One run's side: the requests it made or continues, its claims, its ending."""

    def __init__(self, gate: ApprovalGate, run: RunRef, resume: str | None) -> None:
        self._gate = gate
        self._store = gate.store
        self._run = run
        self._mine: list[str] = []
        self._resume = self._store.get(resume) if resume is not None else None
        self._approved: dict[str, str] = {}  # call id -> request id
        if self._resume is not None:
            self._own(self._resume.request_id)

    @asynccontextmanager
    async def ask(
        self, call: ToolCall, summary: str, save: Callable[[], str]
    ) -> AsyncIterator[PendingApproval]:
        """A request for ``call`` (the saved one when continuing it, else a new one
        saving ``save()``); the waiter goes away when the block exits."""
        request_id = self._continued(call) or self._new(call, summary, save)
        future: asyncio.Future[ApprovalDecision] = asyncio.get_running_loop().create_future()
        stored = self._store.get(request_id)
        state = stored.state if stored is not None else _S.WITHDRAWN
        if state in _DECIDED_YES or state is _S.DENIED:
            yes = state in _DECIDED_YES
            future.set_result(ApprovalDecision.APPROVE if yes else ApprovalDecision.DENY)
        else:
            self._gate._waiters[request_id] = future
        try:
            yield PendingApproval(request_id, not future.done(), future)
        finally:
            self._gate._waiters.pop(request_id, None)
            future.cancel()
        if future.done() and not future.cancelled() and future.result() is ApprovalDecision.APPROVE:
            self._approved[call.id] = request_id

    def claim(self, call: ToolCall) -> ToolOutcome | None:
        """None: run ``call`` now.  Otherwise the outcome to report instead of running it
        (it ran before a restart, or was running when the process died)."""
        request_id = self._approved.get(call.id)
        if request_id is None:
            return None
        now = self._gate._now()
        if self._store.move(request_id, _S.RUNNING, actor=self._run.run_id, now=now):
            return None
        stored = self._store.get(request_id)
        if stored is not None and stored.outcome is not None:
            outcome: ToolOutcome = decode(ToolOutcome, json.loads(stored.outcome))
            return outcome
        lost = ToolOutcome.failure(call.id, _LOST)
        self.ran(call, lost)
        return lost

    def ran(self, call: ToolCall, outcome: ToolOutcome) -> None:
        """Store the outcome of a claimed call."""
        request_id = self._approved.get(call.id)
        if request_id is not None:
            body = json.dumps(encode(outcome), ensure_ascii=False, separators=(",", ":"))
            now = self._gate._now()
            self._store.move(request_id, _S.DONE, actor=self._run.run_id, now=now, outcome=body)

    def settle(self) -> None:
        """The run ended: close what it used, withdraw what it left undecided."""
        for request_id in self._mine:
            self._finish(request_id)
            self._gate._owned.discard(request_id)
        self._mine.clear()

    def abandon(self) -> None:
        """The run was stopped: like :meth:`settle`, unless the process is stopping."""
        if not self._gate.draining:
            self.settle()

    # -- helpers ---------------------------------------------------------------

    def _continued(self, call: ToolCall) -> str | None:
        saved, self._resume = self._resume, None
        if saved is not None and saved.call.id == call.id:
            return saved.request_id
        return None

    def _new(self, call: ToolCall, summary: str, save: Callable[[], str]) -> str:
        for request_id in self._mine:  # the new save includes what these did
            self._finish(request_id)
        request_id = f"apr_{secrets.token_urlsafe(12)}"
        run = self._run
        request = StoredRequest(
            *(request_id, run.run_id, run.session, run.conversation_id, run.user),
            *(call, summary, save(), _S.PENDING),
        )
        self._store.add(request, now=self._gate._now())
        self._own(request_id)
        return request_id

    def _own(self, request_id: str) -> None:
        self._mine.append(request_id)
        self._gate._owned.add(request_id)

    def _finish(self, request_id: str) -> None:
        stored = self._store.get(request_id)
        target = _AT_END.get(stored.state) if stored is not None else None
        if target is not None:
            self._store.move(request_id, target, actor=self._run.run_id, now=self._gate._now())
