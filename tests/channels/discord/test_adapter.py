"""The Discord adapter with the real discord.py against the fake Discord: gateway and REST."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import pytest

from channels.base import (
    AdapterSettings,
    ApprovalButtons,
    ButtonPress,
    EditMessage,
    ReplyTarget,
    SendMessage,
    SentMessage,
    ShowTyping,
)
from channels.discord import (
    CAPABILITIES,
    BotIdentity,
    ChannelFacts,
    DiscordAdapter,
    create_adapter,
    normalise,
)
from channels.errors import (
    ChannelAuthError,
    ChannelRateLimited,
    ChannelRequestError,
    ChannelUnavailable,
)
from gateway.events import ApprovalDecision, ConversationKind, InboundMessage
from tests.channels.discord.conftest import running
from tests.channels.inbox import Inbox, Link
from tests.fakes.discord_api import BOT_ID, MESSAGE_CONTENT_INTENT, TOKEN, FakeDiscord

MakeAdapter = Callable[..., DiscordAdapter]


def only_message(items: Sequence[object]) -> InboundMessage:
    (item,) = items
    assert isinstance(item, InboundMessage)
    return item


async def test_it_logs_in_identifies_and_hands_over_a_direct_message(
    fake: FakeDiscord, make_adapter: MakeAdapter
) -> None:
    adapter = make_adapter()
    alice = fake.user(42, "alice")
    dm = fake.dm_channel(alice)
    async with running(adapter) as inbox:
        payload = await fake.post(dm, alice, "hello there")
        message = only_message(await inbox.wait())
    assert adapter.account == str(BOT_ID)
    assert [c.route for c in fake.calls[:4]] == [
        "get_me",
        "application_info",
        "gateway_connect",
        "identify",
    ]
    connect = fake.calls_of("gateway_connect")[0].body
    assert (connect["v"], connect["encoding"]) == ("10", "json")
    assert fake.calls_of("identify")[0].body["intents"] & MESSAGE_CONTENT_INTENT
    assert (message.id, message.text) == (f"{dm['id']}:{payload['id']}", "hello there")
    assert message.conversation.kind is ConversationKind.DM
    # discord.py's Message and the recorded payload normalise alike
    assert message == normalise(payload, BotIdentity(str(BOT_ID)), channel=ChannelFacts())


async def test_the_bots_own_messages_are_not_handed_over(
    fake: FakeDiscord, make_adapter: MakeAdapter
) -> None:
    alice = fake.user(42, "alice")
    dm = fake.dm_channel(alice)
    async with running(make_adapter()) as inbox:
        await fake.post(dm, fake.bot, "an answer the bot posted earlier")
        await fake.post(dm, alice, "next question")
        message = only_message(await inbox.wait())
    assert message.text == "next question"


async def test_a_thread_message_is_keyed_by_parent_and_thread(
    fake: FakeDiscord, make_adapter: MakeAdapter
) -> None:
    guild = fake.guild()
    general = fake.text_channel(guild)
    known = fake.thread(general, "planning")
    unknown = fake.thread(general, "older", announced=False)  # not in discord.py's cache
    alice = fake.user(42, "alice")
    async with running(make_adapter()) as inbox:
        await fake.post(known, alice, "one")
        await fake.post(unknown, alice, "two")
        await fake.post(unknown, alice, "three")
        items = await inbox.wait(3)
    for item, thread in zip(items, (known, unknown, unknown), strict=True):
        assert isinstance(item, InboundMessage)
        assert item.conversation.kind is ConversationKind.THREAD
        assert (item.conversation.id, item.conversation.thread_id) == (general["id"], thread["id"])
    assert len(fake.calls_of("get_channel")) == 1  # looked up once, then remembered


async def test_a_message_from_a_guild_discord_py_has_not_cached_is_no_dm(
    fake: FakeDiscord, make_adapter: MakeAdapter
) -> None:
    unavailable = fake.guild(announced=False)
    general = fake.text_channel(unavailable)
    alice = fake.user(42, "alice")
    async with running(make_adapter()) as inbox:
        await fake.post(general, alice, f"<@{BOT_ID}> hello")
        message = only_message(await inbox.wait())
    assert message.conversation.kind is ConversationKind.GROUP  # so never a pairing code
    assert message.conversation.id == general["id"] and message.mentions_self


async def test_a_mention_of_the_bots_role_addresses_the_bot(
    fake: FakeDiscord, make_adapter: MakeAdapter
) -> None:
    guild = fake.guild()
    general = fake.text_channel(guild)
    alice = fake.user(42, "alice")
    async with running(make_adapter()) as inbox:
        await fake.post(general, alice, "no mention here")
        await fake.post(general, alice, f"<@&{fake.bot_role(guild)}> /calculator 2+2")
        first, second = await inbox.wait(2)
    assert isinstance(first, InboundMessage) and not first.mentions_self
    assert isinstance(second, InboundMessage) and second.mentions_self
    assert second.text == "/calculator 2+2"
    assert second.conversation.title == "general"


async def test_replies_reference_the_message_and_never_ping(
    fake: FakeDiscord, make_adapter: MakeAdapter
) -> None:
    guild = fake.guild()
    thread = fake.thread(fake.text_channel(guild))
    alice = fake.user(42, "alice")
    adapter = make_adapter()
    async with running(adapter) as inbox:
        question = await fake.post(thread, alice, f"<@{BOT_ID}> hi")
        asked = only_message(await inbox.wait())
        target = ReplyTarget(asked.conversation.id, asked.conversation.thread_id, question["id"])
        await adapter.perform(ShowTyping(target))
        sent = await adapter.perform(SendMessage(target, "@everyone hello <@42>"))
        assert isinstance(sent, SentMessage)
        await adapter.perform(EditMessage(target, sent.message_id, "hello, edited"))
    (typing,) = fake.calls_of("typing")
    (create,) = fake.calls_of("create_message")
    assert typing.path == f"/api/v10/channels/{thread['id']}/typing"
    assert create.path == f"/api/v10/channels/{thread['id']}/messages"
    assert create.body["message_reference"]["message_id"] == int(question["id"])
    assert create.body["message_reference"]["fail_if_not_exists"] is False
    assert create.body["allowed_mentions"] == {"parse": []}
    (edit,) = fake.calls_of("edit_message")
    assert edit.body["allowed_mentions"] == {"parse": []}
    assert fake.shown_history(thread["id"], sent.message_id) == [
        "@everyone hello <@42>",
        "hello, edited",
    ]


async def test_approval_buttons_carry_the_request_and_a_press_is_acknowledged(
    fake: FakeDiscord, make_adapter: MakeAdapter
) -> None:
    alice = fake.user(42, "alice")
    dm = fake.dm_channel(alice)
    adapter = make_adapter()
    async with running(adapter) as inbox:
        target = ReplyTarget(dm["id"])
        await adapter.perform(SendMessage(target, "Approve this?", ApprovalButtons("apr_7Qx")))
        (asking,) = fake.bot_messages(dm["id"])
        buttons = asking["components"][0]["components"]
        assert [b["custom_id"] for b in buttons] == ["apr:apr_7Qx:approve", "apr:apr_7Qx:deny"]
        await fake.press(alice, asking, "someone-elses:button")
        await fake.press(alice, asking, "apr:apr_7Qx:approve")
        (press,) = await inbox.wait()
        await adapter.perform(EditMessage(target, asking["id"], "Approved."))
    (decided,) = fake.bot_messages(dm["id"])
    assert (decided["content"], decided["components"]) == ("Approved.", [])  # buttons gone
    assert fake.calls_of("edit_message")[0].body["components"] == []
    assert isinstance(press, ButtonPress)
    assert (press.conversation_id, press.thread_id) == (dm["id"], None)
    assert (press.sender.id, press.request_id) == ("42", "apr_7Qx")
    assert press.decision is ApprovalDecision.APPROVE
    (callback,) = fake.calls_of("interaction_callback")  # only our button is answered
    assert callback.body["type"] == 6 and callback.failed is None  # deferred update, in time


async def test_a_request_id_too_long_for_a_button_asks_for_a_command_instead(
    fake: FakeDiscord, make_adapter: MakeAdapter
) -> None:
    dm = fake.dm_channel(fake.user(42, "alice"))
    adapter = make_adapter()
    async with running(adapter):
        await adapter.perform(
            SendMessage(ReplyTarget(dm["id"]), "Approve?", ApprovalButtons("x" * 99))
        )
    (asking,) = fake.bot_messages(dm["id"])
    assert asking["components"] == []
    assert asking["content"] == "Approve?\nReply /approve or /deny."


# -- what Discord refuses -----------------------------------------------------------


async def test_discords_refusals_become_channel_errors(
    fake: FakeDiscord, make_adapter: MakeAdapter
) -> None:
    dm = fake.dm_channel(fake.user(42, "alice"))
    target = ReplyTarget(dm["id"])
    adapter = make_adapter()
    async with running(adapter):
        with pytest.raises(ChannelRequestError, match="50035"):
            await adapter.perform(SendMessage(target, "x" * 2001))  # Discord's limit
        with pytest.raises(ChannelRequestError, match="10003"):
            await adapter.perform(SendMessage(ReplyTarget("1300000000000000999"), "hi"))
        fake.fail_next("create_message", 403, code=50013, message="Missing Permissions")
        with pytest.raises(ChannelRequestError, match="Missing Permissions"):
            await adapter.perform(SendMessage(target, "hi"))
        fake.fail_next("typing", 503)
        with pytest.raises(ChannelUnavailable, match="503"):
            await adapter.perform(ShowTyping(target))
        with pytest.raises(ChannelRequestError, match="not a Discord id"):
            await adapter.perform(SendMessage(ReplyTarget("general"), "hi"))


async def test_a_429_with_via_is_waited_out_by_discord_py_itself(
    fake: FakeDiscord, make_adapter: MakeAdapter
) -> None:
    dm = fake.dm_channel(fake.user(42, "alice"))
    adapter = make_adapter()
    async with running(adapter):
        fake.fail_next("create_message", 429, retry_after=0.2)
        sent = await adapter.perform(SendMessage(ReplyTarget(dm["id"]), "patience"))
    limited, retried = fake.calls_of("create_message")
    assert (limited.failed, retried.failed) == (429, None)
    assert retried.at - limited.at >= 0.2
    assert isinstance(sent, SentMessage) and fake.bot_texts(dm["id"]) == ["patience"]


async def test_a_429_discord_py_does_not_wait_out_reaches_the_host_with_its_delay(
    fake: FakeDiscord, make_adapter: MakeAdapter
) -> None:
    dm = fake.dm_channel(fake.user(42, "alice"))
    adapter = make_adapter()
    async with running(adapter):
        fake.fail_next("create_message", 429, retry_after=3, via=False)  # Cloudflare-style
        with pytest.raises(ChannelRateLimited) as limited:
            await adapter.perform(SendMessage(ReplyTarget(dm["id"]), "hi"))
    assert limited.value.retry_after_s == 3.0
    assert len(fake.calls_of("create_message")) == 1


async def test_operations_before_connecting_are_unavailable(make_adapter: MakeAdapter) -> None:
    with pytest.raises(ChannelUnavailable, match="not connected"):
        await make_adapter().perform(ShowTyping(ReplyTarget("1300000000000000001")))


async def test_a_refused_token_is_an_authentication_error(
    fake: FakeDiscord, make_adapter: MakeAdapter
) -> None:
    other = TOKEN.replace("fake", "gone")
    adapter = make_adapter(secrets={"DISCORD_BOT_TOKEN": other})
    with pytest.raises(ChannelAuthError, match="DISCORD_BOT_TOKEN") as refused:
        await adapter.run(Inbox(), Link())
    assert other not in str(refused.value)
    assert not fake.calls_of("gateway_connect")


async def test_without_the_message_content_intent_it_reconnects_without_it(
    make_adapter: MakeAdapter, fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    fake.message_content_allowed = False  # not enabled in the Developer Portal
    adapter = make_adapter()
    with pytest.raises(ChannelUnavailable, match="MESSAGE CONTENT"):
        await adapter.run(Inbox(), Link())
    assert "Message Content Intent" in caplog.text
    alice = fake.user(42, "alice")
    dm = fake.dm_channel(alice)
    async with running(adapter) as inbox:  # what the channel host does next
        await fake.post(dm, alice, "DMs still have text")
        message = only_message(await inbox.wait())
    first, second = fake.calls_of("identify")
    assert first.body["intents"] & MESSAGE_CONTENT_INTENT
    assert not second.body["intents"] & MESSAGE_CONTENT_INTENT
    assert message.text == "DMs still have text"


# -- the connection ------------------------------------------------------------------


async def test_a_dropped_gateway_is_reported_and_resumed_without_losing_messages(
    fake: FakeDiscord, make_adapter: MakeAdapter
) -> None:
    alice = fake.user(42, "alice")
    dm = fake.dm_channel(alice)
    link = Link()
    async with running(make_adapter(), link=link) as inbox:
        await fake.drop_connection(hold_resume=True)
        await link.wait("lost")
        await fake.post(dm, alice, "sent while the bot was away")
        fake.release_resume()
        await link.wait("ready", 2)
        message = only_message(await inbox.wait())
    assert link.reports[:3] == [
        "ready",
        "lost: the Discord gateway connection dropped; resuming",
        "ready",
    ]
    assert message.text == "sent while the bot was away"  # replayed on RESUME
    assert len(fake.calls_of("identify")) == 1 and len(fake.calls_of("resume")) == 1


async def test_a_message_the_gateway_cannot_take_does_not_end_the_connection(
    fake: FakeDiscord, make_adapter: MakeAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    alice = fake.user(42, "alice")
    dm = fake.dm_channel(alice)
    inbox = Inbox()

    async def flaky(item: object) -> None:
        if isinstance(item, InboundMessage) and item.text == "first":
            raise RuntimeError("the store is busy")
        await inbox(item)  # type: ignore[arg-type]

    link = Link()
    async with asyncio.TaskGroup() as tasks:
        run = tasks.create_task(make_adapter().run(flaky, link))
        await link.wait("ready")
        await fake.post(dm, alice, "first")
        await fake.post(dm, alice, "second")
        message = only_message(await inbox.wait())
        run.cancel()
    assert message.text == "second"
    assert "the store is busy" in caplog.text


async def test_cancelling_run_disconnects(fake: FakeDiscord, make_adapter: MakeAdapter) -> None:
    adapter = make_adapter()
    link = Link()
    async with running(adapter, link=link):
        pass
    with pytest.raises(ChannelUnavailable, match="not connected"):
        await adapter.perform(ShowTyping(ReplyTarget("1300000000000000001")))
    assert link.reports == ["ready"]  # the close we asked for is not a lost connection


def test_create_adapter_builds_from_the_gateways_settings(fake: FakeDiscord) -> None:
    settings = AdapterSettings(api_base_url=fake.api_base_url, secrets={"DISCORD_BOT_TOKEN": TOKEN})
    adapter = create_adapter(settings)
    assert adapter.capabilities == CAPABILITIES
    assert adapter.account == str(BOT_ID)  # read from the token before connecting
    assert adapter.http_routes() == ()


def test_the_capabilities_match_discord() -> None:
    assert (CAPABILITIES.name, CAPABILITIES.max_text) == ("discord", 2000)
    assert CAPABILITIES.edits and CAPABILITIES.threads and CAPABILITIES.buttons
    assert CAPABILITIES.typing and CAPABILITIES.min_edit_interval_s == pytest.approx(1.0)
