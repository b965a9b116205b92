"""The Telegram adapter with the real python-telegram-bot against the fake Bot API: polling."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from channels.base import (
    AdapterSettings,
    ApprovalButtons,
    ButtonPress,
    EditMessage,
    OutboundFile,
    ReplyTarget,
    SendFile,
    SendMessage,
    SentMessage,
    ShowTyping,
)
from channels.errors import (
    ChannelAuthError,
    ChannelConfigError,
    ChannelRateLimited,
    ChannelRequestError,
    ChannelUnavailable,
)
from channels.telegram import CAPABILITIES, TelegramAdapter, create_adapter
from gateway.events import (
    ApprovalDecision,
    Attachment,
    AttachmentKind,
    Conversation,
    ConversationKind,
    InboundMessage,
    Sender,
)
from tests.channels.inbox import Inbox, Link
from tests.channels.telegram.conftest import running
from tests.fakes.telegram_api import BOT_ID, BOT_USERNAME, TOKEN, FakeTelegram

MakeAdapter = Callable[..., TelegramAdapter]


async def test_polling_connects_and_hands_over_a_direct_message(
    fake: FakeTelegram, make_adapter: MakeAdapter
) -> None:
    alice = fake.user(42, "Alice", username="alice")
    update = fake.text(fake.private_chat(alice), alice, "hello")
    fake.deliver(update)
    adapter = make_adapter()
    async with running(adapter) as inbox:
        (message,) = await inbox.wait()
        # the update is confirmed (next offset) only after the gateway took it
        await fake.wait_for("getUpdates", where=lambda c: c.params.get("offset") is not None)
    assert isinstance(message, InboundMessage)
    assert (message.id, message.text, message.account) == ("42:1001", "hello", str(BOT_ID))
    assert adapter.identity.username == BOT_USERNAME
    methods = [c.method for c in fake.calls]
    assert methods[:2] == ["getMe", "deleteWebhook"]
    polls = fake.calls_of("getUpdates")
    assert polls[0].params["allowed_updates"] == ["message", "edited_message", "callback_query"]
    assert polls[-1].params["offset"] == update["update_id"] + 1


async def test_an_update_the_gateway_did_not_take_is_delivered_again(
    fake: FakeTelegram, make_adapter: MakeAdapter
) -> None:
    alice = fake.user(42, "Alice")
    fake.deliver(fake.text(fake.private_chat(alice), alice, "important"))
    adapter = make_adapter()

    async def refuse(item: object) -> None:
        raise RuntimeError("the store is down")

    with pytest.raises(RuntimeError, match="the store is down"):
        await adapter.run(refuse, Link())
    async with running(adapter) as inbox:
        (message,) = await inbox.wait()
    assert isinstance(message, InboundMessage) and message.text == "important"


async def test_a_malformed_update_is_skipped_and_the_next_one_handled(
    fake: FakeTelegram, make_adapter: MakeAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    alice = fake.user(42, "Alice")
    chat = fake.private_chat(alice)
    bad = fake.text(chat, alice, "x")
    bad["message"]["text"] = ["not", "text"]
    fake.deliver(bad)
    fake.deliver(fake.text(chat, alice, "fine"))
    async with running(make_adapter()) as inbox:
        (message,) = await inbox.wait()
    assert isinstance(message, InboundMessage) and message.text == "fine"
    assert "update.message.text must be a string" in caplog.text


async def test_edits_are_not_answered_again(fake: FakeTelegram, make_adapter: MakeAdapter) -> None:
    alice = fake.user(42, "Alice")
    chat = fake.private_chat(alice)
    first = fake.message(chat, alice, "helo")
    fake.deliver(fake.update(message=first, edited=True))
    fake.deliver(fake.text(chat, alice, "next"))
    async with running(make_adapter()) as inbox:
        (message,) = await inbox.wait()
    assert isinstance(message, InboundMessage) and message.text == "next"


async def test_a_button_press_is_answered_and_handed_over(
    fake: FakeTelegram, make_adapter: MakeAdapter
) -> None:
    alice = fake.user(42, "Alice")
    chat = fake.private_chat(alice)
    adapter = make_adapter()
    async with running(adapter) as inbox:
        sent = await adapter.perform(
            SendMessage(ReplyTarget("42"), "Approve this action?", ApprovalButtons("apr_x1"))
        )
        assert isinstance(sent, SentMessage)
        (bot_message,) = fake.bot_messages(42)
        keyboard = bot_message["reply_markup"]["inline_keyboard"]
        assert [b["callback_data"] for b in keyboard[0]] == [
            "apr:apr_x1:approve",
            "apr:apr_x1:deny",
        ]
        fake.deliver(fake.press(alice, bot_message, keyboard[0][1]["callback_data"]))
        (press,) = await inbox.wait()
        await fake.wait_for("answerCallbackQuery")
        await adapter.perform(EditMessage(ReplyTarget("42"), sent.message_id, "Denied."))
    (decided,) = fake.bot_messages(42)
    assert decided["text"] == "Denied." and "reply_markup" not in decided  # keyboard gone
    assert "reply_markup" not in fake.calls_of("editMessageText")[0].params
    assert isinstance(press, ButtonPress)
    assert (press.conversation_id, press.request_id) == ("42", "apr_x1")
    assert press.decision is ApprovalDecision.DENY
    assert chat["id"] == 42


async def test_replies_are_html_threaded_and_in_their_topic(
    fake: FakeTelegram, make_adapter: MakeAdapter
) -> None:
    alice = fake.user(42, "Alice")
    forum = fake.group(-1001234567890, "Support", forum=True)
    question = fake.message(forum, alice, "hi", topic=77)
    adapter = make_adapter()
    target = ReplyTarget(str(forum["id"]), "77", reply_to=str(question["message_id"]))
    async with running(adapter):
        sent = await adapter.perform(SendMessage(target, "<b>4</b>2 &lt;ok&gt;"))
        await adapter.perform(ShowTyping(target))
        assert sent is not None
        await adapter.perform(EditMessage(target, sent.message_id, "<i>42</i>"))
        await adapter.perform(EditMessage(target, sent.message_id, "<i>42</i>"))  # unchanged
    (send,) = fake.calls_of("sendMessage")
    assert send.params["parse_mode"] == "HTML"
    assert send.params["message_thread_id"] == 77
    assert send.params["reply_parameters"] == {
        "message_id": question["message_id"],
        "allow_sending_without_reply": True,
    }
    (typing,) = fake.calls_of("sendChatAction")
    assert typing.params == {"chat_id": forum["id"], "action": "typing", "message_thread_id": 77}
    assert fake.shown_history(forum["id"], int(sent.message_id)) == ["42 <ok>", "42"]
    assert [c.failed for c in fake.calls_of("editMessageText")] == [None, 400]


async def test_markup_telegram_refuses_is_sent_again_as_plain_text(
    fake: FakeTelegram, make_adapter: MakeAdapter
) -> None:
    fake.private_chat(fake.user(42, "Alice"))
    adapter = make_adapter()
    async with running(adapter):
        await adapter.perform(SendMessage(ReplyTarget("42"), "<b>bold</i> &amp; <blink>"))
    first, second = fake.calls_of("sendMessage")
    assert first.failed == 400 and second.failed is None
    assert "parse_mode" not in second.params
    assert fake.bot_texts(42) == ["bold & "]


async def test_a_request_id_too_long_for_a_button_falls_back_to_commands(
    fake: FakeTelegram, make_adapter: MakeAdapter
) -> None:
    fake.private_chat(fake.user(42, "Alice"))
    adapter = make_adapter()
    async with running(adapter):
        await adapter.perform(
            SendMessage(ReplyTarget("42"), "Approve?", ApprovalButtons("apr_" + "x" * 60))
        )
    (send,) = fake.calls_of("sendMessage")
    assert "reply_markup" not in send.params
    assert fake.bot_texts(42) == ["Approve?\nReply /approve or /deny."]


@pytest.mark.parametrize(
    ("status", "retry_after", "error"),
    [
        (429, 3, ChannelRateLimited),
        (400, None, ChannelRequestError),
        (403, None, ChannelRequestError),  # the user blocked the bot
        (502, None, ChannelUnavailable),
    ],
)
async def test_send_errors_are_translated(
    fake: FakeTelegram,
    make_adapter: MakeAdapter,
    status: int,
    retry_after: int | None,
    error: type[Exception],
) -> None:
    fake.private_chat(fake.user(42, "Alice"))
    fake.fail_next("sendMessage", status, retry_after=retry_after)
    adapter = make_adapter()
    async with running(adapter):
        with pytest.raises(error) as raised:
            await adapter.perform(SendMessage(ReplyTarget("42"), "hi"))
    assert type(raised.value) is error
    if isinstance(raised.value, ChannelRateLimited):
        assert raised.value.retry_after_s == 3.0


async def test_bad_ids_are_refused_before_any_request(
    fake: FakeTelegram, make_adapter: MakeAdapter
) -> None:
    adapter = make_adapter()
    async with running(adapter):
        with pytest.raises(ChannelRequestError, match="'web-1' is not a Telegram chat id"):
            await adapter.perform(SendMessage(ReplyTarget("web-1"), "hi"))
    assert not fake.calls_of("sendMessage")


async def test_a_refused_token_stops_the_channel_without_showing_the_token(
    make_adapter: MakeAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = make_adapter(secrets={"TELEGRAM_BOT_TOKEN": f"{BOT_ID}:wrong-secret"})
    with pytest.raises(ChannelAuthError) as raised:
        await adapter.run(Inbox(), Link())
    assert "TELEGRAM_BOT_TOKEN" in str(raised.value)
    assert "wrong-secret" not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


async def test_a_lost_poll_is_reported_for_a_reconnect(
    fake: FakeTelegram, make_adapter: MakeAdapter
) -> None:
    fake.fail_next("getUpdates", 409)  # another process polls with the same token
    adapter = make_adapter()
    link = Link()
    with pytest.raises(ChannelUnavailable, match="getUpdates: Conflict"):
        await adapter.run(Inbox(), link)
    assert link.reports == []  # never ready: the token works, but polling did not
    # the host will run it again; meanwhile replies can still be sent
    fake.private_chat(fake.user(42, "Alice"))
    assert await adapter.perform(SendMessage(ReplyTarget("42"), "still here")) is not None
    await adapter.aclose()


async def test_httpx_request_logs_never_show_the_token(
    fake: FakeTelegram, make_adapter: MakeAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    alice = fake.user(42, "Alice")
    fake.deliver(fake.text(fake.private_chat(alice), alice, "hi"))
    async with running(make_adapter()) as inbox:
        await inbox.wait()
    requests = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("/bot<token>/getMe" in line for line in requests)
    assert not any(TOKEN in line for line in requests)


async def test_stopping_closes_and_refuses_further_sends(
    fake: FakeTelegram, make_adapter: MakeAdapter
) -> None:
    fake.private_chat(fake.user(42, "Alice"))
    adapter = make_adapter()
    with pytest.raises(ChannelUnavailable, match="not connected"):
        await adapter.perform(SendMessage(ReplyTarget("42"), "early"))
    async with running(adapter):
        pass
    with pytest.raises(ChannelUnavailable, match="not connected"):
        await adapter.perform(SendMessage(ReplyTarget("42"), "late"))
    async with running(adapter):  # and it can be started again
        assert await adapter.perform(SendMessage(ReplyTarget("42"), "back")) is not None


def test_capabilities_follow_the_bot_api(make_adapter: MakeAdapter) -> None:
    assert (CAPABILITIES.max_text, CAPABILITIES.length_unit.value) == (4096, "utf16")
    assert make_adapter().capabilities == CAPABILITIES
    assert CAPABILITIES.edits and CAPABILITIES.buttons and CAPABILITIES.typing
    assert make_adapter().http_routes() == ()


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        (AdapterSettings(), "TELEGRAM_BOT_TOKEN is not set"),
        (
            AdapterSettings(secrets={"TELEGRAM_BOT_TOKEN": "not a token"}),
            "TELEGRAM_BOT_TOKEN does not look like a bot token",
        ),
        (
            AdapterSettings(mode="socket", secrets={"TELEGRAM_BOT_TOKEN": TOKEN}),
            "channels.telegram.mode",
        ),
        (
            AdapterSettings(mode="webhook", secrets={"TELEGRAM_BOT_TOKEN": TOKEN}),
            "channels.telegram.public_url is required",
        ),
        (
            AdapterSettings(
                mode="webhook",
                public_url="https://bot.example.test",
                secrets={"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": "has spaces"},
            ),
            "TELEGRAM_WEBHOOK_SECRET must be",
        ),
    ],
)
def test_misconfiguration_names_the_key(settings: AdapterSettings, named: str) -> None:
    with pytest.raises(ChannelConfigError, match=named) as raised:
        create_adapter(settings)
    assert TOKEN not in str(raised.value)


async def test_updates_are_handled_in_order_one_at_a_time(
    fake: FakeTelegram, make_adapter: MakeAdapter
) -> None:
    alice = fake.user(42, "Alice")
    chat = fake.private_chat(alice)
    for text in ("one", "two", "three"):
        fake.deliver(fake.text(chat, alice, text))
    busy = 0
    order: list[str] = []

    async def slow(item: object) -> None:
        nonlocal busy
        busy += 1
        assert busy == 1
        await asyncio.sleep(0)
        assert isinstance(item, InboundMessage)
        order.append(item.text)
        busy -= 1

    inbox = Inbox()

    async def both(item: object) -> None:
        await slow(item)
        await inbox(item)  # type: ignore[arg-type]

    adapter = make_adapter()
    async with asyncio.TaskGroup() as tasks:
        run = tasks.create_task(adapter.run(both, Link()))
        await inbox.wait(3)
        run.cancel()
    assert order == ["one", "two", "three"]


async def test_an_update_ptb_could_not_parse_does_not_stop_polling(
    fake: FakeTelegram, make_adapter: MakeAdapter
) -> None:
    alice = fake.user(42, "Alice")
    chat = fake.private_chat(alice)
    # PTB's Update.de_json needs voice.duration; our normaliser does not: one odd update
    # must neither block the batch nor come back on every poll
    odd = fake.add_file(b"ogg", mime_type="audio/ogg")
    fake.deliver(fake.update(message=fake.message(chat, alice, voice=odd)))
    fake.deliver({"update_id": 99, "message": "not an object"})
    fake.deliver({"no": "update id"})
    fake.deliver(fake.text(chat, alice, "after"))
    adapter = make_adapter()
    async with running(adapter) as inbox:
        voice, after = await inbox.wait(2)
        assert isinstance(voice, InboundMessage)
        voice = await adapter.fetch_attachments(voice)
    assert voice.attachments[0].local_path is not None
    assert isinstance(after, InboundMessage) and after.text == "after"


async def test_a_long_poll_cut_after_polling_worked_is_reported_and_polled_again(
    fake: FakeTelegram, make_adapter: MakeAdapter
) -> None:
    alice = fake.user(42, "Alice")
    fake.fail_next("getUpdates", 502, after=1)  # a proxy cuts the first long poll
    link = Link()
    async with running(make_adapter(), link=link) as inbox:
        await link.wait("ready", 2)
        fake.deliver(fake.text(fake.private_chat(alice), alice, "still there?"))
        (message,) = await inbox.wait()
    assert isinstance(message, InboundMessage) and message.text == "still there?"
    assert [r.partition(";")[0] for r in link.reports] == [
        "ready",
        "lost: telegram: getUpdates: Bad Gateway",
        "ready",
    ]
    # a quick poll first (ready once it works), long ones after, a quick one to recover
    timeouts = [c.params.get("timeout") for c in fake.calls_of("getUpdates")]
    assert timeouts[:4] == [0, 2, 0, 2]


async def test_two_failed_polls_in_a_row_leave_run_for_the_hosts_backoff(
    fake: FakeTelegram, make_adapter: MakeAdapter
) -> None:
    fake.fail_next("getUpdates", 502, after=1)
    fake.fail_next("getUpdates", 502)
    link = Link()
    adapter = make_adapter()
    with pytest.raises(ChannelUnavailable, match="getUpdates: Bad Gateway"):
        await adapter.run(Inbox(), link)
    await adapter.aclose()
    assert [r.partition(":")[0] for r in link.reports] == ["ready", "lost"]


async def test_files_are_not_fetched_while_disconnected(make_adapter: MakeAdapter) -> None:
    message = InboundMessage(
        "42:7",
        "telegram",
        str(BOT_ID),
        Conversation("42", ConversationKind.DM),
        Sender("42"),
        "",
        0.0,
        attachments=(Attachment(AttachmentKind.FILE, "file-id"),),
    )
    with pytest.raises(ChannelUnavailable, match="not connected"):
        await make_adapter().fetch_attachments(message)
    without_files = replace(message, attachments=())
    assert await make_adapter().fetch_attachments(without_files) is without_files


async def test_a_png_goes_as_a_photo_and_a_changed_file_is_refused(
    fake: FakeTelegram, make_adapter: MakeAdapter, tmp_path: Path
) -> None:
    alice = fake.user(42, "Alice")
    chat = fake.private_chat(alice)
    question = fake.message(chat, alice, "a chart please")
    png = tmp_path / "stored"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    chart = OutboundFile(png, "chart.png", "image/png", 108, "😀" * 600)  # 1200 UTF-16 units
    target = ReplyTarget(str(chat["id"]), reply_to=str(question["message_id"]))
    adapter = make_adapter()
    async with running(adapter):
        sent = await adapter.perform(SendFile(target, chart))
        with pytest.raises(ChannelRequestError, match="not the 107 announced"):
            await adapter.perform(SendFile(target, replace(chart, size=107)))
    assert sent is not None
    (upload,) = fake.uploads
    assert (upload.kind, upload.filename, upload.content) == (
        "photo",
        "chart.png",
        png.read_bytes(),
    )
    assert upload.reply_to == question["message_id"]
    assert upload.caption is not None and upload.caption.endswith("…")  # cut to Telegram's 1024
    assert not fake.calls_of("sendDocument")
    assert CAPABILITIES.max_upload_bytes == 50 * 1024 * 1024
