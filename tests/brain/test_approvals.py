"""Approvals: the turn waits for a person; resolve_approval settles it exactly once."""

from __future__ import annotations

import asyncio
import hashlib
from contextlib import aclosing
from pathlib import Path

import pytest

from brain import Brain
from brain.approvals import ApprovalGate
from gateway.events import (
    ApprovalDecision,
    ApprovalRequested,
    ReplyEvent,
    ToolActivity,
    ToolPhase,
    TurnRequest,
)
from tests.brain.conftest import final_text, settings_for, turn

BUMP_THEN_REPLY = "- tool_calls: [{name: counter__bump}]\n- reply: finished\n"


async def open_brain(tmp_path: Path, skill_dir: Path, steps: str = BUMP_THEN_REPLY) -> Brain:
    path = tmp_path / "script.yaml"
    path.write_text(steps, encoding="utf-8")
    settings = settings_for(
        tmp_path,
        skill_dir,
        model=f"scripted:{path}",
        approval_required_tools=frozenset({"counter__bump", "calc__evaluate"}),
    )
    return await Brain.open(settings)


async def drive(brain: Brain, request: TurnRequest, decision: ApprovalDecision) -> list[ReplyEvent]:
    events: list[ReplyEvent] = []
    async for event in brain.run_turn(request):
        events.append(event)
        if isinstance(event, ApprovalRequested):
            assert await brain.resolve_approval(event.request_id, decision, decided_by="web:alice")
            assert not await brain.resolve_approval(
                event.request_id, decision, decided_by="web:eve"
            )
    return events


def count_file(tmp_path: Path, user: str = "web:alice") -> Path:
    digest = hashlib.sha256(user.encode()).hexdigest()[:16]
    return tmp_path / "data" / "skill-data" / "counter" / digest / "count"


async def test_approve_runs_the_tool_once(tmp_path: Path, skill_dir: Path) -> None:
    brain = await open_brain(tmp_path, skill_dir)
    try:
        events = await drive(brain, turn("bump it"), ApprovalDecision.APPROVE)
    finally:
        await brain.aclose()
    request = next(e for e in events if isinstance(e, ApprovalRequested))
    assert (request.tool, request.summary) == ("counter__bump", "counter · bump")
    ends = [e for e in events if isinstance(e, ToolActivity) and e.phase is ToolPhase.END]
    assert len(ends) == 1
    assert count_file(tmp_path).read_text() == "1"
    assert final_text(events) == "finished"


async def test_deny_does_not_run_the_tool(tmp_path: Path, skill_dir: Path) -> None:
    brain = await open_brain(tmp_path, skill_dir)
    try:
        events = await drive(brain, turn("bump it"), ApprovalDecision.DENY)
        history = brain._transcript.recent("conv-1", 10)
    finally:
        await brain.aclose()
    assert not any(isinstance(e, ToolActivity) for e in events)
    assert not count_file(tmp_path).exists()
    assert "denied" in history[2].content
    assert final_text(events) == "finished"


async def test_direct_commands_need_approval_too(tmp_path: Path, skill_dir: Path) -> None:
    brain = await open_brain(tmp_path, skill_dir)
    try:
        approved = await drive(brain, turn("/calc 1+1"), ApprovalDecision.APPROVE)
        denied = await drive(brain, turn("/calc 1+1"), ApprovalDecision.DENY)
    finally:
        await brain.aclose()
    assert final_text(approved) == "2"
    assert final_text(denied) == "Not done: the user denied this action"


async def test_unknown_request_ids_are_refused(tmp_path: Path, skill_dir: Path) -> None:
    brain = await open_brain(tmp_path, skill_dir)
    try:
        assert not await brain.resolve_approval(
            "apr_nope", ApprovalDecision.APPROVE, decided_by="x"
        )
    finally:
        await brain.aclose()


async def test_closing_a_waiting_turn_withdraws_the_request(
    tmp_path: Path, skill_dir: Path
) -> None:
    brain = await open_brain(tmp_path, skill_dir)
    try:
        async with aclosing(brain.run_turn(turn("bump it"))) as events:
            request = None
            async for event in events:
                if isinstance(event, ApprovalRequested):
                    request = event
                    break
        assert request is not None
        assert brain._approvals.pending == 0
        assert not await brain.resolve_approval(
            request.request_id, ApprovalDecision.APPROVE, decided_by="x"
        )
    finally:
        await brain.aclose()
    assert not count_file(tmp_path).exists()


async def test_cancelling_a_waiting_turn_cleans_up(tmp_path: Path, skill_dir: Path) -> None:
    brain = await open_brain(tmp_path, skill_dir)
    asked = asyncio.Event()

    async def consume() -> None:
        async with aclosing(brain.run_turn(turn("bump it"))) as events:
            async for event in events:
                if isinstance(event, ApprovalRequested):
                    asked.set()

    try:
        task = asyncio.create_task(consume())
        await asked.wait()
        assert brain._approvals.pending == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert brain._approvals.pending == 0
    finally:
        await brain.aclose()


async def test_gate_settles_each_request_once() -> None:
    gate = ApprovalGate()
    async with gate.request("run-1", "t") as pending:
        assert gate.resolve(pending.request_id, ApprovalDecision.DENY, decided_by="a")
        assert not gate.resolve(pending.request_id, ApprovalDecision.APPROVE, decided_by="b")
        assert await pending.wait() is ApprovalDecision.DENY
    assert gate.pending == 0
    assert not gate.resolve(pending.request_id, ApprovalDecision.APPROVE, decided_by="a")
