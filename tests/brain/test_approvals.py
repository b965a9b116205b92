"""Approvals: a turn waits for a person; the request outlives the process; the tool runs once."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from pathlib import Path

import pytest

from brain import Brain
from brain.approvals import ApprovalGate, RunRef
from brain.guard.approval_store import TRANSITIONS, ApprovalState, ApprovalStore, StoredRequest
from brain.models import Capabilities, ModelRequest, ModelResult, Role, TextChunk, ToolCall
from brain.models.base import ModelChunk
from brain.settings import BrainSettings
from brain.skills import SkillSet
from brain.transcript import Transcript
from gateway.events import (
    ApprovalDecision,
    ApprovalRequested,
    ExitStatus,
    FinalReply,
    ReplyEvent,
    ToolActivity,
    ToolPhase,
    TurnFailed,
    TurnRequest,
    exit_status_of,
)
from tests.brain.conftest import final_text, settings_for, turn

BUMP_THEN_REPLY = "- tool_calls: [{name: counter__bump}]\n- reply: finished\n"
APPROVE, DENY = ApprovalDecision.APPROVE, ApprovalDecision.DENY
PENDING = ApprovalState.PENDING
NEEDS = frozenset({"counter__bump", "calc__evaluate"})


async def open_brain(tmp_path: Path, skill_dir: Path, steps: str = BUMP_THEN_REPLY) -> Brain:
    path = tmp_path / "script.yaml"
    path.write_text(steps, encoding="utf-8")
    settings = settings_for(
        tmp_path, skill_dir, model=f"scripted:{path}", approval_required_tools=NEEDS
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


def bumps(tmp_path: Path) -> int:
    path = count_file(tmp_path)
    return int(path.read_text()) if path.exists() else 0


async def test_approve_runs_the_tool_once(tmp_path: Path, skill_dir: Path) -> None:
    brain = await open_brain(tmp_path, skill_dir)
    try:
        events = await drive(brain, turn("bump it"), APPROVE)
    finally:
        await brain.aclose()
    request = next(e for e in events if isinstance(e, ApprovalRequested))
    assert (request.tool, request.summary) == ("counter__bump", "counter · bump")
    ends = [e for e in events if isinstance(e, ToolActivity) and e.phase is ToolPhase.END]
    assert len(ends) == 1
    assert bumps(tmp_path) == 1
    assert final_text(events) == "finished"
    assert exit_status_of(events[-1]) is ExitStatus.COMPLETED  # type: ignore[arg-type]


async def test_deny_does_not_run_the_tool(tmp_path: Path, skill_dir: Path) -> None:
    brain = await open_brain(tmp_path, skill_dir)
    try:
        events = await drive(brain, turn("bump it"), DENY)
        history = brain._transcript.recent("conv-1", 10)
    finally:
        await brain.aclose()
    assert not any(isinstance(e, ToolActivity) for e in events)
    assert not count_file(tmp_path).exists()
    assert "denied" in history[2].content
    assert final_text(events) == "finished"
    assert exit_status_of(events[-1]) is ExitStatus.DENIED  # type: ignore[arg-type]


async def test_direct_commands_need_approval_too(tmp_path: Path, skill_dir: Path) -> None:
    brain = await open_brain(tmp_path, skill_dir)
    try:
        approved = await drive(brain, turn("/calc 1+1"), APPROVE)
        denied = await drive(brain, turn("/calc 1+1"), DENY)
    finally:
        await brain.aclose()
    assert final_text(approved) == "2"
    assert final_text(denied) == "Not done: the user denied this action"
    assert isinstance(denied[-1], FinalReply)
    assert denied[-1].exit_status is ExitStatus.DENIED


async def test_unknown_request_ids_are_refused(tmp_path: Path, skill_dir: Path) -> None:
    brain = await open_brain(tmp_path, skill_dir)
    try:
        assert not await brain.resolve_approval("apr_nope", APPROVE, decided_by="x")
    finally:
        await brain.aclose()


async def test_closing_a_waiting_turn_withdraws_the_request(
    tmp_path: Path, skill_dir: Path
) -> None:
    brain = await open_brain(tmp_path, skill_dir)
    try:
        request = await first_request(brain, turn("bump it"))
        assert brain._approvals.pending == 0
        assert not await brain.resolve_approval(request.request_id, APPROVE, decided_by="x")
        assert await brain.resumptions() == []
        stored = brain._approvals.store.get(request.request_id)
        assert stored is not None and stored.state is ApprovalState.WITHDRAWN
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
        assert await brain.resumptions() == []
    finally:
        await brain.aclose()


# -- across a restart -----------------------------------------------------------


class BumpingModel:
    """Decides from the messages alone, so a new process continues where the old one was:
    bump the counter when asked; after a tool result, say what happened."""

    name = "bumper"

    def __init__(self) -> None:
        self.requests: list[ModelRequest] = []

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(chooses_tools=True, streams=True, context_window=32_000)

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ModelChunk, None]:
        self.requests.append(request)
        last = request.messages[-1]
        if last.role is Role.TOOL:
            text = f"tool said {last.content}"
            yield TextChunk(text)
            yield ModelResult(text)
            return
        yield ModelResult("", (ToolCall(f"call_{len(self.requests)}", "counter__bump", {}),))

    async def aclose(self) -> None:
        return None


async def restarted(settings: BrainSettings, model: BumpingModel | None = None) -> Brain:
    skills = SkillSet.load(settings.skill_dirs)
    transcript = Transcript.open(settings.data_dir / "state.db")
    return Brain(settings, provider=model or BumpingModel(), skills=skills, transcript=transcript)


async def first_request(brain: Brain, request: TurnRequest) -> ApprovalRequested:
    """Run until the approval is requested, then stop the run (as the gateway would)."""
    async with aclosing(brain.run_turn(request)) as events:
        async for event in events:
            if isinstance(event, ApprovalRequested):
                return event
    raise AssertionError("no approval was requested")


async def shut_down_waiting(settings: BrainSettings) -> ApprovalRequested:
    """A first process asks for an approval and is shut down while it waits."""
    brain = await restarted(settings)
    try:
        brain.drain()
        return await first_request(brain, turn("bump it", user="web:alice"))
    finally:
        await brain.aclose()


def continuation(request_id: str, run_id: str = "run-continued") -> TurnRequest:
    return TurnRequest(run_id, "gateway-session", "gateway-conv", "gateway-user", (), request_id)


@pytest.fixture
def settings(tmp_path: Path, skill_dir: Path) -> BrainSettings:
    return settings_for(tmp_path, skill_dir, approval_required_tools=NEEDS)


async def test_a_restart_keeps_the_request_and_approving_it_runs_the_tool_once(
    tmp_path: Path, settings: BrainSettings
) -> None:
    asked = await shut_down_waiting(settings)
    model = BumpingModel()
    brain = await restarted(settings, model)
    try:
        [resumption] = await brain.resumptions()
        assert (resumption.checkpoint, resumption.user) == (asked.request_id, "web:alice")
        assert resumption.session == "web:default:c1"
        events = await drive(brain, continuation(asked.request_id), APPROVE)
        assert await brain.resumptions() == []
        history = brain._transcript.recent("conv-1", 10)
        audit = brain._approvals.audit(asked.request_id)
    finally:
        await brain.aclose()
    again = next(e for e in events if isinstance(e, ApprovalRequested))
    assert (again.request_id, again.run_id) == (asked.request_id, "run-continued")
    assert bumps(tmp_path) == 1
    assert final_text(events) == 'tool said {"count":1}'
    assert [m.role for m in history] == [Role.USER, Role.ASSISTANT, Role.TOOL, Role.ASSISTANT]
    assert [m.content for m in model.requests[0].messages[-3:]] == ["bump it", "", '{"count":1}']
    assert [(a.actor, a.action) for a in audit] == [
        ("web:alice", "requested"),
        ("web:alice", "approved"),
        ("web:eve", "refused approved"),
        ("run-continued", "running"),
        ("run-continued", "done"),
        ("run-continued", "closed"),
    ]


async def test_a_decision_made_while_no_process_waits_is_kept(
    tmp_path: Path, settings: BrainSettings
) -> None:
    asked = await shut_down_waiting(settings)
    brain = await restarted(settings)
    try:
        assert await brain.resolve_approval(asked.request_id, APPROVE, decided_by="cli:bob")
        assert not await brain.resolve_approval(asked.request_id, DENY, decided_by="cli:eve")
        events = [e async for e in brain.run_turn(continuation(asked.request_id))]
    finally:
        await brain.aclose()
    assert not any(isinstance(e, ApprovalRequested) for e in events)  # decided already
    assert bumps(tmp_path) == 1
    assert final_text(events) == 'tool said {"count":1}'


async def test_denied_after_a_restart_runs_nothing(tmp_path: Path, settings: BrainSettings) -> None:
    asked = await shut_down_waiting(settings)
    brain = await restarted(settings)
    try:
        events = await drive(brain, continuation(asked.request_id), DENY)
    finally:
        await brain.aclose()
    assert bumps(tmp_path) == 0
    assert final_text(events).startswith('tool said {"error": "the user denied')
    assert exit_status_of(events[-1]) is ExitStatus.DENIED  # type: ignore[arg-type]


async def test_continuing_twice_runs_the_tool_once(tmp_path: Path, settings: BrainSettings) -> None:
    asked = await shut_down_waiting(settings)
    brain = await restarted(settings)
    try:
        assert await brain.resolve_approval(asked.request_id, APPROVE, decided_by="a")
        first = [e async for e in brain.run_turn(continuation(asked.request_id, "run-a"))]
        second = [e async for e in brain.run_turn(continuation(asked.request_id, "run-b"))]
    finally:
        await brain.aclose()
    assert bumps(tmp_path) == 1
    assert final_text(first) == 'tool said {"count":1}'
    assert isinstance(second[-1], TurnFailed)
    assert second[-1].code == "bad_request"
    assert "no turn left to continue" in second[-1].message


async def test_a_tool_cut_short_by_a_crash_is_not_run_again(
    tmp_path: Path, settings: BrainSettings
) -> None:
    asked = await shut_down_waiting(settings)
    store = ApprovalStore.open(settings.data_dir / "state.db")
    try:  # what a crash after the claim leaves: approved, claimed, no outcome
        assert store.move(asked.request_id, ApprovalState.APPROVED, actor="a", now=1.0)
        assert store.move(asked.request_id, ApprovalState.RUNNING, actor="run-old", now=2.0)
    finally:
        store.close()
    brain = await restarted(settings)
    try:
        events = [e async for e in brain.run_turn(continuation(asked.request_id))]
    finally:
        await brain.aclose()
    assert bumps(tmp_path) == 0
    assert "it was not run again, and whether it finished is unknown" in final_text(events)


async def test_a_person_stopping_a_run_withdraws_its_request(settings: BrainSettings) -> None:
    brain = await restarted(settings)
    try:
        asked = await first_request(brain, turn("bump it"))  # not draining: a stop
        assert await brain.resumptions() == []
    finally:
        await brain.aclose()
    brain = await restarted(settings)
    try:
        assert await brain.resumptions() == []
        assert not await brain.resolve_approval(asked.request_id, APPROVE, decided_by="a")
    finally:
        await brain.aclose()


async def test_concurrent_approvals_run_the_tool_once(
    tmp_path: Path, settings: BrainSettings
) -> None:
    brain = await restarted(settings)
    try:
        events: list[ReplyEvent] = []
        async for event in brain.run_turn(turn("bump it")):
            events.append(event)
            if isinstance(event, ApprovalRequested):
                results = await asyncio.gather(
                    *(
                        brain.resolve_approval(event.request_id, APPROVE, decided_by=f"u{i}")
                        for i in range(5)
                    )
                )
                assert sorted(results) == [False, False, False, False, True]
    finally:
        await brain.aclose()
    assert bumps(tmp_path) == 1
    assert final_text(events) == 'tool said {"count":1}'


def test_two_processes_deciding_at_once_decide_once(settings: BrainSettings) -> None:
    path = settings.data_dir / "state.db"
    path.parent.mkdir(parents=True)
    store = ApprovalStore.open(path)
    ids = [f"apr_{i}" for i in range(20)]
    for request_id in ids:
        call = ToolCall("c", "counter__bump", {})
        store.add(StoredRequest(request_id, "r", "s", "c", "u", call, "bump", "{}", PENDING), now=0)
    store.close()
    start = threading.Barrier(2)

    def decide(decision: ApprovalDecision, actor: str) -> list[bool]:
        gate = ApprovalGate(ApprovalStore.open(path))  # its own connection, like a process
        try:
            start.wait()
            return [gate.resolve(i, decision, decided_by=actor) for i in ids]
        finally:
            gate.close()

    with ThreadPoolExecutor(2) as pool:
        one = pool.submit(decide, APPROVE, "p1")
        other = pool.submit(decide, DENY, "p2")
        results = list(zip(one.result(), other.result(), strict=True))
    assert all(a != b for a, b in results)


async def test_the_audit_trail_says_who_decided_what_and_when(settings: BrainSettings) -> None:
    store = ApprovalStore.open(settings.data_dir / "state.db")
    gate = ApprovalGate(store, clock=lambda: 1_767_225_600.0)
    run = RunRef("run-1", "web:owner:main", "conv", "web:owner")
    try:
        approvals = gate.for_run(run)
        async with approvals.ask(
            ToolCall("c1", "counter__bump", {}), "counter · bump", lambda: "{}"
        ):
            pass
        [stored] = store.open_requests()
        assert gate.resolve(stored.request_id, DENY, decided_by="web:owner")
        decided = store.get(stored.request_id)
        approvals.settle()
        trail = gate.audit()
    finally:
        gate.close()
    assert decided is not None
    assert (decided.state, decided.decided_by, decided.decided_at) == (
        ApprovalState.DENIED,
        "web:owner",
        1_767_225_600.0,
    )
    assert [(e.actor, e.action, e.at) for e in trail] == [
        ("web:owner", "requested", 1_767_225_600.0),
        ("web:owner", "denied", 1_767_225_600.0),
        ("run-1", "closed", 1_767_225_600.0),
    ]
    assert trail[0].detail == "counter · bump"


def test_the_lifecycle_table_ends_in_closed_or_withdrawn() -> None:
    ends = {s for s, targets in TRANSITIONS.items() if not targets}
    assert ends == {ApprovalState.CLOSED, ApprovalState.WITHDRAWN}
    reachable = {ApprovalState.PENDING}
    for _ in range(len(ApprovalState)):
        reachable |= {t for s in reachable for t in TRANSITIONS[s]}
    assert reachable == set(ApprovalState)
