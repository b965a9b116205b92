"""The router: order, queue modes, control commands, dedupe, stopping, failures.

The brain here is a stand-in of our own (allowed in unit tests): each turn
waits on a gate the test opens, so the test decides when turns end.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from gateway.errors import KeyReused, QueueFull, SessionError
from gateway.events import (
    ApprovalDecision,
    ApprovalRequested,
    Conversation,
    ConversationKind,
    FinalReply,
    InboundMessage,
    ReplyEvent,
    Sender,
    SkillSummary,
    TextDelta,
    TurnRequest,
)
from gateway.hub import EventHub
from gateway.router import Router, RouterSettings
from gateway.sessions import QueueMode
from gateway.store import GatewayStore, StoredEvent

SESSION = "web:owner:main"


class GatedBrain:
    """Answers each turn with ``echo: <text>`` once the test opens its gate."""

    def __init__(self) -> None:
        self.gates: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.started: list[TurnRequest] = []
        self.started_event = asyncio.Event()
        self.approvals: dict[str, asyncio.Future[ApprovalDecision]] = {}
        self.fail_with: BaseException | None = None
        self.ask_approval = False

    async def run_turn(self, request: TurnRequest) -> AsyncIterator[ReplyEvent]:
        self.started.append(request)
        self.started_event.set()
        if self.fail_with is not None:
            raise self.fail_with
        yield TextDelta(request.run_id, "echo: ")
        if self.ask_approval:
            future = asyncio.get_running_loop().create_future()
            self.approvals["apr_1"] = future
            yield ApprovalRequested(request.run_id, "apr_1", "notes__delete_note", "delete a note")
            decision = await future
            yield TextDelta(request.run_id, f"[{decision}] ")
        await self.gates[request.run_id].wait()
        yield FinalReply(request.run_id, "echo: " + request.text)

    async def resolve_approval(
        self, request_id: str, decision: ApprovalDecision, *, decided_by: str
    ) -> bool:
        future = self.approvals.pop(request_id, None)
        if future is None:
            return False
        future.set_result(decision)
        return True

    def list_skills(self) -> Sequence[SkillSummary]:
        return ()

    async def wait_started(self, count: int) -> TurnRequest:
        while len(self.started) < count:
            self.started_event.clear()
            await self.started_event.wait()
        return self.started[count - 1]


class Recorder:
    def __init__(self) -> None:
        self.events: list[StoredEvent] = []
        self.changed = asyncio.Event()

    def deliver(self, event: StoredEvent) -> None:
        self.events.append(event)
        self.changed.set()

    async def drained(self) -> None:
        return None

    def named(self, name: str) -> list[dict[str, object]]:
        return [dict(e.payload) for e in self.events if e.event == name]

    async def wait_for(self, name: str, count: int = 1) -> list[dict[str, object]]:
        while len(self.named(name)) < count:
            self.changed.clear()
            await self.changed.wait()
        return self.named(name)


def message(text: str, ident: str | None = None) -> InboundMessage:
    return InboundMessage(
        id=ident or f"id-{text}",
        channel="web",
        account="owner",
        conversation=Conversation("main", ConversationKind.DM),
        sender=Sender("owner"),
        text=text,
        sent_at=0.0,
    )


@pytest.fixture
def store(tmp_path: Path) -> GatewayStore:
    return GatewayStore.open(tmp_path / "state.db")


@pytest.fixture
def brain() -> GatedBrain:
    return GatedBrain()


def make_router(
    store: GatewayStore, brain: GatedBrain, **settings: object
) -> tuple[Router, Recorder]:
    hub = EventHub(store)
    recorder = Recorder()
    hub.subscribe_live(SESSION, recorder)
    counter = iter(range(1, 1000))
    router = Router(
        store=store,
        hub=hub,
        bus=brain,
        settings=RouterSettings(**settings),  # type: ignore[arg-type]
        new_run_id=lambda: f"run_{next(counter)}",
    )
    return router, recorder


async def test_a_turn_streams_and_ends_with_one_final(
    store: GatewayStore, brain: GatedBrain
) -> None:
    router, recorder = make_router(store, brain)
    async with router:
        result = router.submit(message("hi"), principal="owner")
        brain.gates[result.run_id].set()
        finals = await recorder.wait_for("chat.final")
    assert finals == [
        {
            "session": SESSION,
            "run_id": result.run_id,
            "text": "echo: hi",
            "status": "completed",
            "exit_status": "completed",
        }
    ]
    names = [e.event for e in recorder.events]
    assert names == ["chat.message", "chat.delta", "chat.final"]
    assert [e.seq for e in recorder.events] == [1, 2, 3]


async def test_followup_messages_run_one_at_a_time_in_order(
    store: GatewayStore, brain: GatedBrain
) -> None:
    router, recorder = make_router(store, brain)
    async with router:
        runs = [router.submit(message(t), principal="owner").run_id for t in ("a", "b", "c")]
        await brain.wait_started(1)
        assert len(brain.started) == 1  # b and c wait
        for run_id in runs:
            brain.gates[run_id].set()
        finals = await recorder.wait_for("chat.final", 3)
    assert [f["text"] for f in finals] == ["echo: a", "echo: b", "echo: c"]
    assert [r.text for r in brain.started] == ["a", "b", "c"]


async def test_collect_answers_a_burst_together(store: GatewayStore, brain: GatedBrain) -> None:
    router, recorder = make_router(store, brain, queue_mode=QueueMode.COLLECT)
    async with router:
        first = router.submit(message("a"), principal="owner")
        second = router.submit(message("b"), principal="owner")
        third = router.submit(message("c"), principal="owner")
        assert second.run_id == third.run_id
        brain.gates[first.run_id].set()
        brain.gates[second.run_id].set()
        finals = await recorder.wait_for("chat.final", 2)
    assert [f["text"] for f in finals] == ["echo: a", "echo: b\n\nc"]


async def test_interrupt_stops_the_running_turn_with_its_partial_text(
    store: GatewayStore, brain: GatedBrain
) -> None:
    router, recorder = make_router(store, brain, queue_mode=QueueMode.INTERRUPT)
    async with router:
        first = router.submit(message("a"), principal="owner")
        await brain.wait_started(1)
        second = router.submit(message("b"), principal="owner")
        await brain.wait_started(2)
        brain.gates[second.run_id].set()
        finals = await recorder.wait_for("chat.final", 2)
    assert finals[0] == {
        "session": SESSION,
        "run_id": first.run_id,
        "text": "echo: ",
        "status": "stopped",
        "exit_status": "stopped",
    }
    assert finals[1]["text"] == "echo: b"


async def test_stop_bypasses_the_queue_and_clears_it(
    store: GatewayStore, brain: GatedBrain
) -> None:
    router, recorder = make_router(store, brain)
    async with router:
        first = router.submit(message("a"), principal="owner")
        waiting = router.submit(message("b"), principal="owner")
        await brain.wait_started(1)
        stop = router.submit(message("/stop"), principal="owner")
        finals = await recorder.wait_for("chat.final", 3)
    by_run = {f["run_id"]: f for f in finals}
    assert by_run[first.run_id]["status"] == "stopped"
    assert by_run[waiting.run_id]["status"] == "stopped"
    assert by_run[stop.run_id]["text"] == "Stopped."
    assert len(brain.started) == 1  # b never ran


async def test_new_gives_the_brain_a_fresh_conversation(
    store: GatewayStore, brain: GatedBrain
) -> None:
    router, recorder = make_router(store, brain)
    async with router:
        one = router.submit(message("a"), principal="owner")
        brain.gates[one.run_id].set()
        await recorder.wait_for("chat.final", 1)
        router.submit(message("/new"), principal="owner")
        two = router.submit(message("b"), principal="owner")
        brain.gates[two.run_id].set()
        await recorder.wait_for("chat.final", 3)
    assert brain.started[0].conversation_id != brain.started[1].conversation_id
    assert brain.started[0].session == brain.started[1].session


async def test_a_duplicate_message_is_processed_once(
    store: GatewayStore, brain: GatedBrain
) -> None:
    router, recorder = make_router(store, brain)
    async with router:
        first = router.submit(message("a", ident="k1"), principal="owner")
        again = router.submit(message("a", ident="k1"), principal="owner")
        brain.gates[first.run_id].set()
        await recorder.wait_for("chat.final")
    assert again.duplicate and again.run_id == first.run_id
    assert len(recorder.named("chat.message")) == 1
    assert len(brain.started) == 1


async def test_a_reused_key_with_other_text_is_refused(
    store: GatewayStore, brain: GatedBrain
) -> None:
    router, recorder = make_router(store, brain)
    async with router:
        first = router.submit(message("a", ident="k1"), principal="owner")
        with pytest.raises(KeyReused):
            router.submit(message("b", ident="k1"), principal="owner")
        brain.gates[first.run_id].set()
        await recorder.wait_for("chat.final")
    assert [m["text"] for m in recorder.named("chat.message")] == ["a"]


async def test_a_message_refused_for_a_full_queue_can_be_retried(
    store: GatewayStore, brain: GatedBrain
) -> None:
    router, recorder = make_router(store, brain, max_queued_per_session=1)
    async with router:
        first = router.submit(message("a"), principal="owner")
        second = router.submit(message("b"), principal="owner")
        with pytest.raises(QueueFull):
            router.submit(message("c", ident="k-c"), principal="owner")
        brain.gates[first.run_id].set()
        brain.gates[second.run_id].set()
        await recorder.wait_for("chat.final", 2)
        retry = router.submit(message("c", ident="k-c"), principal="owner")
        assert not retry.duplicate
        brain.gates[retry.run_id].set()
        finals = await recorder.wait_for("chat.final", 3)
    assert finals[-1]["text"] == "echo: c"


async def test_the_global_cap_limits_concurrent_turns(
    store: GatewayStore, brain: GatedBrain
) -> None:
    hub = EventHub(store)
    recorder = Recorder()
    router = Router(
        store=store, hub=hub, bus=brain, settings=RouterSettings(max_concurrent_turns=2)
    )
    async with router:
        runs = []
        for conversation in ("a", "b", "c"):
            key = f"web:owner:{conversation}"
            hub.subscribe_live(key, recorder)
            msg = InboundMessage(
                id=conversation,
                channel="web",
                account="owner",
                conversation=Conversation(conversation, ConversationKind.DM),
                sender=Sender("owner"),
                text=conversation,
                sent_at=0.0,
            )
            runs.append(router.submit(msg, principal="owner").run_id)
        await brain.wait_started(2)
        for _ in range(3):
            await asyncio.sleep(0)
        assert len(brain.started) == 2
        brain.gates[brain.started[0].run_id].set()
        await brain.wait_started(3)
        for run_id in runs:
            brain.gates[run_id].set()
        await recorder.wait_for("chat.final", 3)


async def test_a_crashing_brain_gives_an_error_and_the_session_goes_on(
    store: GatewayStore, brain: GatedBrain
) -> None:
    router, recorder = make_router(store, brain)
    async with router:
        brain.fail_with = RuntimeError("boom")
        router.submit(message("a"), principal="owner")
        errors = await recorder.wait_for("chat.error")
        brain.fail_with = None
        ok = router.submit(message("b"), principal="owner")
        brain.gates[ok.run_id].set()
        finals = await recorder.wait_for("chat.final")
    assert errors[0]["code"] == "internal"
    assert "boom" not in str(errors[0]["message"])  # internals stay in the log
    assert finals[0]["text"] == "echo: b"


async def test_a_turn_that_takes_too_long_times_out(store: GatewayStore, brain: GatedBrain) -> None:
    router, recorder = make_router(store, brain, turn_timeout_s=0.05)
    async with router:
        router.submit(message("slow"), principal="owner")  # its gate never opens
        errors = await recorder.wait_for("chat.error")
    assert errors[0]["code"] == "timeout"


async def test_approve_by_command_resumes_the_turn(store: GatewayStore, brain: GatedBrain) -> None:
    brain.ask_approval = True
    router, recorder = make_router(store, brain)
    async with router:
        run = router.submit(message("delete it"), principal="owner")
        requested = await recorder.wait_for("approval.requested")
        assert requested[0]["request_id"] == "apr_1"
        router.submit(message("/approve"), principal="owner")
        resolved = await recorder.wait_for("approval.resolved")
        assert resolved[0]["decided_by"] == "web:owner"  # who typed it, not the session
        brain.gates[run.run_id].set()
        await recorder.wait_for("chat.final", 2)
    deltas = "".join(str(d["text"]) for d in recorder.named("chat.delta"))
    assert "[approve]" in deltas


async def test_shutdown_stops_running_turns_and_refuses_new_ones(
    store: GatewayStore, brain: GatedBrain
) -> None:
    router, recorder = make_router(store, brain)
    async with router:
        run = router.submit(message("a"), principal="owner")
        await brain.wait_started(1)
        assert not await router.wait_idle(0.01)
        with pytest.raises(SessionError):
            router.submit(message("b"), principal="owner")
    final = recorder.named("chat.final")
    assert final == [
        {
            "session": SESSION,
            "run_id": run.run_id,
            "text": "echo: ",
            "status": "stopped",
            "exit_status": "interrupted",
        }
    ]
    assert store.unfinished_runs() == []


async def test_runs_left_by_a_crashed_process_are_closed_at_start(store: GatewayStore) -> None:
    store.ensure_session(SESSION, "owner", 0.0)
    store.record_run("run_old", SESSION, "running", 0.0)
    router, recorder = make_router(store, GatedBrain())
    async with router:
        pass
    errors = recorder.named("chat.error")
    assert [(e["run_id"], e["code"]) for e in errors] == [("run_old", "interrupted")]
    assert store.unfinished_runs() == []


async def test_another_principal_cannot_post_into_a_session(
    store: GatewayStore, brain: GatedBrain
) -> None:
    router, _ = make_router(store, brain)
    store.ensure_session(SESSION, "someone-else", 0.0)
    async with router:
        with pytest.raises(SessionError):
            router.submit(message("a"), principal="owner")
