"""Approvals end to end over protocol v1: request, approve, the tool runs once, the reply.

A real ``websockets`` client (``GatewayClient``) talks to the real server; every
frame is checked against the shipped schemas.  The model is the real ``openai``
SDK against a loopback fake of the API, so that a restarted server continues
the same conversation; the first-party ``notes`` skill is the side effect
that shows whether the tool ran, and how often.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from gateway.app import RunningServer, running_server
from gateway.client import GatewayClient
from gateway.config import Config
from gateway.protocol.testing import FrameChecker
from tests.e2e.conftest import TOKEN
from tests.e2e.server_process import ServerProcess
from tests.fakes.openai_server import FakeOpenAI

SAVE = "notes__save_note"


@asynccontextmanager
async def client(server: RunningServer, checker: FrameChecker) -> AsyncIterator[GatewayClient]:
    async with GatewayClient.connect(server.ws_url, TOKEN, observer=checker) as c:
        yield c


async def send(c: GatewayClient, text: str, key: str) -> str:
    result = await c.request("chat.send", {"text": text, "idempotency_key": key})
    return str(result["run_id"])


async def until_final(c: GatewayClient, run_id: str) -> list[dict[str, Any]]:
    seen = []
    async for event in c.events():
        if event["payload"].get("run_id") != run_id:
            continue
        seen.append(event)
        if event["event"] in {"chat.final", "chat.error"}:
            return seen
    raise AssertionError("connection ended before the run did")


async def resolve(c: GatewayClient, request_id: str, decision: str = "approve") -> bool:
    params = {"request_id": request_id, "decision": decision}
    return bool((await c.request("approval.resolve", params))["resolved"])


async def notes(c: GatewayClient, key: str) -> str:
    events = await until_final(c, await send(c, "/notes list", key))
    return str(events[-1]["payload"]["text"])


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
def config(make_config: Callable[..., Config], fake: FakeOpenAI) -> Config:
    return make_config(
        SKILLYARD_MODEL="openai:fake-model",
        SKILLYARD_MODEL__BASE_URL=fake.base_url,
        SKILLYARD_MODEL__API_KEY_ENV="FAKE_MODEL_KEY",
        FAKE_MODEL_KEY="test-key",
        SKILLYARD_SKILLS__APPROVAL_REQUIRED=SAVE,
        SKILLYARD_SERVER__SHUTDOWN_GRACE_S="0",
    )


def script(fake: FakeOpenAI) -> None:
    fake.tool_call(SAVE, '{"text": ', '"buy milk"}', call_id="call_save")
    fake.reply("Saved ", "it.")


async def test_request_approve_the_tool_runs_once_and_the_reply_comes(
    config: Config, fake: FakeOpenAI, checker: FrameChecker
) -> None:
    script(fake)
    async with running_server(config) as server, client(server, checker) as c:
        run_id = await send(c, "remember to buy milk", "k1")
        asked = await c.next_event("approval.requested")
        assert asked["payload"]["tool"] == SAVE
        assert asked["payload"]["summary"] == "notes · save_note (text: buy milk)"
        request_id = asked["payload"]["request_id"]
        async with client(server, checker) as other:  # two people approve at once
            results = await asyncio.gather(resolve(c, request_id), resolve(other, request_id))
        assert sorted(results) == [False, True]
        events = await until_final(c, run_id)
        assert not await resolve(c, request_id)
        listed = await notes(c, "k2")
    final = events[-1]
    assert final["event"] == "chat.final"
    assert final["payload"]["text"] == "Saved it."
    assert final["payload"]["exit_status"] == "completed"
    tools = [e["payload"]["phase"] for e in events if e["event"] == "chat.tool"]
    assert tools == ["start", "end"]
    assert [e["event"] for e in events].count("approval.resolved") == 1
    assert listed == "1. buy milk"
    assert fake.requests[1]["messages"][-1]["role"] == "tool"


async def test_a_denied_request_ends_the_run_denied_and_runs_nothing(
    config: Config, fake: FakeOpenAI, checker: FrameChecker
) -> None:
    fake.tool_call(SAVE, '{"text": "buy milk"}', call_id="call_save")
    fake.reply("I did not save it.")
    async with running_server(config) as server, client(server, checker) as c:
        run_id = await send(c, "remember to buy milk", "k1")
        asked = await c.next_event("approval.requested")
        assert await resolve(c, asked["payload"]["request_id"], "deny")
        final = (await until_final(c, run_id))[-1]
        listed = await notes(c, "k2")
    assert (final["payload"]["status"], final["payload"]["exit_status"]) == ("completed", "denied")
    assert listed.startswith("You have no notes yet.")


async def test_the_request_survives_a_restart_and_the_turn_continues(
    config: Config, fake: FakeOpenAI, checker: FrameChecker
) -> None:
    script(fake)
    async with running_server(config) as server, client(server, checker) as c:
        first_run = await send(c, "remember to buy milk", "k1")
        asked = await c.next_event("approval.requested")
    request_id = asked["payload"]["request_id"]
    # The server stopped while the run waited; a new one starts on the same data.
    async with running_server(config) as server, client(server, checker) as c:
        await c.request("sessions.subscribe", {"session": c.session, "after_seq": asked["seq"]})
        stopped = await c.next_event("chat.final")
        again = await c.next_event("approval.requested")
        resumed_run = again["payload"]["run_id"]
        assert await resolve(c, request_id)
        events = await until_final(c, resumed_run)
        listed = await notes(c, "k2")
        history = await c.request("sessions.history", {"session": c.session})
    assert stopped["payload"]["run_id"] == first_run
    assert (stopped["payload"]["status"], stopped["payload"]["exit_status"]) == (
        "stopped",
        "interrupted",
    )
    assert again["payload"]["request_id"] == request_id and resumed_run != first_run
    assert events[-1]["payload"]["text"] == "Saved it."
    assert [e["payload"]["phase"] for e in events if e["event"] == "chat.tool"] == ["start", "end"]
    assert listed == "1. buy milk"
    texts = [m["text"] for m in history["messages"]]
    assert texts[:3] == ["remember to buy milk", "", "Saved it."]
    # The model saw the whole turn again: the question, its call, the tool's answer.
    continued = fake.requests[1]["messages"]
    assert [m["role"] for m in continued[-3:]] == ["user", "assistant", "tool"]


async def test_a_continued_run_can_be_stopped_like_any_other(
    config: Config, fake: FakeOpenAI, checker: FrameChecker
) -> None:
    script(fake)
    async with running_server(config) as server, client(server, checker) as c:
        await send(c, "remember to buy milk", "k1")
        asked = await c.next_event("approval.requested")
    async with running_server(config) as server, client(server, checker) as c:
        await c.request("sessions.subscribe", {"session": c.session, "after_seq": asked["seq"]})
        again = await c.next_event("approval.requested")
        aborted = await c.request("chat.abort", {"session": c.session})
        final = await c.next_event("chat.final")
        assert aborted == {"aborted": True}
        assert not await resolve(c, asked["payload"]["request_id"])
    assert final["payload"]["run_id"] == again["payload"]["run_id"]
    assert final["payload"]["exit_status"] == "stopped"
    async with running_server(config) as server, client(server, checker) as c:
        await c.request("sessions.subscribe", {"session": c.session, "after_seq": final["seq"]})
        assert (await notes(c, "k3")).startswith("You have no notes")  # nothing continued


@pytest.mark.slow
async def test_the_request_survives_a_crash(tmp_path: Path, checker: FrameChecker) -> None:
    """SIGKILL: no shutdown code runs at all; the command waits again after the restart."""
    server = ServerProcess(
        home=tmp_path / "home", extra_env={"SKILLYARD_SKILLS__APPROVAL_REQUIRED": "notes__notes"}
    )
    server.start()
    try:
        async with GatewayClient.connect(server.ws_url, server.token, observer=checker) as c:
            await send(c, "/notes save buy milk", "k1")
            asked = await c.next_event("approval.requested")
        server.stop(signal.SIGKILL)
        server.start()
        async with GatewayClient.connect(server.ws_url, server.token, observer=checker) as c:
            after = {"session": c.session, "after_seq": asked["seq"]}
            await c.request("sessions.subscribe", after)
            failed = await c.next_event("chat.error")
            again = await c.next_event("approval.requested")
            assert await resolve(c, asked["payload"]["request_id"])
            events = await until_final(c, again["payload"]["run_id"])
    finally:
        server.stop()
    assert (failed["payload"]["code"], failed["payload"]["exit_status"]) == (
        "interrupted",
        "interrupted",
    )
    assert events[-1]["payload"]["text"] == "Saved note 1: buy milk"
