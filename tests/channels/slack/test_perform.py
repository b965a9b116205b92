"""Replies through ``SlackAdapter.perform``: chat.postMessage, chat.update, buttons, errors."""

from __future__ import annotations

import pytest

from channels.base import (
    ApprovalButtons,
    ButtonPress,
    EditMessage,
    ReplyTarget,
    SendMessage,
    SentMessage,
    ShowTyping,
)
from channels.errors import ChannelRateLimited, ChannelRequestError, ChannelUnavailable
from gateway.events import ApprovalDecision
from tests.channels.slack.conftest import MakeAdapter, running
from tests.fakes.slack_api import FakeSlack


async def test_a_reply_is_posted_in_the_thread_it_answers_and_edited_in_place(
    fake: FakeSlack, make_adapter: MakeAdapter
) -> None:
    alice = fake.user("U0ALICE01", "alice")
    general = fake.channel()
    question = fake.message(general, alice, "<@U0BOT0001> hi")
    target = ReplyTarget(general, question["ts"], reply_to=question["ts"])
    adapter = make_adapter()
    async with running(adapter):
        sent = await adapter.perform(SendMessage(target, "*Hello*"))
        assert isinstance(sent, SentMessage)
        await adapter.perform(EditMessage(target, sent.message_id, "*Hello* there"))
    (post,) = fake.calls_of("chat.postMessage")
    assert post.params == {"channel": general, "text": "*Hello*", "thread_ts": question["ts"]}
    (update,) = fake.calls_of("chat.update")
    assert update.params == {
        "channel": general,
        "ts": sent.message_id,
        "text": "*Hello* there",
        "blocks": [],  # an edit shows the text alone: no buttons
    }
    assert fake.shown_history(general, sent.message_id) == ["*Hello*", "*Hello* there"]


async def test_a_top_level_dm_is_answered_at_the_top_level(
    fake: FakeSlack, make_adapter: MakeAdapter
) -> None:
    dm = fake.dm(fake.user("U0ALICE01", "alice"))
    adapter = make_adapter()
    async with running(adapter):
        await adapter.perform(SendMessage(ReplyTarget(dm, None, reply_to="1.2"), "42"))
    (post,) = fake.calls_of("chat.postMessage")
    assert "thread_ts" not in post.params
    assert fake.bot_texts(dm) == ["42"]


async def test_approval_buttons_are_block_kit_and_their_press_comes_back(
    fake: FakeSlack, make_adapter: MakeAdapter
) -> None:
    alice = fake.user("U0ALICE01", "alice")
    dm = fake.dm(alice)
    adapter = make_adapter()
    async with running(adapter) as inbox:
        ask = SendMessage(ReplyTarget(dm), "Approve this action?", ApprovalButtons("apr_1"))
        await adapter.perform(ask)
        (asking,) = fake.bot_messages(dm)
        section, actions = asking["blocks"]
        assert section["text"] == {"type": "mrkdwn", "text": "Approve this action?"}
        approve, deny = actions["elements"]
        assert (approve["action_id"], deny["action_id"]) == ("apr:apr_1:approve", "apr:apr_1:deny")
        assert asking["text"] == "Approve this action?"  # the notification's fallback
        envelope = await fake.push(fake.press(alice, asking, approve["action_id"]))
        await fake.wait_ack(envelope)
        sent = await adapter.perform(EditMessage(ReplyTarget(dm), asking["ts"], "Approved."))
        assert sent is None
    (decided,) = fake.bot_messages(dm)
    assert (decided["text"], decided.get("blocks")) == ("Approved.", None)  # buttons gone
    (press,) = inbox.items
    assert isinstance(press, ButtonPress)
    assert (press.request_id, press.decision) == ("apr_1", ApprovalDecision.APPROVE)
    assert (press.conversation_id, press.thread_id, press.sender.id) == (dm, None, alice["id"])


async def test_a_request_id_too_long_for_a_button_asks_for_a_command_instead(
    fake: FakeSlack, make_adapter: MakeAdapter
) -> None:
    dm = fake.dm(fake.user("U0ALICE01", "alice"))
    adapter = make_adapter()
    async with running(adapter):
        ask = SendMessage(ReplyTarget(dm), "Approve?", ApprovalButtons("x" * 300))
        await adapter.perform(ask)
    (asking,) = fake.bot_messages(dm)
    assert "blocks" not in asking
    assert asking["text"].endswith("Reply /approve or /deny.")


async def test_typing_does_nothing_as_slack_has_no_typing_for_bots(
    fake: FakeSlack, make_adapter: MakeAdapter
) -> None:
    adapter = make_adapter()
    async with running(adapter):
        calls = len(fake.calls)
        assert await adapter.perform(ShowTyping(ReplyTarget("D0ALICE01"))) is None
    assert len(fake.calls) == calls


async def test_a_rate_limit_says_how_long_to_wait(
    fake: FakeSlack, make_adapter: MakeAdapter
) -> None:
    dm = fake.dm(fake.user("U0ALICE01", "alice"))
    fake.fail_next("chat.postMessage", 429, retry_after=2)
    adapter = make_adapter()
    async with running(adapter):
        with pytest.raises(ChannelRateLimited) as limited:
            await adapter.perform(SendMessage(ReplyTarget(dm), "hi"))
        await adapter.perform(SendMessage(ReplyTarget(dm), "hi"))  # the host retries
    assert limited.value.retry_after_s == 2.0
    assert fake.bot_texts(dm) == ["hi"]


@pytest.mark.parametrize(
    ("status", "error", "raised", "named"),
    [
        (200, "channel_not_found", ChannelRequestError, "chat.postMessage: channel_not_found"),
        (200, "msg_too_long", ChannelRequestError, "msg_too_long"),
        (503, None, ChannelUnavailable, "HTTP 503"),
    ],
)
async def test_a_refused_request_is_a_channel_error(
    fake: FakeSlack,
    make_adapter: MakeAdapter,
    status: int,
    error: str | None,
    raised: type[Exception],
    named: str,
) -> None:
    dm = fake.dm(fake.user("U0ALICE01", "alice"))
    fake.fail_next("chat.postMessage", status, error=error)
    adapter = make_adapter()
    async with running(adapter):
        with pytest.raises(raised, match=named):
            await adapter.perform(SendMessage(ReplyTarget(dm), "hi"))


async def test_an_unknown_channel_is_refused_by_slack(
    fake: FakeSlack, make_adapter: MakeAdapter
) -> None:
    adapter = make_adapter()
    async with running(adapter):
        with pytest.raises(ChannelRequestError, match="channel_not_found"):
            await adapter.perform(SendMessage(ReplyTarget("C0NOWHERE"), "hi"))


async def test_nothing_is_sent_before_the_adapter_connected(make_adapter: MakeAdapter) -> None:
    with pytest.raises(ChannelUnavailable, match="not connected"):
        await make_adapter().perform(SendMessage(ReplyTarget("D0ALICE01"), "hi"))
