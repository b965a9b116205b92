"""The router: sessions in order, one turn at a time each, under a global cap.

``submit`` is synchronous (a few SQLite statements) so that dedupe, queueing
and storing the user's message happen atomically with respect to the event
loop.  Each busy session gets one driver task, owned by the router's
TaskGroup, that runs its turns one after another; each turn runs in a child
task so that ``/stop``, ``chat.abort`` and interrupts can cancel the turn
without cancelling the driver.

Every turn ends with exactly one stored ``chat.final`` or ``chat.error``,
whatever happens: completion, failure, a stop, a timeout, a shutdown, or a
crash of the previous process (found in the store at start-up); its payload
carries the run's ``exit_status``.

A run starts from a user message, or from a ``Resumption``: a turn the brain
saved at an approval that outlived its process.  :meth:`Router.resume` queues
those at start-up like any other run (ordered in the session, stoppable),
with no user message.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from gateway.bus import Bus
from gateway.errors import KeyReused, QueueFull, SessionError, UnknownSession
from gateway.events import (
    ApprovalDecision,
    ApprovalRequested,
    ExitStatus,
    FinalReply,
    InboundMessage,
    ReplyEvent,
    Resumption,
    RunStatus,
    TextDelta,
    TurnFailed,
    TurnRequest,
)
from gateway.hub import EventHub
from gateway.metrics import METRICS
from gateway.replies import reply_to_event
from gateway.sessions import (
    ENDED_STATES,
    Control,
    ControlKind,
    OfferKind,
    PendingRun,
    QueueMode,
    SessionQueue,
    TurnState,
    advance,
    parse_control,
)
from gateway.store import GatewayStore, SessionRecord

__all__ = ["DEDUPE_RETENTION_S", "Router", "RouterSettings", "SubmitResult"]

DEDUPE_RETENTION_S = 7 * 24 * 3600

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RouterSettings:
    queue_mode: QueueMode = QueueMode.FOLLOWUP
    max_concurrent_turns: int = 4
    max_queued_per_session: int = 20
    turn_timeout_s: float = 300.0


@dataclass(frozen=True, slots=True)
class SubmitResult:
    run_id: str
    session: str
    duplicate: bool = False


@dataclass(slots=True)
class _ActiveTurn:
    run_id: str
    state: TurnState = TurnState.QUEUED
    task: asyncio.Task[None] | None = None
    text: list[str] = field(default_factory=list)
    approvals: list[str] = field(default_factory=list)
    ended: bool = False


def _new_run_id() -> str:
    return "run_" + uuid.uuid4().hex[:20]


class Router:
    def __init__(
        self,
        *,
        store: GatewayStore,
        hub: EventHub,
        bus: Bus,
        settings: RouterSettings,
        clock: Callable[[], float] = time.time,
        new_run_id: Callable[[], str] = _new_run_id,
    ) -> None:
        self._store = store
        self._hub = hub
        self._bus = bus
        self._settings = settings
        self._clock = clock
        self._new_run_id = new_run_id
        self._slots = asyncio.Semaphore(settings.max_concurrent_turns)
        self._queues: dict[str, SessionQueue] = {}
        # Sessions seen by this process (this process is the store's only writer).
        self._sessions: dict[str, SessionRecord] = {}
        self._titled: set[str] = set()
        self._active: dict[str, _ActiveTurn] = {}
        self._resumptions: dict[str, Resumption] = {}  # run id -> what it continues
        self._tasks: asyncio.TaskGroup | None = None
        self._pruning: asyncio.Task[None] | None = None
        self._closing = False
        self._idle = asyncio.Event()
        self._idle.set()

    async def __aenter__(self) -> Self:
        self._tasks = asyncio.TaskGroup()
        await self._tasks.__aenter__()
        self._fail_runs_left_by_previous_process()
        self._pruning = self._tasks.create_task(self._forget_old_keys(), name="dedupe-pruning")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
        if self._pruning is not None:
            self._pruning.cancel()
        self._stop_everything("the server is shutting down")
        assert self._tasks is not None
        # Everything was told to stop: wait for it, but do not hand the group an
        # error from the body, which would come out wrapped in an ExceptionGroup.
        await self._tasks.__aexit__(None, None, None)

    # -- public API -------------------------------------------------------

    @property
    def busy_sessions(self) -> int:
        return len(self._queues)

    def check(self) -> str:
        """``"ok"`` while accepting messages (for ``/readyz``)."""
        return "shutting down" if self._closing else "ok"

    def session_for(self, key: str, principal: str) -> SessionRecord:
        """The session ``key`` (created for ``principal`` if new); refuse another's."""
        record = self._sessions.get(key)
        if record is None:
            record = self._store.ensure_session(key, principal, self._clock())
            self._sessions[key] = record
        if record.principal != principal:
            raise UnknownSession(f"no session {key!r}", session=key)
        return record

    def submit(
        self, message: InboundMessage, *, principal: str, mode: QueueMode | None = None
    ) -> SubmitResult:
        """Accept a user message: dedupe it, store it, and queue or start its turn."""
        if self._closing:
            raise SessionError("the server is shutting down", session=None)
        key = str(message.session_key)
        self.session_for(key, principal)
        run_id = self._new_run_id()
        claim_key = f"{key}|{message.id}"
        claim = self._store.claim(claim_key, key, run_id, _digest(message), self._clock())
        if claim.duplicate:
            if not claim.same_content:
                raise KeyReused(f"message id {message.id!r} was already used for another message")
            METRICS.duplicates.inc()
            return SubmitResult(claim.run_id, claim.session, duplicate=True)
        control = parse_control(message.text)
        if control is not None:
            self._publish_user_message(key, run_id, message)
            self._apply_control(key, run_id, control, by=f"{message.channel}:{message.sender.id}")
            return SubmitResult(run_id, key)
        try:
            result = self._enqueue(key, run_id, message, mode or self._settings.queue_mode)
        except QueueFull:
            self._store.release_claim(claim_key)
            raise
        if result.run_id != run_id:
            self._store.rebind_claim(claim_key, result.run_id)
        return result

    def resume(self, resumptions: Sequence[Resumption]) -> list[str]:
        """Queue a run for each saved turn (call at start-up); their run ids, in order.

        A resumption whose session this store does not know is skipped (logged).
        """
        started = []
        for resumption in resumptions:
            record = self._store.get_session(resumption.session)
            if record is None:
                log.warning(
                    "cannot resume %s: no session %r", resumption.checkpoint, resumption.session
                )
                continue
            self._sessions[record.key] = record
            started.append(self._enqueue_resumed(record.key, resumption))
        return started

    def abort(self, session: str, run_id: str | None = None) -> bool:
        """Stop the running turn of ``session`` (only if it is ``run_id``, when given)."""
        active = self._active.get(session)
        if active is None or active.task is None or (run_id and active.run_id != run_id):
            return self._drop_waiting_run(session, run_id) if run_id else False
        active.task.cancel()
        return True

    def new_conversation(self, session: str) -> SessionRecord:
        """Start afresh: stop what runs, and give the brain a new transcript."""
        self._stop_session(session)
        record = self._store.start_new_epoch(session, self._clock())
        self._sessions[session] = record
        return record

    async def resolve_approval(
        self, session: str | None, request_id: str, decision: ApprovalDecision, *, by: str
    ) -> bool:
        resolved = await self._bus.resolve_approval(request_id, decision, decided_by=by)
        owner = session or self._session_waiting_on(request_id)
        if resolved and owner is not None:
            active = self._active.get(owner)
            if active is not None and request_id in active.approvals:
                active.approvals.remove(request_id)
                self._hub.publish(
                    owner,
                    "approval.resolved",
                    {
                        "session": owner,
                        "run_id": active.run_id,
                        "request_id": request_id,
                        "decision": str(decision),
                        "decided_by": by,
                    },
                )
        return resolved

    async def wait_idle(self, grace_s: float) -> bool:
        """Stop accepting messages and wait for running turns; False after ``grace_s``."""
        self._closing = True
        try:
            async with asyncio.timeout(grace_s):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    # -- queueing ---------------------------------------------------------

    def _enqueue(
        self, key: str, run_id: str, message: InboundMessage, mode: QueueMode
    ) -> SubmitResult:
        queue = self._queues.setdefault(key, SessionQueue(self._settings.max_queued_per_session))
        try:
            offer = queue.offer(run_id, message, mode)
        except QueueFull:
            if queue.idle:
                del self._queues[key]
            raise
        self._publish_user_message(key, offer.run_id, message)
        if offer.kind is OfferKind.START:
            self._start_driver(key)
        elif offer.kind is OfferKind.INTERRUPT:
            self._finish_dropped(key, offer.dropped)
            if offer.stop_run_id is not None:
                self.abort(key, offer.stop_run_id)
        if offer.kind is not OfferKind.COLLECTED:
            self._store.record_run(offer.run_id, key, TurnState.QUEUED, self._clock())
        return SubmitResult(offer.run_id, key)

    def _enqueue_resumed(self, key: str, resumption: Resumption) -> str:
        queue = self._queues.setdefault(key, SessionQueue(self._settings.max_queued_per_session))
        run = PendingRun(self._new_run_id())  # no user message: the brain has the turn
        self._resumptions[run.run_id] = resumption
        self._store.record_run(run.run_id, key, TurnState.QUEUED, self._clock())
        if queue.idle:
            queue.running = run
            self._start_driver(key)
        else:
            queue.waiting.append(run)
        return run.run_id

    def _start_driver(self, key: str) -> None:
        assert self._tasks is not None, "use the router inside 'async with'"
        self._idle.clear()
        self._tasks.create_task(self._drive(key), name=f"session:{key}")

    async def _drive(self, key: str) -> None:
        queue = self._queues[key]
        run = queue.running
        try:
            while run is not None:
                try:
                    await self._run_turn(key, run)
                except Exception:  # a broken turn must not take the other sessions down
                    log.exception("session %s: turn %s crashed", key, run.run_id)
                run = queue.start_next()
        finally:
            self._queues.pop(key, None)
            if not self._queues:
                self._idle.set()

    # -- one turn ---------------------------------------------------------

    async def _run_turn(self, key: str, run: PendingRun) -> None:
        active = _ActiveTurn(run.run_id)
        self._active[key] = active
        try:
            async with self._slots:
                if self._closing:
                    self._end(key, active, TurnFailed(run.run_id, "unavailable", _SHUTDOWN, True))
                    return
                await self._run_turn_task(key, run, active)
        finally:
            self._active.pop(key, None)

    def _request_for(self, key: str, run: PendingRun) -> TurnRequest:
        conversation_id = self._sessions[key].conversation_id
        resumption = self._resumptions.pop(run.run_id, None)
        if resumption is not None:
            return TurnRequest(
                run.run_id, key, conversation_id, resumption.user, (), resume=resumption.checkpoint
            )
        user = run.messages[0].user_key
        return TurnRequest(run.run_id, key, conversation_id, user, tuple(run.messages))

    async def _run_turn_task(self, key: str, run: PendingRun, active: _ActiveTurn) -> None:
        request = self._request_for(key, run)
        self._move(key, active, TurnState.RUNNING)
        METRICS.turns_started.inc()
        assert self._tasks is not None
        active.task = self._tasks.create_task(self._consume(key, request, active))
        started = self._clock()
        await asyncio.wait({active.task})
        METRICS.turn_seconds.observe(self._clock() - started)
        if active.task.cancelled() and not active.ended:
            cut = ExitStatus.INTERRUPTED if self._closing else None  # a shutdown, not a person
            stopped = FinalReply(run.run_id, "".join(active.text), RunStatus.STOPPED, cut)
            self._end(key, active, stopped)

    async def _consume(self, key: str, request: TurnRequest, active: _ActiveTurn) -> None:
        try:
            async with asyncio.timeout(self._settings.turn_timeout_s):
                async with aclosing(self._bus.run_turn(request)) as replies:
                    async for reply in replies:
                        self._on_reply(key, active, reply)
        except TimeoutError:
            seconds = self._settings.turn_timeout_s
            message = f"the reply took longer than {seconds:g} s and was stopped"
            self._end(key, active, TurnFailed(request.run_id, "timeout", message, True))
        except Exception:
            log.exception("turn %s in %s failed", request.run_id, key)
            self._end(key, active, TurnFailed(request.run_id, "internal", _INTERNAL, True))
        if not active.ended:
            message = "the assistant ended the turn without a reply"
            self._end(key, active, TurnFailed(request.run_id, "internal", message, True))

    def _on_reply(self, key: str, active: _ActiveTurn, reply: ReplyEvent) -> None:
        if active.ended:
            return
        if isinstance(reply, FinalReply | TurnFailed):
            self._end(key, active, reply)
            return
        if isinstance(reply, ApprovalRequested):
            active.approvals.append(reply.request_id)
            self._move(key, active, TurnState.AWAITING_APPROVAL)
        elif active.state is TurnState.AWAITING_APPROVAL:
            self._move(key, active, TurnState.RUNNING)
        if isinstance(reply, TextDelta):
            active.text.append(reply.text)
        self._publish_reply(key, reply)

    def _move(self, key: str, active: _ActiveTurn, state: TurnState) -> None:
        active.state = advance(active.state, state)
        if state in ENDED_STATES:  # the store needs to know only which runs are unfinished
            self._store.record_run(active.run_id, key, state, self._clock())

    def _end(self, key: str, active: _ActiveTurn, reply: FinalReply | TurnFailed) -> None:
        active.ended = True
        self._publish_reply(key, reply)
        state = _final_state(reply)
        self._move(key, active, state)
        METRICS.turns_ended.labels(state=str(state)).inc()

    def _publish_reply(self, key: str, reply: ReplyEvent) -> None:
        self._hub.publish(key, *reply_to_event(key, reply))

    def _publish_user_message(self, key: str, run_id: str, message: InboundMessage) -> None:
        sender: dict[str, str] = {"id": message.sender.id}
        if message.sender.display_name:
            sender["name"] = message.sender.display_name
        if key not in self._titled:
            self._store.set_title_if_missing(key, message.text[:80])
            self._titled.add(key)
        self._hub.publish(
            key,
            "chat.message",
            {"session": key, "run_id": run_id, "text": message.text, "sender": sender},
        )

    # -- control commands and stopping ----------------------------------

    def _apply_control(self, key: str, run_id: str, control: Control, *, by: str) -> None:
        match control.kind:
            case ControlKind.STOP:
                stopped = self._stop_session(key)
                text = "Stopped." if stopped else "Nothing is running."
            case ControlKind.NEW:
                self.new_conversation(key)
                text = "Started a new conversation."
            case ControlKind.APPROVE | ControlKind.DENY:
                text = self._control_approval(key, control, by=by)
        self._publish_reply(key, FinalReply(run_id, text))

    def _control_approval(self, key: str, control: Control, *, by: str) -> str:
        active = self._active.get(key)
        pending = active.approvals if active else []
        request_id = control.argument or (pending[-1] if pending else "")
        if request_id not in pending:
            return "There is no pending approval to answer."
        decision = (
            ApprovalDecision.APPROVE
            if control.kind is ControlKind.APPROVE
            else ApprovalDecision.DENY
        )
        assert self._tasks is not None
        self._tasks.create_task(self.resolve_approval(key, request_id, decision, by=by))
        return "Approved." if decision is ApprovalDecision.APPROVE else "Denied."

    def _stop_session(self, key: str) -> bool:
        queue = self._queues.get(key)
        dropped = queue.drop_waiting() if queue else ()
        self._finish_dropped(key, dropped)
        return self.abort(key) or bool(dropped)

    def _drop_waiting_run(self, key: str, run_id: str) -> bool:
        queue = self._queues.get(key)
        if queue is None:
            return False
        kept = [run for run in queue.waiting if run.run_id != run_id]
        if len(kept) == len(queue.waiting):
            return False
        queue.waiting.clear()
        queue.waiting.extend(kept)
        self._finish_dropped(key, (run_id,))
        return True

    def _finish_dropped(self, key: str, run_ids: tuple[str, ...]) -> None:
        for run_id in run_ids:
            self._resumptions.pop(run_id, None)
            self._end(key, _ActiveTurn(run_id), FinalReply(run_id, "", RunStatus.STOPPED))

    def _stop_everything(self, reason: str) -> None:
        for key in list(self._queues):
            self._stop_session(key)
        log.debug("stopped all sessions: %s", reason)

    def _session_waiting_on(self, request_id: str) -> str | None:
        return next((k for k, a in self._active.items() if request_id in a.approvals), None)

    async def _forget_old_keys(self) -> None:
        """Idempotency keys are kept for a week, then forgotten (checked hourly)."""
        while not self._closing:
            self._store.forget_dedupe_before(self._clock() - DEDUPE_RETENTION_S)
            await asyncio.sleep(3600)

    def _fail_runs_left_by_previous_process(self) -> None:
        for run_id, key, state in self._store.unfinished_runs():
            message = "the server restarted before this reply finished"
            left = _ActiveTurn(run_id, state=TurnState(state))
            self._end(key, left, TurnFailed(run_id, "interrupted", message, True))


def _digest(message: InboundMessage) -> str:
    return hashlib.sha256(message.text.encode("utf-8", "surrogatepass")).hexdigest()


_SHUTDOWN = "the server is shutting down"
_INTERNAL = "something went wrong on our side while answering"


def _final_state(reply: FinalReply | TurnFailed) -> TurnState:
    if isinstance(reply, TurnFailed):
        return TurnState.FAILED
    return TurnState.STOPPED if reply.status is RunStatus.STOPPED else TurnState.DONE
