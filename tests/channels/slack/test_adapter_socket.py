"""The Slack adapter with the real slack-bolt in Socket Mode against the fake."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable
from typing import Any

import pytest

from channels.base import Inbound
from channels.errors import ChannelAuthError, ChannelUnavailable
from channels.slack import CAPABILITIES, SlackSettings
from channels.slack.socket_mode import SocketModeConnection
from gateway.events import (
    Attachment,
    AttachmentKind,
    Conversation,
    ConversationKind,
    InboundMessage,
    Sender,
)
from tests.channels.inbox import Inbox, Link
from tests.channels.slack.conftest import MakeAdapter, running
from tests.fakes.slack_api import (
    APP_TOKEN,
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    TEAM_ID,
    FakeSlack,
)


def alice_dm(fake: FakeSlack) -> tuple[dict[str, Any], str]:
    alice = fake.user("U0ALICE01", "alice")
    return alice, fake.dm(alice)


async def test_it_connects_and_hands_over_a_direct_message_before_acknowledging_it(
    fake: FakeSlack, make_adapter: MakeAdapter
) -> None:
    alice, dm = alice_dm(fake)
    adapter = make_adapter()
    async with running(adapter) as inbox:
        event = fake.message(dm, alice, "hello &amp; welcome")
        envelope = await fake.push(fake.event(event))
        assert await fake.wait_ack(envelope) == {"envelope_id": envelope}
        (item,) = inbox.items  # handed over before the ack went out
    assert isinstance(item, InboundMessage)
    assert (item.id, item.text, item.account) == (
        f"{dm}:{event['ts']}",
        "hello & welcome",
        BOT_USER_ID,
    )
    assert adapter.identity.bot_id == BOT_ID
    assert [c.method for c in fake.calls][:2] == ["auth.test", "apps.connections.open"]
    assert fake.calls_of("apps.connections.open")[0].token == APP_TOKEN
    assert fake.calls_of("auth.test")[0].token == BOT_TOKEN


async def test_the_message_and_app_mention_pair_and_a_redelivery_are_handed_over_once(
    fake: FakeSlack, make_adapter: MakeAdapter
) -> None:
    alice = fake.user("U0ALICE01", "alice")
    general = fake.channel()
    async with running(make_adapter()) as inbox:
        event = fake.message(general, alice, f"<@{BOT_USER_ID}> ping")
        body = fake.event(event)
        envelopes = [
            await fake.push(body),
            await fake.push(fake.event(fake.mention(event))),
            await fake.push(body, retry_attempt=1),  # Slack missed our ack
        ]
        for envelope in envelopes:
            await fake.wait_ack(envelope)
    (item,) = inbox.items
    assert isinstance(item, InboundMessage) and item.text == "ping" and item.mentions_self


class FailingOnce(Inbox):
    """A gateway that cannot take the first message (its store is down)."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = asyncio.Event()

    async def __call__(self, item: Inbound) -> None:
        if not self.refused.is_set():
            self.refused.set()
            raise RuntimeError("the store is down")
        await super().__call__(item)


async def test_an_envelope_the_gateway_did_not_take_is_not_acknowledged(
    fake: FakeSlack, make_adapter: MakeAdapter
) -> None:
    alice, dm = alice_dm(fake)
    inbox = FailingOnce()
    async with running(make_adapter(), inbox):
        body = fake.event(fake.message(dm, alice, "important"))
        first = await fake.push(body)
        await inbox.refused.wait()
        again = await fake.push(body, retry_attempt=1)  # Slack delivers it again
        await fake.wait_ack(again)
    assert first not in fake.acks
    (item,) = inbox.items
    assert isinstance(item, InboundMessage) and item.text == "important"


async def test_its_own_messages_edits_and_other_events_are_acknowledged_and_dropped(
    fake: FakeSlack, make_adapter: MakeAdapter
) -> None:
    _, dm = alice_dm(fake)
    own = {
        "type": "message",
        "channel": dm,
        "channel_type": "im",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "text": "42",
        "ts": "1700000999.000001",
        "event_ts": "1700000999.000001",
        "team": TEAM_ID,
    }
    edit = {
        "type": "message",
        "subtype": "message_changed",
        "channel": dm,
        "channel_type": "im",
        "message": {"type": "message", "user": "U0ALICE01", "text": "fixed", "ts": "1.2"},
        "ts": "1700000999.000002",
        "event_ts": "1700000999.000002",
    }
    reaction = {"type": "reaction_added", "user": "U0ALICE01", "reaction": "tada"}
    async with running(make_adapter()) as inbox:
        for event in (own, edit, reaction | {"event_ts": "1700000999.000003"}):
            await fake.wait_ack(await fake.push(fake.event(event)))
        other_bot = fake.event(own | {"user": "U0OTHERBOT", "bot_id": "B0OTHER01", "ts": "3.4"})
        await fake.wait_ack(await fake.push(other_bot))
    (item,) = inbox.items  # another bot's message: handed over, marked (the host ignores it)
    assert isinstance(item, InboundMessage) and item.sender.is_bot


async def test_a_malformed_payload_is_refused_and_logged_and_the_next_one_handled(
    fake: FakeSlack, make_adapter: MakeAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    alice, dm = alice_dm(fake)
    broken = fake.message(dm, alice, "x") | {"ts": "not a timestamp"}
    async with running(make_adapter()) as inbox:
        refused = await fake.push(fake.event(broken))
        fine = await fake.push(fake.event(fake.message(dm, alice, "fine")))
        await fake.wait_ack(fine)
    assert refused not in fake.acks
    assert [m.text for m in inbox.items if isinstance(m, InboundMessage)] == ["fine"]
    assert "body.event.ts must be a Slack timestamp" in caplog.text


async def outcome(running: Awaitable[None]) -> BaseException | None:
    """What ``running`` raised (None if it returned), so a task group does not wrap it."""
    try:
        await running
    except Exception as exc:
        return exc
    return None


async def test_a_lost_socket_ends_run_and_the_next_run_reconnects(
    fake: FakeSlack, make_adapter: MakeAdapter
) -> None:
    alice, dm = alice_dm(fake)
    adapter = make_adapter()
    link = Link()
    async with asyncio.timeout(10), asyncio.TaskGroup() as tasks:
        run = tasks.create_task(outcome(adapter.run(Inbox(), link)))
        await link.wait("ready")
        await fake.drop_sockets()
    failure = run.result()
    assert isinstance(failure, ChannelUnavailable)
    assert "connection was lost" in str(failure)
    # /readyz showed the gap while the watchdog checked whether the SDK would recover
    assert link.reports == [
        "ready",
        "lost: the Socket Mode WebSocket closed; waiting for it to reopen",
    ]
    async with running(adapter) as inbox:  # what the channel host does after a backoff
        await fake.wait_ack(await fake.push(fake.event(fake.message(dm, alice, "back?"))))
    assert fake.sockets_opened == 2
    assert len(inbox.items) == 1


async def test_a_refresh_slack_asks_for_keeps_the_channel_running(
    fake: FakeSlack, make_adapter: MakeAdapter
) -> None:
    alice, dm = alice_dm(fake)
    link = Link()
    async with running(make_adapter(), link=link) as inbox:
        await fake.refresh()
        await fake.wait_until(lambda: fake.sockets_opened == 2, what="a new connection")
        await fake.wait_ack(await fake.push(fake.event(fake.message(dm, alice, "still there?"))))
    assert len(fake.calls_of("apps.connections.open")) == 2
    assert len(inbox.items) == 1
    assert link.reports == ["ready"]  # the SDK opens the new socket before it drops the old


@pytest.mark.parametrize(
    ("secret", "value", "named"),
    [
        ("SLACK_BOT_TOKEN", "xoxb-revoked-token", "SLACK_BOT_TOKEN"),
        ("SLACK_APP_TOKEN", "xapp-1-revoked-token", "SLACK_APP_TOKEN"),
    ],
)
async def test_a_refused_token_stops_the_channel_naming_the_variable(
    make_adapter: MakeAdapter, secret: str, value: str, named: str
) -> None:
    adapter = make_adapter(secrets={secret: value})
    with pytest.raises(ChannelAuthError, match=named) as raised:
        await adapter.run(Inbox(), Link())
    assert value not in str(raised.value)


async def test_an_unreachable_api_is_a_passing_failure(make_adapter: MakeAdapter) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = make_adapter(api_base_url=f"http://127.0.0.1:{port}/api")
    try:
        with pytest.raises(ChannelUnavailable, match="cannot reach Slack"):
            await adapter.run(Inbox(), Link())
    finally:
        await adapter.aclose()


def test_capabilities() -> None:
    caps = CAPABILITIES
    assert (caps.name, caps.max_text, caps.dialect.value) == ("slack", 4000, "slack_mrkdwn")
    assert caps.edits and caps.threads and caps.buttons and not caps.typing


async def test_logs_never_show_a_token(
    fake: FakeSlack, make_adapter: MakeAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    alice, dm = alice_dm(fake)
    async with running(make_adapter()):
        await fake.wait_ack(await fake.push(fake.event(fake.message(dm, alice, "hi"))))
    assert BOT_TOKEN not in caplog.text and APP_TOKEN not in caplog.text


class RecoveringClient:
    """A Socket Mode client as the watchdog sees it: it answers whether it is connected."""

    def __init__(self, answers: list[bool], lost: asyncio.Event) -> None:
        self.connect_operation_lock = asyncio.Lock()
        self._answers = answers
        self._lost = lost

    async def is_connected(self) -> bool:
        self._lost.set()  # the socket closes again while we look
        return self._answers.pop(0)


async def test_a_closed_socket_shows_as_lost_until_the_watchdog_sees_it_working_again() -> None:
    settings = SlackSettings(bot_token="xoxb-1", app_token="xapp-1", ping_interval_s=60.0)
    lost, link = asyncio.Event(), Link()
    lost.set()  # the socket reported a close
    client = RecoveringClient([True, False], lost)
    watch = SocketModeConnection(None, settings)._watch  # type: ignore[arg-type]
    with pytest.raises(ChannelUnavailable, match="connection was lost"):
        await watch(client, lost, link)  # type: ignore[arg-type]
    gap = "lost: the Socket Mode WebSocket closed; waiting for it to reopen"
    assert link.reports == [gap, "ready", gap]  # recovered once, then not


async def test_files_are_not_fetched_while_disconnected(make_adapter: MakeAdapter) -> None:
    message = InboundMessage(
        "D0ALICE01:1.2",
        "slack",
        "U0BOT0001",
        Conversation("D0ALICE01", ConversationKind.DM),
        Sender("U0ALICE01"),
        "",
        0.0,
        attachments=(Attachment(AttachmentKind.FILE, "https://files.slack.com/x"),),
    )
    with pytest.raises(ChannelUnavailable, match="not connected"):
        await make_adapter().fetch_attachments(message)
