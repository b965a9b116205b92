"""Slack end to end: the whole gateway (brain, skills, router, channel host) with the real
slack-bolt against the loopback Web API + Socket Mode fake, the way a user chats."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from brain.tools import workspace_dir
from gateway.app import RunningServer, running_server
from gateway.config import Config
from gateway.pairing import PairingStore
from tests.fakes.slack_api import (
    APP_TOKEN,
    BOT_TOKEN,
    BOT_USER_ID,
    SIGNING_SECRET,
    FakeSlack,
)

pytestmark = pytest.mark.slow

ALICE = "U0ALICE01"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


@asynccontextmanager
async def slack_gateway(
    make_config: Callable[..., Config], fake: FakeSlack, **env: str
) -> AsyncIterator[RunningServer]:
    """The gateway with the Slack channel on, pointed at ``fake``; Alice is allowed."""
    settings = {
        "SKILLYARD_CHANNELS__SLACK__ENABLED": "true",
        "SKILLYARD_CHANNELS__SLACK__API_BASE_URL": fake.api_base_url,
        "SKILLYARD_CHANNELS__SLACK__ALLOW_FROM": ALICE,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    }
    async with running_server(make_config(**(settings | env))) as server:
        if env.get("SKILLYARD_CHANNELS__SLACK__MODE") == "http":
            await fake.wait_for("auth.test")
        else:
            await fake.wait_until(lambda: fake.sockets_opened > 0, what="a Socket Mode connection")
        yield server


async def say(fake: FakeSlack, event: dict[str, Any]) -> None:
    """Deliver ``event`` over Socket Mode and wait until the gateway acknowledged it."""
    await fake.wait_ack(await fake.push(fake.event(event)))


def script(tmp_path: Path, *steps: dict[str, Any]) -> str:
    path = tmp_path / "script.json"
    path.write_text(json.dumps(list(steps)), encoding="utf-8")
    return f"scripted:{path}"


def long_reply(length: int = 10_000) -> str:
    paragraph = "Paragraph {n}: " + "the quick brown fox jumps over the lazy dog. " * 12
    return "\n\n".join(paragraph.format(n=n) for n in range(40))[:length]


def session_events(server: RunningServer, session: str) -> list[Any]:
    return list(server.runtime.store.events_after(session, 0, 1000))


async def test_a_direct_message_runs_a_skill_and_the_answer_comes_back(
    make_config: Callable[..., Config], fake: FakeSlack
) -> None:
    alice = fake.user(ALICE, "alice")
    dm = fake.dm(alice)
    async with slack_gateway(make_config, fake) as server:
        await say(fake, fake.message(dm, alice, "/calculator 6*7"))
        await fake.wait_until(lambda: fake.bot_texts(dm) == ["42"], what="the answer")
        assert server.runtime.channels.status()["slack"] == "ok"
    (post,) = fake.calls_of("chat.postMessage")
    assert post.params["channel"] == dm
    assert "thread_ts" not in post.params  # a DM is answered where it was asked
    assert post.token == BOT_TOKEN


async def test_a_stranger_gets_a_pairing_code_and_is_answered_once_approved(
    make_config: Callable[..., Config], fake: FakeSlack
) -> None:
    mallory = fake.user("U0MALLORY", "mallory")
    dm = fake.dm(mallory)
    config = make_config()
    async with slack_gateway(make_config, fake):
        await say(fake, fake.message(dm, mallory, "hello"))
        await fake.wait_for("chat.postMessage")
        (text,) = fake.bot_texts(dm)
        assert "skillyard pairing approve slack " in text
        code = text.split("approve slack ")[1].split()[0]
        pairing = PairingStore.open(config.data_dir / "state.db", clock=time.time)
        try:
            assert pairing.approve("slack", code) is not None
        finally:
            pairing.close()
        await say(fake, fake.message(dm, mallory, "hello again"))
        await fake.wait_until(lambda: "hello again" in fake.bot_texts(dm), what="the answer")


async def test_in_a_channel_only_mentions_are_answered_in_a_thread_once(
    make_config: Callable[..., Config], fake: FakeSlack
) -> None:
    alice = fake.user(ALICE, "alice")
    general = fake.channel()
    async with slack_gateway(make_config, fake):
        await say(fake, fake.message(general, alice, "just chatting among ourselves"))
        question = fake.message(general, alice, f"<@{BOT_USER_ID}> /calculator 6*7")
        await say(fake, question)
        await say(fake, fake.mention(question))  # Slack sends both for one message
        await fake.wait_until(lambda: fake.bot_texts(general) == ["42"], what="the answer")
        await say(fake, fake.message(general, alice, "/calculator 1+1"))  # not addressed
    (post,) = fake.calls_of("chat.postMessage")
    assert post.params["thread_ts"] == question["ts"]  # under the question, not in the channel


async def test_a_thread_reply_is_answered_in_its_thread_and_continues_its_session(
    make_config: Callable[..., Config], fake: FakeSlack
) -> None:
    alice = fake.user(ALICE, "alice")
    general = fake.channel()
    async with slack_gateway(make_config, fake) as server:
        question = fake.message(general, alice, f"<@{BOT_USER_ID}> /calculator 6*7")
        await say(fake, question)
        await fake.wait_until(lambda: fake.bot_texts(general) == ["42"], what="the answer")
        follow_up = fake.message(
            general, alice, f"<@{BOT_USER_ID}> /calculator 7*8", thread_ts=question["ts"]
        )
        await say(fake, follow_up)
        await fake.wait_until(lambda: fake.bot_texts(general) == ["42", "56"], what="the reply")
        session = f"slack:{BOT_USER_ID}:{general}:{question['ts']}"
        asked = [e for e in session_events(server, session) if e.event == "chat.message"]
    assert {m.get("thread_ts") for m in fake.bot_messages(general)} == {question["ts"]}
    assert len(asked) == 2  # one session for the thread


async def test_a_long_reply_is_streamed_by_throttled_edits_then_split_within_the_limit(
    make_config: Callable[..., Config], fake: FakeSlack, tmp_path: Path
) -> None:
    reply = long_reply()
    alice = fake.user(ALICE, "alice")
    dm = fake.dm(alice)
    model = script(tmp_path, {"reply": reply})
    async with slack_gateway(make_config, fake, SKILLYARD_MODEL=model):
        await say(fake, fake.message(dm, alice, "tell me a long story"))
        await fake.wait_until(
            lambda: "".join(fake.bot_texts(dm)).split() == reply.split(), what="the whole reply"
        )
    texts = fake.bot_texts(dm)
    assert len(texts) >= 3
    assert all(len(text) <= 4000 for text in texts)
    assert all(c.failed is None for c in fake.calls_of("chat.postMessage"))
    first = fake.bot_messages(dm)[0]["ts"]
    edits = [c for c in fake.calls_of("chat.update") if c.params["ts"] == first]
    assert 1 <= len(edits) <= 2  # throttled, not one per delta
    history = fake.shown_history(dm, first)
    assert history[0] != history[-1] == texts[0]  # a partial text first, the final at last


async def test_an_approval_by_button_runs_the_tool_once_and_shows_who_decided(
    make_config: Callable[..., Config], fake: FakeSlack, tmp_path: Path
) -> None:
    alice = fake.user(ALICE, "alice")
    dm = fake.dm(alice)
    model = script(
        tmp_path,
        {"tool_calls": [{"name": "calculator__evaluate", "arguments": {"expression": "6*7"}}]},
        {"reply": "The answer is 42."},
    )
    env = {"SKILLYARD_MODEL": model, "SKILLYARD_SKILLS__APPROVAL_REQUIRED": "calculator__evaluate"}
    async with slack_gateway(make_config, fake, **env) as server:
        await say(fake, fake.message(dm, alice, "what is 6*7?"))
        await fake.wait_until(
            lambda: any("blocks" in m for m in fake.bot_messages(dm)), what="the buttons"
        )
        asking = next(m for m in fake.bot_messages(dm) if "blocks" in m)
        approve = asking["blocks"][1]["elements"][0]["action_id"]
        assert approve.startswith("apr:") and approve.endswith(":approve")
        for _ in range(2):  # an impatient second press
            await fake.wait_ack(await fake.push(fake.press(alice, asking, approve)))
        await fake.wait_until(lambda: "The answer is 42." in fake.bot_texts(dm), what="the answer")
        events = session_events(server, f"slack:{BOT_USER_ID}:{dm}")
    starts = [e for e in events if e.event == "chat.tool" and e.payload["phase"] == "start"]
    assert len(starts) == 1
    assert [e.event for e in events].count("approval.resolved") == 1  # the second: ignored
    decided = next(m for m in fake.bot_messages(dm) if m["ts"] == asking["ts"])
    assert "blocks" not in decided  # chat.update dropped the buttons
    assert decided["text"].endswith("✅ Approved by alice.")


async def test_a_rate_limit_in_the_middle_of_a_reply_is_waited_out(
    make_config: Callable[..., Config], fake: FakeSlack, tmp_path: Path
) -> None:
    reply = long_reply()
    alice = fake.user(ALICE, "alice")
    dm = fake.dm(alice)
    fake.fail_next("chat.postMessage", 429, retry_after=1, after=1)  # the second part
    model = script(tmp_path, {"reply": reply})
    async with slack_gateway(make_config, fake, SKILLYARD_MODEL=model):
        await say(fake, fake.message(dm, alice, "tell me a long story"))
        await fake.wait_until(
            lambda: "".join(fake.bot_texts(dm)).split() == reply.split(), what="the whole reply"
        )
    posts = fake.calls_of("chat.postMessage")
    limited = next(i for i, c in enumerate(posts) if c.failed == 429)
    retry = posts[limited + 1]
    assert retry.failed is None and retry.params["text"] == posts[limited].params["text"]
    assert retry.at - posts[limited].at >= 1.0


async def test_http_mode_refuses_forged_events_and_answers_a_redelivered_one_once(
    make_config: Callable[..., Config], fake: FakeSlack
) -> None:
    alice = fake.user(ALICE, "alice")
    dm = fake.dm(alice)
    env = {"SKILLYARD_CHANNELS__SLACK__MODE": "http"}
    async with slack_gateway(make_config, fake, **env) as server:
        url = f"http://127.0.0.1:{server.port}/slack/events"
        forged = fake.event(fake.message(dm, alice, "/calculator 1+1"))
        assert (await fake.post(url, forged, secret="guessed")).status_code == 401
        stale = int(time.time()) - 600
        assert (await fake.post(url, forged, timestamp=stale)).status_code == 401
        real = fake.event(fake.message(dm, alice, "/calculator 6*7"))
        assert (await fake.post(url, real)).status_code == 200
        assert (await fake.post(url, real, retry_num=1)).status_code == 200
        await fake.wait_until(lambda: fake.bot_texts(dm) == ["42"], what="the answer")
        events = session_events(server, f"slack:{BOT_USER_ID}:{dm}")
    assert fake.sockets_opened == 0
    user_texts = [e.payload.get("text") for e in events if e.event == "chat.message"]
    assert user_texts == ["/calculator 6*7"]
    assert len(fake.calls_of("chat.postMessage")) == 1


async def test_files_are_downloaded_only_for_messages_the_assistant_answers(
    make_config: Callable[..., Config], fake: FakeSlack
) -> None:
    alice, mallory = fake.user(ALICE, "alice"), fake.user("U0MALLORY", "mallory")
    general = fake.channel()
    config = make_config()
    async with slack_gateway(make_config, fake):
        theirs = fake.file("theirs.txt", b"stranger", "text/plain")
        await say(fake, fake.message(fake.dm(mallory), mallory, "read this", files=[theirs]))
        chatter = fake.file("chatter.txt", b"chatter", "text/plain")
        await say(fake, fake.message(general, alice, "fyi", files=[chatter]))  # not addressed
        mine = fake.file("mine.txt", b"alice", "text/plain")
        dm = fake.dm(alice)
        await say(fake, fake.message(dm, alice, "what is this?", files=[mine]))
        await fake.wait_until(lambda: fake.bot_texts(dm) != [], what="the answer")
    (download,) = fake.calls_of("file download")
    assert download.params["file"] == mine["id"]
    (stored,) = (config.data_dir / "channels" / "slack" / "attachments").rglob("*.txt")
    assert stored.read_bytes() == b"alice"


async def test_a_file_the_assistant_sends_is_uploaded_into_the_thread_after_the_reply(
    make_config: Callable[..., Config], fake: FakeSlack, tmp_path: Path
) -> None:
    alice = fake.user(ALICE, "alice")
    general = fake.channel()
    chart = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    question = fake.message(general, alice, f"<@{BOT_USER_ID}> draw me a chart")
    session = f"slack:{BOT_USER_ID}:{general}:{question['ts']}"
    config = make_config()
    (workspace_dir(config.data_dir, session) / "out").mkdir()
    (workspace_dir(config.data_dir, session) / "out" / "chart.png").write_bytes(chart)
    call = {"name": "send_file", "arguments": {"path": "out/chart.png", "caption": "Your chart"}}
    model = script(tmp_path, {"tool_calls": [call]}, {"reply": "Done."})
    async with slack_gateway(make_config, fake, SKILLYARD_MODEL=model):
        await say(fake, question)
        await fake.wait_for("files.completeUploadExternal")
    (upload,) = fake.uploads
    assert (upload.filename, upload.content) == ("chart.png", chart)
    assert (upload.channel, upload.thread_ts) == (general, question["ts"])
    assert upload.initial_comment == "Your chart"
    assert fake.bot_texts(general) == ["Done."]
    order = [c.method for c in fake.calls if c.method != "auth.test"]
    assert order[-3:] == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
