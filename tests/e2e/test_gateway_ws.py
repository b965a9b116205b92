"""The gateway end to end: a real ``websockets`` client against the real server on port 0.

Every frame in both directions is checked against the shipped JSON Schemas.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from brain.tools import workspace_dir
from brain.tools.send_file import outbox_dir
from gateway.app import RunningServer, running_server
from gateway.client import ConnectionLost, GatewayClient, RequestFailed
from gateway.config import Config
from gateway.protocol.testing import FrameChecker
from tests.e2e.conftest import TOKEN


@asynccontextmanager
async def client(
    server: RunningServer, checker: FrameChecker, **kwargs: Any
) -> AsyncIterator[GatewayClient]:
    async with GatewayClient.connect(server.ws_url, TOKEN, observer=checker, **kwargs) as c:
        yield c


async def raw_connect(server: RunningServer) -> ClientConnection:
    ws = await websockets.connect(server.ws_url, compression=None)
    challenge = json.loads(await ws.recv())
    assert challenge["event"] == "connect.challenge"
    return ws


def connect_frame(token: str = TOKEN, request_id: str = "c1") -> str:
    return json.dumps(
        {
            "type": "req",
            "id": request_id,
            "method": "connect",
            "params": {
                "min_protocol": 1,
                "max_protocol": 1,
                "client": {"name": "test", "version": "0"},
                "auth": {"token": token},
            },
        }
    )


async def until_final(c: GatewayClient, run_id: str) -> list[dict[str, Any]]:
    """Events of ``run_id`` up to and including its chat.final / chat.error."""
    seen = []
    async for event in c.events():
        if event["payload"].get("run_id") != run_id:
            continue
        seen.append(event)
        if event["event"] in {"chat.final", "chat.error"}:
            return seen
    raise AssertionError("connection ended before the run did")


async def send(c: GatewayClient, text: str, key: str, **extra: Any) -> dict[str, Any]:
    return await c.request("chat.send", {"text": text, "idempotency_key": key, **extra})


async def test_chat_streams_a_reply(gateway: RunningServer, checker: FrameChecker) -> None:
    async with client(gateway, checker) as c:
        assert c.hello["protocol"] == 1
        assert c.hello["session"] == "web:owner:main"
        result = await send(c, "hello there", "k1")
        events = await until_final(c, result["run_id"])
    names = [e["event"] for e in events]
    assert names[0] == "chat.message"
    assert "chat.delta" in names
    assert events[-1]["payload"] == {
        "session": "web:owner:main",
        "run_id": result["run_id"],
        "text": "hello there",
        "status": "completed",
        "exit_status": "completed",
    }
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


async def test_calculator_command_answers_without_the_model(
    gateway: RunningServer, checker: FrameChecker
) -> None:
    async with client(gateway, checker) as c:
        result = await send(c, "/calculator 2*(3+4)", "k1")
        events = await until_final(c, result["run_id"])
    assert events[-1]["event"] == "chat.final"
    assert events[-1]["payload"]["text"] == "14"
    phases = [e["payload"]["phase"] for e in events if e["event"] == "chat.tool"]
    assert phases == ["start", "end"]


async def test_wrong_token_is_refused_with_4001(gateway: RunningServer) -> None:
    ws = await raw_connect(gateway)
    await ws.send(connect_frame(token="wrong-token-0000000000"))
    response = json.loads(await ws.recv())
    assert response["ok"] is False
    assert response["error"]["code"] == "unauthorized"
    with pytest.raises(websockets.ConnectionClosed):
        await ws.recv()
    assert ws.close_code == 4001


@pytest.mark.parametrize(
    "first",
    [
        '{"type":"req","id":"1","method":"health","params":{}}',
        "not json at all",
        '{"type":"event","event":"tick","payload":{}}',
    ],
)
async def test_anything_but_connect_first_is_a_protocol_error(
    gateway: RunningServer, first: str
) -> None:
    ws = await raw_connect(gateway)
    await ws.send(first)
    response = json.loads(await ws.recv())
    assert response["error"]["code"] == "protocol_error"
    with pytest.raises(websockets.ConnectionClosed):
        await ws.recv()
    assert ws.close_code == 4002


async def test_bad_frames_after_connect_name_the_field_and_keep_the_connection(
    gateway: RunningServer, checker: FrameChecker
) -> None:
    async with client(gateway, checker) as c:
        await c.send_raw("{broken json")
        await c.send_raw('{"type":"req","id":"x1","method":"chat.send","params":{"text":5}}')
        health = await c.request("health")  # still usable
        assert health["status"] == "ok"
    # the two error responses arrived before the health response
    errors = [f for f in checker.server_frames if f.get("ok") is False]
    assert [e["error"]["code"] for e in errors] == ["invalid_frame", "invalid_frame"]
    assert "params" in errors[1]["error"]["message"]
    assert errors[1]["id"] == "x1"


async def test_unknown_method(gateway: RunningServer, checker: FrameChecker) -> None:
    async with client(gateway, checker) as c:
        with pytest.raises(RequestFailed) as failure:
            await c.request("chat.teleport", {})
    assert failure.value.code == "unknown_method"


async def test_an_oversized_frame_closes_with_1009_and_others_are_unaffected(
    make_config: Callable[..., Config], checker: FrameChecker
) -> None:
    config = make_config(SKILLYARD_LIMITS__MAX_FRAME_BYTES="4096")
    async with running_server(config) as server, client(server, checker) as bystander:
        ws = await raw_connect(server)
        await ws.send(connect_frame())
        await ws.recv()
        await ws.send("x" * 5000)
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 1009
        assert (await bystander.request("health"))["status"] == "ok"


async def test_flooding_is_rate_limited_with_a_retry_hint(
    make_config: Callable[..., Config], checker: FrameChecker
) -> None:
    config = make_config(SKILLYARD_LIMITS__RATE_PER_SEC="1", SKILLYARD_LIMITS__BURST="3")
    async with running_server(config) as server, client(server, checker) as c:
        outcomes = await asyncio.gather(
            *(c.request("health") for _ in range(8)), return_exceptions=True
        )
    limited = [o for o in outcomes if isinstance(o, RequestFailed)]
    assert limited, "some requests must be refused"
    assert all(o.code == "rate_limited" and o.retry_after_ms for o in limited)
    assert sum(1 for o in outcomes if isinstance(o, dict)) >= 3


async def test_duplicate_idempotency_key_is_processed_once(
    gateway: RunningServer, checker: FrameChecker
) -> None:
    async with client(gateway, checker) as c:
        first = await send(c, "once", "same-key")
        await until_final(c, first["run_id"])
        again = await send(c, "once", "same-key")
        history = await c.request("sessions.history", {"session": c.session})
    assert again == {"run_id": first["run_id"], "session": first["session"], "duplicate": True}
    assert [m["text"] for m in history["messages"]] == ["once", "once"]  # one question, one answer
    assert [m["role"] for m in history["messages"]] == ["user", "assistant"]


async def test_a_client_that_drops_gets_every_missed_event_once(
    make_config: Callable[..., Config], checker: FrameChecker, tmp_path: Any
) -> None:
    """Disconnect mid-reply (while the turn waits for approval), reconnect, resubscribe."""
    script = tmp_path / "script.yaml"
    script.write_text(
        "- tool_calls: [{name: calculator__evaluate, arguments: {expression: '6*7'}}]\n"
        "- reply: The answer is 42.\n"
    )
    config = make_config(
        SKILLYARD_MODEL=f"scripted:{script}",
        SKILLYARD_SKILLS__APPROVAL_REQUIRED="calculator__evaluate",
    )
    async with running_server(config) as server:
        async with client(server, checker) as first:
            run = await send(first, "what is 6*7?", "k1")
            seen = []
            async for event in first.events():
                seen.append(event)
                if event["event"] == "approval.requested":
                    break
        # disconnected while the turn is paused; approve from a second client...
        request_id = seen[-1]["payload"]["request_id"]
        async with client(server, checker) as approver:
            assert (
                await approver.request(
                    "approval.resolve",
                    {
                        "request_id": request_id,
                        "decision": "approve",
                    },
                )
            )["resolved"] is True
        # ...and come back with the last seq we saw
        async with client(server, checker) as back:
            last_seq = seen[-1]["seq"]
            await back.request(
                "sessions.subscribe", {"session": back.session, "after_seq": last_seq}
            )
            rest = await until_final(back, run["run_id"])
    seqs = [e["seq"] for e in seen if "seq" in e] + [e["seq"] for e in rest]
    assert seqs == list(range(1, len(seqs) + 1)), "every event exactly once, in order"
    assert rest[-1]["event"] == "chat.final"
    assert rest[-1]["payload"]["text"] == "The answer is 42."
    assert any(e["event"] == "approval.resolved" for e in rest)


async def test_another_client_can_watch_a_session_live(
    gateway: RunningServer, checker: FrameChecker
) -> None:
    async with client(gateway, checker) as talker, client(gateway, checker) as watcher:
        await watcher.request("sessions.subscribe", {"session": watcher.session, "after_seq": 0})
        result = await send(talker, "hi all", "k1")
        watched = await until_final(watcher, result["run_id"])
    assert watched[0]["event"] == "chat.message"
    assert watched[-1]["payload"]["text"] == "hi all"


async def test_sessions_list_new_and_skills(gateway: RunningServer, checker: FrameChecker) -> None:
    async with client(gateway, checker) as c:
        await until_final(c, (await send(c, "first words", "k1"))["run_id"])
        created = await c.request("sessions.new", {})
        other = created["session"]
        await until_final(c, (await send(c, "elsewhere", "k2", session=other))["run_id"])
        listed = await c.request("sessions.list", {})
        skills = await c.request("skills.list", {})
    keys = [s["session"] for s in listed["sessions"]]
    assert set(keys) >= {"web:owner:main", other}
    titles = {s["session"]: s.get("title") for s in listed["sessions"]}
    assert titles["web:owner:main"] == "first words"
    names = {s["name"] for s in skills["skills"]}
    assert {"calculator", "unit-convert", "time", "notes"} <= names


async def test_a_session_of_another_principal_is_not_found(
    gateway: RunningServer, checker: FrameChecker
) -> None:
    async with client(gateway, checker) as c:
        with pytest.raises(RequestFailed) as failure:
            await c.request("sessions.history", {"session": "telegram:bot:42"})
        assert failure.value.code == "not_found"
        with pytest.raises(RequestFailed) as failure:
            await send(c, "hi", "k1", session="web:someone:main")
        assert failure.value.code == "not_found"


async def test_http_endpoints(gateway: RunningServer) -> None:
    base = f"http://127.0.0.1:{gateway.port}"
    async with httpx.AsyncClient(base_url=base) as http:
        page = await http.get("/")
        health = await http.get("/healthz")
        ready = await http.get("/readyz")
        metrics = await http.get("/metrics")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert "skillyard_ws_connections" in metrics.text


async def test_the_connection_ends_cleanly_when_the_server_stops(
    make_config: Callable[..., Config], checker: FrameChecker
) -> None:
    async with running_server(make_config()) as server, client(server, checker) as c:
        server.stop()
        with pytest.raises(ConnectionLost):
            await c.next_event("never")


async def test_subscribe_answers_first_then_replays_up_to_last_seq(
    gateway: RunningServer, checker: FrameChecker
) -> None:
    async with client(gateway, checker) as c:
        await until_final(c, (await send(c, "remember me", "k1"))["run_id"])
    async with client(gateway, checker) as back:
        start = len(checker.server_frames)
        result = await back.request("sessions.subscribe", {"session": back.session, "after_seq": 0})
        replayed = [await back.next_event() for _ in range(result["last_seq"])]
    frames = checker.server_frames[start:]
    assert frames[0]["type"] == "res"  # the answer comes before the replay
    assert [e["seq"] for e in replayed] == list(range(1, result["last_seq"] + 1))
    assert replayed[-1]["event"] == "chat.final"


@pytest.fixture
async def sending_gateway(
    make_config: Callable[..., Config], tmp_path: Path
) -> AsyncIterator[RunningServer]:
    """A server whose model sends ``report.csv``; an expired file waits in its outbox."""
    home = tmp_path / "home"
    (workspace_dir(home, "web:owner:main") / "report.csv").write_bytes(b"a,b\n1,2\n")
    call = {"name": "send_file", "arguments": {"path": "report.csv", "caption": "Numbers"}}
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"tool_calls": [call]}, {"reply": "Here it is."}]))
    outbox = outbox_dir(home)
    outbox.mkdir(parents=True)
    for name in (STALE, f"{STALE}.json"):
        (outbox / name).write_bytes(b"{}")
        os.utime(outbox / name, (0, 0))  # 1970: long expired
    async with running_server(make_config(SKILLYARD_MODEL=f"scripted:{script}")) as server:
        yield server


STALE = "stale-file-id-0123456789"


async def test_history_lists_sent_files_and_expired_ones_say_so(
    sending_gateway: RunningServer, checker: FrameChecker
) -> None:
    outbox = outbox_dir(sending_gateway.runtime.config.data_dir)
    assert not (outbox / STALE).exists()  # swept at start-up
    async with client(sending_gateway, checker) as c:
        run = await send(c, "send me the report", "k1")
        events = await until_final(c, run["run_id"])
        history = await c.request("sessions.history", {"session": c.session})
    sent = next(e for e in events if e["event"] == "chat.file")
    entry = {k: v for k, v in sent["payload"].items() if k != "session"}
    assert history["files"] == [entry | {"seq": sent["seq"], "ts": history["files"][0]["ts"]}]
    messages = history["messages"]
    assert messages[0]["seq"] < sent["seq"] < messages[1]["seq"]  # between question and answer

    download = f"http://127.0.0.1:{sending_gateway.port}/files/web%3Aowner%3Amain/"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient() as http:
        fresh = await http.get(download + entry["file_id"], headers=auth)
        assert fresh.content == b"a,b\n1,2\n"
        for path in outbox.iterdir():
            path.unlink()  # what the sweep does once files.keep_days have passed
        gone = await http.get(download + entry["file_id"], headers=auth)
    assert (gone.status_code, gone.json()["error"]) == (404, "expired")
