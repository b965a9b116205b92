"""The seam between the gateway and the brain.

The gateway never calls the brain directly: it asks a :class:`Bus` to run a
turn and receives the brain's reply events as an async generator.  Closing the
generator early (or cancelling the task that drives it) stops the turn.

:class:`InProcessBus` is the default for one process: it calls a
:class:`Brain` living in the same event loop.  A scale-out bus (Redis Streams)
implements the same interface with the brain in another process.

Runs normally start from a user message.  The one other way is a
:class:`~gateway.events.Resumption`: a turn the brain saved at an approval
outlived the process that ran it; the composition root asks for them once at
start-up (:meth:`Bus.resumptions`) and the router runs each as a new run.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Protocol

from gateway.events import ApprovalDecision, ReplyEvent, Resumption, SkillSummary, TurnRequest

__all__ = ["Brain", "Bus", "InProcessBus"]


class Brain(Protocol):
    """What the gateway needs from a brain (implemented by ``brain.Brain``)."""

    def run_turn(self, request: TurnRequest) -> AsyncGenerator[ReplyEvent, None]:
        """Answer ``request``; the last event is a ``FinalReply`` or a ``TurnFailed``."""
        ...

    async def resolve_approval(
        self, request_id: str, decision: ApprovalDecision, *, decided_by: str
    ) -> bool:
        """Settle a pending approval; False if no such request is pending."""
        ...

    async def resumptions(self) -> Sequence[Resumption]:
        """Saved turns that no running turn is continuing; ask once, at start-up."""
        ...

    def list_skills(self) -> Sequence[SkillSummary]: ...


class Bus(Protocol):
    def run_turn(self, request: TurnRequest) -> AsyncGenerator[ReplyEvent, None]: ...

    async def resolve_approval(
        self, request_id: str, decision: ApprovalDecision, *, decided_by: str
    ) -> bool: ...

    async def resumptions(self) -> Sequence[Resumption]: ...

    def list_skills(self) -> Sequence[SkillSummary]: ...


class InProcessBus:
    """Runs turns on a brain in this process and event loop."""

    def __init__(self, brain: Brain) -> None:
        self._brain = brain

    def run_turn(self, request: TurnRequest) -> AsyncGenerator[ReplyEvent, None]:
        return self._brain.run_turn(request)

    async def resolve_approval(
        self, request_id: str, decision: ApprovalDecision, *, decided_by: str
    ) -> bool:
        return await self._brain.resolve_approval(request_id, decision, decided_by=decided_by)

    async def resumptions(self) -> Sequence[Resumption]:
        return await self._brain.resumptions()

    def list_skills(self) -> Sequence[SkillSummary]:
        return self._brain.list_skills()
