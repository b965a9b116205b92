"""Telegram end to end: the whole gateway (brain, skills, router, channel host) with the
real python-telegram-bot against the loopback Bot API fake, the way a user chats."""

from __future__ import annotations

import asyncio
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
from tests.fakes.telegram_api import BOT_ID, BOT_USERNAME, TOKEN, FakeTelegram, utf16_len

pytestmark = pytest.mark.slow

SECRET = "e2e-webhook-secret_0123456789"
ALICE_ID = 42


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@asynccontextmanager
async def telegram_gateway(
    make_config: Callable[..., Config], fake: FakeTelegram, **env: str
) -> AsyncIterator[RunningServer]:
    """The gateway with the Telegram channel on, pointed at ``fake``; Alice is allowed."""
    settings = {
        "SKILLYARD_CHANNELS__TELEGRAM__ENABLED": "true",
        "SKILLYARD_CHANNELS__TELEGRAM__API_BASE_URL": fake.api_base_url,
        "SKILLYARD_CHANNELS__TELEGRAM__FILE_BASE_URL": fake.file_base_url,
        "SKILLYARD_CHANNELS__TELEGRAM__ALLOW_FROM": str(ALICE_ID),
        "TELEGRAM_BOT_TOKEN": TOKEN,
    }
    async with running_server(make_config(**(settings | env))) as server:
        # polling is ready once it polls; a webhook once set (pushes retry on 503 until then)
        webhook = env.get("SKILLYARD_CHANNELS__TELEGRAM__MODE") == "webhook"
        await fake.wait_for("setWebhook" if webhook else "getUpdates")
        yield server


async def push_until_taken(fake: FakeTelegram, update: dict[str, Any], url: str) -> int:
    """Push as Telegram does: a 503 (not connected yet) is delivered again."""
    async with asyncio.timeout(10):
        while (status := (await fake.push_webhook(update, url=url)).status_code) == 503:
            pass
    return status


def script(tmp_path: Path, *steps: dict[str, Any]) -> str:
    path = tmp_path / "script.json"
    # JSON is YAML (no quoting surprises); raw UTF-8, since YAML would read a \ud83e
    # escape pair as two lone surrogates
    path.write_text(json.dumps(list(steps), ensure_ascii=False), encoding="utf-8")
    return f"scripted:{path}"


def long_reply(length: int = 10_000) -> str:
    """Paragraphs with emoji (2 UTF-16 units each), exactly ``length`` characters."""
    paragraph = "Paragraph {n}: " + "the quick 🦊 jumps over the lazy 🐶. " * 12
    text = "\n\n".join(paragraph.format(n=n) for n in range(40))
    return text[:length]


async def test_a_direct_message_runs_a_skill_and_the_answer_comes_back_threaded(
    make_config: Callable[..., Config], fake: FakeTelegram
) -> None:
    alice = fake.user(ALICE_ID, "Alice", username="alice")
    chat = fake.private_chat(alice)
    async with telegram_gateway(make_config, fake):
        update = fake.text(chat, alice, "/calculator 6*7")
        fake.deliver(update)
        await fake.wait_until(lambda: fake.bot_texts(ALICE_ID) == ["42"], what="the answer")
    (send,) = fake.calls_of("sendMessage")
    assert send.params["chat_id"] == ALICE_ID
    assert send.params["parse_mode"] == "HTML"
    assert send.params["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert "message_thread_id" not in send.params
    (typing,) = fake.calls_of("sendChatAction")  # while the brain worked
    assert typing.params == {"chat_id": ALICE_ID, "action": "typing"}
    assert typing.at < send.at


async def test_a_stranger_gets_a_pairing_code_and_is_answered_once_approved(
    make_config: Callable[..., Config], fake: FakeTelegram
) -> None:
    stranger = fake.user(777, "Mallory")
    chat = fake.private_chat(stranger)
    config = make_config()
    async with telegram_gateway(make_config, fake) as server:
        fake.deliver(fake.text(chat, stranger, "hello"))
        (code_message,) = await fake.wait_for("sendMessage")
        text = fake.bot_texts(777)[0]
        assert "skillyard pairing approve telegram " in text
        code = text.split("approve telegram ")[1].split()[0]
        pairing = PairingStore.open(config.data_dir / "state.db", clock=time.time)
        try:
            assert pairing.approve("telegram", code) is not None
        finally:
            pairing.close()
        fake.deliver(fake.text(chat, stranger, "hello again"))
        await fake.wait_until(lambda: "hello again" in fake.bot_texts(777), what="the answer")
        assert server.runtime.channels.status()["telegram"] == "ok"
    assert code_message.params["chat_id"] == 777


async def test_in_a_group_only_mentions_and_replies_to_the_bot_are_answered(
    make_config: Callable[..., Config], fake: FakeTelegram
) -> None:
    alice = fake.user(ALICE_ID, "Alice")
    group = fake.group(-4000000001, "Book club")
    async with telegram_gateway(make_config, fake):
        fake.deliver(fake.text(group, alice, "just chatting among ourselves"))
        mention = fake.text(group, alice, f"@{BOT_USERNAME} ping")
        fake.deliver(mention)
        (first,) = await fake.wait_for("sendMessage")
        bot_message = fake.bot_messages(group["id"])[0]
        reply = fake.text(group, alice, "and pong?", reply_to=bot_message)
        fake.deliver(reply)
        await fake.wait_for("sendMessage", 2)
    assert first.params["reply_parameters"]["message_id"] == mention["message"]["message_id"]
    assert fake.bot_texts(group["id"]) == [f"@{BOT_USERNAME} ping", "and pong?"]


async def test_a_forum_topic_reply_lands_in_the_same_topic(
    make_config: Callable[..., Config], fake: FakeTelegram
) -> None:
    alice = fake.user(ALICE_ID, "Alice")
    forum = fake.group(-1001000000002, "Support", forum=True)
    async with telegram_gateway(make_config, fake):
        update = fake.text(forum, alice, f"/calculator@{BOT_USERNAME} 6*7", topic=77)
        fake.deliver(update)
        (send,) = await fake.wait_for("sendMessage")
    assert send.params["message_thread_id"] == 77
    assert send.params["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert fake.bot_texts(forum["id"]) == ["42"]


async def test_a_long_reply_is_streamed_by_edits_then_split_within_the_limit(
    make_config: Callable[..., Config], fake: FakeTelegram, tmp_path: Path
) -> None:
    reply = long_reply()
    alice = fake.user(ALICE_ID, "Alice")
    chat = fake.private_chat(alice)
    model = script(tmp_path, {"reply": reply})
    async with telegram_gateway(make_config, fake, SKILLYARD_MODEL=model):
        question = fake.text(chat, alice, "tell me a long story")
        fake.deliver(question)
        await fake.wait_until(
            lambda: "".join(fake.bot_texts(ALICE_ID)).split() == reply.split(),
            what="the whole reply",
        )
    texts = fake.bot_texts(ALICE_ID)
    assert len(texts) >= 3
    assert all(utf16_len(text) <= 4096 for text in texts)
    sends = fake.calls_of("sendMessage")
    assert all(c.failed is None for c in sends)  # nothing was refused as too long
    question_id = question["message"]["message_id"]
    assert {c.params["reply_parameters"]["message_id"] for c in sends} == {question_id}
    # streamed: the first message was posted early, then edited (throttled, not per delta)
    first = fake.bot_messages(ALICE_ID)[0]["message_id"]
    edits = [c for c in fake.calls_of("editMessageText") if c.params["message_id"] == first]
    assert 1 <= len(edits) <= 2
    history = fake.shown_history(ALICE_ID, first)
    assert history[0] != history[-1] == texts[0]  # a partial text first, the final at last


async def test_an_approval_by_inline_button_runs_the_tool_once_and_shows_who_decided(
    make_config: Callable[..., Config], fake: FakeTelegram, tmp_path: Path
) -> None:
    alice = fake.user(ALICE_ID, "Alice")
    chat = fake.private_chat(alice)
    model = script(
        tmp_path,
        {"tool_calls": [{"name": "calculator__evaluate", "arguments": {"expression": "6*7"}}]},
        {"reply": "The answer is 42."},
    )
    env = {"SKILLYARD_MODEL": model, "SKILLYARD_SKILLS__APPROVAL_REQUIRED": "calculator__evaluate"}
    async with telegram_gateway(make_config, fake, **env) as server:
        fake.deliver(fake.text(chat, alice, "what is 6*7?"))
        await fake.wait_until(
            lambda: any("reply_markup" in m for m in fake.bot_messages(ALICE_ID)),
            what="the approval buttons",
        )
        asking = next(m for m in fake.bot_messages(ALICE_ID) if "reply_markup" in m)
        approve = asking["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        assert approve.startswith("apr:") and approve.endswith(":approve")
        fake.deliver(fake.press(alice, asking, approve))
        fake.deliver(fake.press(alice, asking, approve))  # an impatient second press
        await fake.wait_until(
            lambda: "The answer is 42." in fake.bot_texts(ALICE_ID), what="the answer"
        )
        await fake.wait_for("answerCallbackQuery", 2)
        session = f"telegram:{BOT_ID}:{ALICE_ID}"
        events = server.runtime.store.events_after(session, 0, 1000)
    starts = [e for e in events if e.event == "chat.tool" and e.payload["phase"] == "start"]
    assert len(starts) == 1
    assert [e.event for e in events].count("approval.resolved") == 1  # the second: ignored
    decided = next(
        m for m in fake.bot_messages(ALICE_ID) if m["message_id"] == asking["message_id"]
    )
    assert "reply_markup" not in decided  # no buttons left to press
    assert decided["text"].endswith("✅ Approved by Alice.")


async def test_a_rate_limit_in_the_middle_of_a_reply_is_waited_out(
    make_config: Callable[..., Config], fake: FakeTelegram, tmp_path: Path
) -> None:
    reply = long_reply()
    alice = fake.user(ALICE_ID, "Alice")
    chat = fake.private_chat(alice)
    fake.fail_next("sendMessage", 429, retry_after=0.25, after=1)  # the second part
    model = script(tmp_path, {"reply": reply})
    async with telegram_gateway(make_config, fake, SKILLYARD_MODEL=model):
        fake.deliver(fake.text(chat, alice, "tell me a long story"))
        await fake.wait_until(
            lambda: "".join(fake.bot_texts(ALICE_ID)).split() == reply.split(),
            what="the whole reply",
        )
    sends = fake.calls_of("sendMessage")
    limited = next(i for i, c in enumerate(sends) if c.failed == 429)
    retry = sends[limited + 1]
    assert retry.failed is None and retry.params["text"] == sends[limited].params["text"]
    assert retry.at - sends[limited].at >= 0.25


async def test_webhook_mode_refuses_a_forged_request_and_answers_a_real_one_once(
    make_config: Callable[..., Config], fake: FakeTelegram
) -> None:
    alice = fake.user(ALICE_ID, "Alice")
    chat = fake.private_chat(alice)
    env = {
        "SKILLYARD_CHANNELS__TELEGRAM__MODE": "webhook",
        "SKILLYARD_CHANNELS__TELEGRAM__PUBLIC_URL": "https://bot.example.test",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
    }
    async with telegram_gateway(make_config, fake, **env) as server:
        (hook,) = fake.calls_of("setWebhook")
        assert hook.params["url"] == "https://bot.example.test/telegram/webhook"
        assert hook.params["secret_token"] == SECRET
        local = f"http://127.0.0.1:{server.port}/telegram/webhook"  # behind the public URL
        forged = fake.text(chat, alice, "/calculator 1+1")
        response = await fake.push_webhook(forged, url=local, secret="guessed")
        assert response.status_code == 403
        real = fake.text(chat, alice, "/calculator 6*7")
        for _ in range(2):  # Telegram re-delivers when it misses our answer
            assert await push_until_taken(fake, real, local) == 200
        await fake.wait_until(lambda: fake.bot_texts(ALICE_ID) == ["42"], what="the answer")
        session = f"telegram:{BOT_ID}:{ALICE_ID}"
        events = server.runtime.store.events_after(session, 0, 1000)
    assert not fake.calls_of("getUpdates")
    user_texts = [e.payload.get("text") for e in events if e.event == "chat.message"]
    assert "/calculator 1+1" not in user_texts
    assert len(fake.calls_of("sendMessage")) == 1


async def test_the_same_message_delivered_twice_is_answered_once(
    make_config: Callable[..., Config], fake: FakeTelegram
) -> None:
    alice = fake.user(ALICE_ID, "Alice")
    chat = fake.private_chat(alice)
    async with telegram_gateway(make_config, fake):
        message = fake.message(chat, alice, "/calculator 6*7")
        fake.deliver(fake.update(message=message))
        (first,) = await fake.wait_for("sendMessage")
        # after a restart Telegram hands out what was not confirmed: a new update id
        fake.deliver(fake.update(message=message))
        fake.deliver(fake.text(chat, alice, "/calculator 1+1"))
        await fake.wait_for("sendMessage", 2)
    assert fake.bot_texts(ALICE_ID) == ["42", "2"]
    assert first.params["reply_parameters"]["message_id"] == message["message_id"]


async def test_files_are_downloaded_only_for_messages_the_assistant_answers(
    make_config: Callable[..., Config], fake: FakeTelegram
) -> None:
    alice, stranger = fake.user(ALICE_ID, "Alice"), fake.user(777, "Mallory")
    group = fake.group(-4000000001, "Book club")
    config = make_config()
    async with telegram_gateway(make_config, fake):
        document = fake.add_file(b"%PDF-1.7 stranger", mime_type="application/pdf")
        fake.deliver(
            fake.update(
                message=fake.message(
                    fake.private_chat(stranger), stranger, caption="read this", document=document
                )
            )
        )
        await fake.wait_until(lambda: bool(fake.bot_texts(777)), what="the pairing code")
        chatter = fake.add_file(b"%PDF-1.7 chatter", mime_type="application/pdf")
        fake.deliver(
            fake.update(message=fake.message(group, alice, caption="fyi", document=chatter))
        )
        mine = fake.add_file(b"%PDF-1.7 alice", mime_type="application/pdf")
        fake.deliver(
            fake.update(
                message=fake.message(
                    fake.private_chat(alice), alice, caption="what is this?", document=mine
                )
            )
        )
        await fake.wait_until(lambda: fake.bot_texts(ALICE_ID) != [], what="the answer")
    (fetched,) = fake.calls_of("getFile")  # not the stranger's, not the group chatter's
    assert fetched.params["file_id"] == mine["file_id"]
    (stored,) = (config.data_dir / "channels" / "telegram" / "attachments").rglob("*.pdf")
    assert stored.read_bytes() == b"%PDF-1.7 alice"


async def test_a_file_the_assistant_sends_is_uploaded_into_the_topic_after_the_reply(
    make_config: Callable[..., Config], fake: FakeTelegram, tmp_path: Path
) -> None:
    alice = fake.user(ALICE_ID, "Alice")
    forum = fake.group(-1001000000002, "Support", forum=True)
    report = b"city,temp\nParis,21\n" * 50
    session = f"telegram:{BOT_ID}:{forum['id']}:77"
    config = make_config()
    (workspace_dir(config.data_dir, session) / "report.csv").write_bytes(report)
    call = {"name": "send_file", "arguments": {"path": "report.csv", "caption": "The numbers"}}
    model = script(tmp_path, {"tool_calls": [call]}, {"reply": "Here is your report."})
    async with telegram_gateway(make_config, fake, SKILLYARD_MODEL=model):
        question = fake.text(forum, alice, f"@{BOT_USERNAME} send me the report", topic=77)
        fake.deliver(question)
        (upload_call,) = await fake.wait_for("sendDocument")
    (upload,) = fake.uploads
    assert (upload.kind, upload.filename, upload.content) == ("document", "report.csv", report)
    assert upload.caption == "The numbers"
    assert (upload.chat_id, upload.thread_id) == (forum["id"], 77)
    assert upload.reply_to == question["message"]["message_id"]
    (text,) = fake.calls_of("sendMessage")  # the reply's text first, then the file
    assert text.at < upload_call.at
    assert fake.bot_texts(forum["id"]) == ["Here is your report."]
