"""Discord end to end: the whole gateway (brain, skills, router, channel host) with the
real discord.py against the loopback Discord fake (REST + gateway), the way a user chats."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from brain.tools import workspace_dir
from channels.errors import ChannelConfigError
from gateway.app import RunningServer, hosted_channels, running_server
from gateway.config import Config
from gateway.pairing import PairingStore
from tests.channels.discord.conftest import restore_discord_endpoints
from tests.fakes.discord_api import BOT_ID, TOKEN, FakeDiscord

pytestmark = pytest.mark.slow

ALICE_ID = "287600000000000042"


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    import channels.discord  # noqa: F401  (discord.py, imported without its audioop warning)

    restore_discord_endpoints(monkeypatch)  # the adapter points discord.py at the fake
    async with FakeDiscord() as server:
        yield server


@asynccontextmanager
async def discord_gateway(
    make_config: Callable[..., Config], fake: FakeDiscord, **env: str
) -> AsyncIterator[RunningServer]:
    """The gateway with the Discord channel on, pointed at ``fake``; Alice is allowed."""
    settings = {
        "SKILLYARD_CHANNELS__DISCORD__ENABLED": "true",
        "SKILLYARD_CHANNELS__DISCORD__API_BASE_URL": fake.api_base_url,
        "SKILLYARD_CHANNELS__DISCORD__GATEWAY_URL": fake.gateway_url,
        "SKILLYARD_CHANNELS__DISCORD__ALLOW_FROM": ALICE_ID,
        "DISCORD_BOT_TOKEN": TOKEN,
    }
    async with running_server(make_config(**(settings | env))) as server:
        await fake.wait_until(lambda: channel_status(server) == "ok", what="the channel ready")
        yield server


def channel_status(server: RunningServer) -> str:
    return server.runtime.channels.status()["discord"]


def script(tmp_path: Path, *steps: dict[str, Any]) -> str:
    path = tmp_path / "script.json"
    path.write_text(json.dumps(list(steps), ensure_ascii=False), encoding="utf-8")
    return f"scripted:{path}"


def long_reply(length: int = 10_000) -> str:
    paragraph = "Paragraph {n}: " + "the quick 🦊 jumps over the lazy 🐶. " * 12
    text = "\n\n".join(paragraph.format(n=n) for n in range(40))
    return text[:length]


async def test_a_direct_message_runs_a_skill_and_the_answer_references_it(
    make_config: Callable[..., Config], fake: FakeDiscord
) -> None:
    alice = fake.user(ALICE_ID, "alice")
    dm = fake.dm_channel(alice)
    async with discord_gateway(make_config, fake):
        question = await fake.post(dm, alice, "/calculator 6*7")
        await fake.wait_until(lambda: fake.bot_texts(dm["id"]) == ["42"], what="the answer")
    (send,) = fake.calls_of("create_message")
    assert send.path == f"/api/v10/channels/{dm['id']}/messages"
    assert send.body["message_reference"]["message_id"] == int(question["id"])
    assert send.body["allowed_mentions"] == {"parse": []}
    (typing,) = fake.calls_of("typing")  # while the brain worked
    assert typing.path.endswith(f"/channels/{dm['id']}/typing") and typing.at < send.at


async def test_a_stranger_gets_a_pairing_code_and_is_answered_once_approved(
    make_config: Callable[..., Config], fake: FakeDiscord
) -> None:
    stranger = fake.user("999000000000000777", "mallory")
    dm = fake.dm_channel(stranger)
    config = make_config()
    async with discord_gateway(make_config, fake):
        await fake.post(dm, stranger, "hello")
        await fake.wait_for("create_message")
        text = fake.bot_texts(dm["id"])[0]
        assert "skillyard pairing approve discord " in text
        code = text.split("approve discord ")[1].split()[0]
        pairing = PairingStore.open(config.data_dir / "state.db", clock=time.time)
        try:
            assert pairing.approve("discord", code) is not None
        finally:
            pairing.close()
        await fake.post(dm, stranger, "hello again")
        await fake.wait_until(lambda: "hello again" in fake.bot_texts(dm["id"]), what="answer")


async def test_in_a_guild_channel_only_mentions_and_replies_to_the_bot_are_answered(
    make_config: Callable[..., Config], fake: FakeDiscord
) -> None:
    alice = fake.user(ALICE_ID, "alice")
    general = fake.text_channel(fake.guild())
    async with discord_gateway(make_config, fake):
        await fake.post(general, alice, "just chatting among ourselves")
        mention = await fake.post(general, alice, f"<@{BOT_ID}> ping")
        (first,) = await fake.wait_for("create_message")
        answer = fake.bot_messages(general["id"])[0]
        await fake.post(general, alice, "and pong?", reply_to=answer)
        await fake.wait_for("create_message", 2)
    assert first.body["message_reference"]["message_id"] == int(mention["id"])
    assert fake.bot_texts(general["id"]) == ["ping", "and pong?"]


async def test_a_message_in_a_thread_is_answered_in_that_thread(
    make_config: Callable[..., Config], fake: FakeDiscord
) -> None:
    alice = fake.user(ALICE_ID, "alice")
    general = fake.text_channel(fake.guild())
    thread = fake.thread(general, "maths")
    async with discord_gateway(make_config, fake) as server:
        await fake.post(thread, alice, f"<@{BOT_ID}> /calculator 6*7")
        await fake.wait_until(lambda: fake.bot_texts(thread["id"]) == ["42"], what="answer")
        store = server.runtime.store
        in_thread = store.get_session(f"discord:{BOT_ID}:{general['id']}:{thread['id']}")
        in_channel = store.get_session(f"discord:{BOT_ID}:{general['id']}")
    (send,) = fake.calls_of("create_message")
    assert send.path == f"/api/v10/channels/{thread['id']}/messages"
    assert in_thread is not None and in_channel is None
    assert fake.bot_texts(general["id"]) == []


async def test_a_long_reply_is_streamed_by_edits_then_split_within_2000_characters(
    make_config: Callable[..., Config], fake: FakeDiscord, tmp_path: Path
) -> None:
    reply = long_reply()
    alice = fake.user(ALICE_ID, "alice")
    dm = fake.dm_channel(alice)
    model = script(tmp_path, {"reply": reply})
    async with discord_gateway(make_config, fake, SKILLYARD_MODEL=model):
        question = await fake.post(dm, alice, "tell me a long story")
        await fake.wait_until(
            lambda: "".join(fake.bot_texts(dm["id"])).split() == reply.split(),
            what="the whole reply",
        )
    texts = fake.bot_texts(dm["id"])
    assert len(texts) >= 5 and all(len(text) <= 2000 for text in texts)
    sends = fake.calls_of("create_message")
    assert all(c.failed is None for c in sends)  # nothing was refused as too long
    assert {c.body["message_reference"]["message_id"] for c in sends} == {int(question["id"])}
    # streamed: messages were posted as the text came, and one that was posted partial was
    # edited to its final text; throttled to one edit a second, not one per delta
    edits = fake.calls_of("edit_message")
    assert 1 <= len(edits) <= 2
    for edited in {c.path.rsplit("/", 1)[1] for c in edits}:
        history = fake.shown_history(dm["id"], edited)
        assert history[0] != history[-1] and history[-1] in texts


async def test_an_approval_by_button_runs_the_tool_once_and_shows_who_decided(
    make_config: Callable[..., Config], fake: FakeDiscord, tmp_path: Path
) -> None:
    alice = fake.user(ALICE_ID, "alice")
    dm = fake.dm_channel(alice)
    model = script(
        tmp_path,
        {"tool_calls": [{"name": "calculator__evaluate", "arguments": {"expression": "6*7"}}]},
        {"reply": "The answer is 42."},
    )
    env = {"SKILLYARD_MODEL": model, "SKILLYARD_SKILLS__APPROVAL_REQUIRED": "calculator__evaluate"}
    async with discord_gateway(make_config, fake, **env) as server:
        await fake.post(dm, alice, "what is 6*7?")
        await fake.wait_until(
            lambda: any(m["components"] for m in fake.bot_messages(dm["id"])),
            what="the approval buttons",
        )
        asking = next(m for m in fake.bot_messages(dm["id"]) if m["components"])
        approve = asking["components"][0]["components"][0]["custom_id"]
        assert approve.startswith("apr:") and approve.endswith(":approve")
        await fake.press(alice, asking, approve)
        await fake.press(alice, asking, approve)  # an impatient second press
        await fake.wait_until(
            lambda: "The answer is 42." in fake.bot_texts(dm["id"]), what="the answer"
        )
        await fake.wait_for("interaction_callback", 2)
        events = server.runtime.store.events_after(f"discord:{BOT_ID}:{dm['id']}", 0, 1000)
    starts = [e for e in events if e.event == "chat.tool" and e.payload["phase"] == "start"]
    assert len(starts) == 1
    assert all(c.failed is None for c in fake.calls_of("interaction_callback"))
    assert [e.event for e in events].count("approval.resolved") == 1  # the second: ignored
    decided = next(m for m in fake.bot_messages(dm["id"]) if m["id"] == asking["id"])
    assert decided["components"] == []  # no buttons left to press
    assert decided["content"].endswith("✅ Approved by Alice.")  # the display name


async def test_a_rate_limit_in_the_middle_of_a_reply_is_waited_out(
    make_config: Callable[..., Config], fake: FakeDiscord, tmp_path: Path
) -> None:
    reply = long_reply()
    alice = fake.user(ALICE_ID, "alice")
    dm = fake.dm_channel(alice)
    fake.fail_next("create_message", 429, retry_after=0.25, after=1)  # discord.py waits
    fake.fail_next("create_message", 429, retry_after=0.5, via=False, after=1)  # the host waits
    model = script(tmp_path, {"reply": reply})
    async with discord_gateway(
        make_config, fake, SKILLYARD_MODEL=model, SKILLYARD_CHANNELS__DISCORD__STREAM="false"
    ):
        await fake.post(dm, alice, "tell me a long story")
        await fake.wait_until(
            lambda: "".join(fake.bot_texts(dm["id"])).split() == reply.split(),
            what="the whole reply",
        )
    sends = fake.calls_of("create_message")
    limited = [i for i, c in enumerate(sends) if c.failed == 429]
    assert len(limited) == 2
    for index in limited:
        retry = sends[index + 1]
        assert retry.failed is None and retry.body["content"] == sends[index].body["content"]
    assert sends[limited[0] + 1].at - sends[limited[0]].at >= 0.25
    assert sends[limited[1] + 1].at - sends[limited[1]].at >= 1.0  # Retry-After: 1
    assert len(fake.bot_texts(dm["id"])) == len(sends) - 2  # nothing posted twice


async def test_a_dropped_gateway_shows_in_readyz_and_resumes_without_losing_messages(
    make_config: Callable[..., Config], fake: FakeDiscord
) -> None:
    alice = fake.user(ALICE_ID, "alice")
    dm = fake.dm_channel(alice)
    async with discord_gateway(make_config, fake) as server, httpx.AsyncClient() as http:
        readyz = f"http://127.0.0.1:{server.port}/readyz"
        await fake.drop_connection(hold_resume=True)
        await fake.wait_until(
            lambda: channel_status(server).startswith("reconnecting"), what="reconnecting"
        )
        during = (await http.get(readyz)).json()
        await fake.post(dm, alice, "/calculator 6*7")  # Discord keeps it for the RESUME
        fake.release_resume()
        await fake.wait_until(lambda: fake.bot_texts(dm["id"]) == ["42"], what="the answer")
        after = (await http.get(readyz)).json()
    assert during["channels"]["discord"].startswith("reconnecting: ")
    assert during["status"] == "ready"  # the web page and other channels still work
    assert after["channels"]["discord"] == "ok"
    assert len(fake.calls_of("identify")) == 1 and len(fake.calls_of("resume")) == 1


async def test_the_bots_own_messages_are_ignored(
    make_config: Callable[..., Config], fake: FakeDiscord
) -> None:
    alice = fake.user(ALICE_ID, "alice")
    general = fake.text_channel(fake.guild())
    async with discord_gateway(
        make_config,
        fake,
        SKILLYARD_CHANNELS__DISCORD__GROUP_POLICY="open",
        SKILLYARD_CHANNELS__DISCORD__REQUIRE_MENTION="false",
    ):
        await fake.post(general, fake.bot, "/calculator 1+1")  # as discord.py echoes a send
        await fake.post(general, alice, "/calculator 6*7")
        await fake.wait_until(lambda: fake.bot_texts(general["id"]) == ["42"], what="answer")
    assert len(fake.calls_of("create_message")) == 1


def test_an_enabled_discord_channel_without_a_token_stops_start_up_naming_it(
    make_config: Callable[..., Config],
) -> None:
    config = make_config(SKILLYARD_CHANNELS__DISCORD__ENABLED="true")
    with pytest.raises(ChannelConfigError, match="DISCORD_BOT_TOKEN is not set"):
        hosted_channels(config)


async def test_files_are_downloaded_only_for_messages_the_assistant_answers(
    make_config: Callable[..., Config], fake: FakeDiscord
) -> None:
    alice, mallory = fake.user(ALICE_ID, "alice"), fake.user("999000000000000777", "mallory")
    general = fake.text_channel(fake.guild())
    config = make_config()
    async with discord_gateway(make_config, fake):
        strangers = fake.dm_channel(mallory)
        theirs = fake.attachment(strangers, b"stranger", "theirs.txt", content_type="text/plain")
        await fake.post(strangers, mallory, "read this", attachments=[theirs])
        chatter = fake.attachment(general, b"chatter", "chatter.txt", content_type="text/plain")
        await fake.post(general, alice, "fyi", attachments=[chatter])  # not addressed
        dm = fake.dm_channel(alice)
        mine = fake.attachment(dm, b"alice", "mine.txt", content_type="text/plain")
        await fake.post(dm, alice, "what is this?", attachments=[mine])
        await fake.wait_until(lambda: fake.bot_texts(dm["id"]) != [], what="the answer")
    (download,) = fake.calls_of("cdn")
    assert mine["id"] in download.path
    (stored,) = (config.data_dir / "channels" / "discord" / "attachments").rglob("*.txt")
    assert stored.read_bytes() == b"alice"


async def test_a_file_the_assistant_sends_is_attached_in_the_thread_after_the_reply(
    make_config: Callable[..., Config], fake: FakeDiscord, tmp_path: Path
) -> None:
    alice = fake.user(ALICE_ID, "alice")
    general = fake.text_channel(fake.guild())
    thread = fake.thread(general, "data")
    data = json.dumps({"rows": list(range(500))}).encode()
    session = f"discord:{BOT_ID}:{general['id']}:{thread['id']}"
    config = make_config()
    (workspace_dir(config.data_dir, session) / "data.json").write_bytes(data)
    call = {"name": "send_file", "arguments": {"path": "data.json", "caption": "Your data"}}
    model = script(tmp_path, {"tool_calls": [call]}, {"reply": "Done."})
    async with discord_gateway(make_config, fake, SKILLYARD_MODEL=model):
        question = await fake.post(thread, alice, f"<@{BOT_ID}> export the data")
        await fake.wait_until(lambda: bool(fake.uploads), what="the upload")
    (upload,) = fake.uploads
    assert (upload.channel_id, upload.filename, upload.content) == (thread["id"], "data.json", data)
    assert upload.content_text == "Your data"
    assert upload.reference is not None
    assert upload.reference["message_id"] == int(question["id"])
    assert fake.bot_texts(thread["id"]) == ["Done.", "Your data"]  # the text first
    assert fake.bot_texts(general["id"]) == []
