"""Session ordering rules, with no I/O: queue modes, turn lifecycle, control commands.

Theory of operation
-------------------
A session runs at most one turn at a time.  A message that arrives while a
turn runs is handled by the session's *queue mode*:

``followup`` (default)
    it waits and becomes its own turn after the running one.
``collect``
    it joins the single waiting turn (created on first use), so a burst of
    messages typed during a long reply is answered once, together.
``interrupt``
    the running turn is stopped, waiting turns are dropped, and this message
    starts as soon as the running turn has stopped.

Control commands (``/stop``, ``/new``, ``/approve``, ``/deny``) never queue:
the router acts on them at once.  :class:`SessionQueue` holds one session's
state; the router owns one per busy session and does the I/O.

Every turn moves through :data:`TURN_TRANSITIONS`; :func:`advance` refuses
anything else, so a bug shows up as an exception rather than a stuck session.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

from gateway.errors import QueueFull
from gateway.events import InboundMessage

__all__ = [
    "ENDED_STATES",
    "TURN_TRANSITIONS",
    "Control",
    "ControlKind",
    "IllegalTransition",
    "Offer",
    "OfferKind",
    "PendingRun",
    "QueueMode",
    "SessionQueue",
    "TurnState",
    "advance",
    "parse_control",
]


class QueueMode(StrEnum):
    FOLLOWUP = "followup"
    COLLECT = "collect"
    INTERRUPT = "interrupt"


class TurnState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    DONE = "done"
    FAILED = "failed"
    STOPPED = "stopped"


ENDED_STATES = frozenset({TurnState.DONE, TurnState.FAILED, TurnState.STOPPED})
TURN_TRANSITIONS: dict[TurnState, frozenset[TurnState]] = {
    TurnState.QUEUED: frozenset({TurnState.RUNNING, TurnState.FAILED, TurnState.STOPPED}),
    TurnState.RUNNING: frozenset({TurnState.AWAITING_APPROVAL} | ENDED_STATES),
    TurnState.AWAITING_APPROVAL: frozenset({TurnState.RUNNING} | ENDED_STATES),
    TurnState.DONE: frozenset(),
    TurnState.FAILED: frozenset(),
    TurnState.STOPPED: frozenset(),
}


class IllegalTransition(RuntimeError):
    """A turn was asked to move in a way the lifecycle table forbids (a bug)."""


def advance(current: TurnState, new: TurnState) -> TurnState:
    if new not in TURN_TRANSITIONS[current]:
        raise IllegalTransition(f"turn cannot go from {current} to {new}")
    return new


class ControlKind(StrEnum):
    STOP = "stop"
    NEW = "new"
    APPROVE = "approve"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class Control:
    kind: ControlKind
    argument: str = ""


def parse_control(text: str) -> Control | None:
    """``/stop``, ``/new``, ``/approve [id]``, ``/deny [id]``; also ``/stop@botname``."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return None
    head, _, rest = stripped[1:].partition(" ")
    command = head.split("@", 1)[0].lower()
    try:
        kind = ControlKind(command)
    except ValueError:
        return None
    return Control(kind, rest.strip())


@dataclass(slots=True)
class PendingRun:
    run_id: str
    messages: list[InboundMessage] = field(default_factory=list)


class OfferKind(StrEnum):
    START = "start"  # the session was idle: run it now
    QUEUED = "queued"  # waits behind the running turn
    COLLECTED = "collected"  # joined the waiting turn ``run_id``
    INTERRUPT = "interrupt"  # stop ``stop_run_id``; this run starts when it has stopped


@dataclass(frozen=True, slots=True)
class Offer:
    kind: OfferKind
    run_id: str
    stop_run_id: str | None = None
    dropped: tuple[str, ...] = ()


class SessionQueue:
    """One session's running turn and waiting turns."""

    def __init__(self, max_waiting: int) -> None:
        self.running: PendingRun | None = None
        self.waiting: deque[PendingRun] = deque()
        self._max_waiting = max_waiting

    @property
    def idle(self) -> bool:
        return self.running is None and not self.waiting

    def offer(self, run_id: str, message: InboundMessage, mode: QueueMode) -> Offer:
        """Place ``message`` (new run ``run_id``) according to ``mode``."""
        if self.running is None and not self.waiting:
            self.running = PendingRun(run_id, [message])
            return Offer(OfferKind.START, run_id)
        if mode is QueueMode.INTERRUPT:
            return self._interrupt(run_id, message)
        if mode is QueueMode.COLLECT and self.waiting:
            last = self.waiting[-1]
            last.messages.append(message)
            return Offer(OfferKind.COLLECTED, last.run_id)
        self._check_room()
        self.waiting.append(PendingRun(run_id, [message]))
        return Offer(OfferKind.QUEUED, run_id)

    def _interrupt(self, run_id: str, message: InboundMessage) -> Offer:
        dropped = tuple(run.run_id for run in self.waiting)
        self.waiting.clear()
        self.waiting.append(PendingRun(run_id, [message]))
        stop = self.running.run_id if self.running is not None else None
        return Offer(OfferKind.INTERRUPT, run_id, stop_run_id=stop, dropped=dropped)

    def _check_room(self) -> None:
        if len(self.waiting) >= self._max_waiting:
            raise QueueFull(f"{len(self.waiting)} messages are already waiting in this session")

    def start_next(self) -> PendingRun | None:
        """The running turn ended: promote the next waiting one, if any."""
        self.running = self.waiting.popleft() if self.waiting else None
        return self.running

    def drop_waiting(self) -> tuple[str, ...]:
        """``/stop``: forget every waiting turn; returns their run ids."""
        dropped = tuple(run.run_id for run in self.waiting)
        self.waiting.clear()
        return dropped
