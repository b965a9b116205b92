"""The channel host with a stand-in adapter: access, pairing, files, delivery, approvals,
retries, reconnects.

The real adapters are tested with their real libraries against fake platforms
in tests/channels/; here a small adapter of our own exercises the host.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from channels.base import (
    ButtonPress,
    Capabilities,
    Dialect,
    EditMessage,
    InboundSink,
    LengthUnit,
    Readiness,
    ReplyOp,
    SendMessage,
    SentMessage,
)
from channels.errors import ChannelAuthError, ChannelRateLimited, ChannelUnavailable
from gateway.access import AccessPolicy, GroupPolicy
from gateway.channel_host import ChannelHost, HostedChannel
from gateway.events import (
    ApprovalDecision,
    ApprovalRequested,
    Attachment,
    AttachmentKind,
    Conversation,
    ConversationKind,
    FinalReply,
    InboundMessage,
    Mention,
    ReplyEvent,
    Sender,
    SkillSummary,
    TextDelta,
    TurnRequest,
)
from gateway.hub import EventHub
from gateway.pairing import PairingStore
from gateway.router import Router, RouterSettings
from gateway.store import GatewayStore

CAPS = Capabilities(
    name="fakechat",
    max_text=100,
    length_unit=LengthUnit.CHARS,
    dialect=Dialect.PLAIN,
    edits=True,
    threads=True,
    buttons=True,
    typing=True,
    min_edit_interval_s=0.0,
)


class EchoBrain:
    def __init__(self) -> None:
        self.resolved: list[tuple[str, ApprovalDecision, str]] = []
        self.asked: list[InboundMessage] = []

    async def run_turn(self, request: TurnRequest) -> AsyncIterator[ReplyEvent]:
        self.asked.extend(request.messages)
        yield TextDelta(request.run_id, "echo: ")
        yield TextDelta(request.run_id, request.text)
        yield FinalReply(request.run_id, "echo: " + request.text)

    async def resolve_approval(
        self, request_id: str, decision: ApprovalDecision, *, decided_by: str
    ) -> bool:
        self.resolved.append((request_id, decision, decided_by))
        return True

    def list_skills(self) -> Sequence[SkillSummary]:
        return ()


class ApprovalBrain(EchoBrain):
    """Asks to approve one action, then answers with the decision."""

    def __init__(self) -> None:
        super().__init__()
        self._decided = asyncio.Event()
        self._decision: ApprovalDecision | None = None

    async def run_turn(self, request: TurnRequest) -> AsyncIterator[ReplyEvent]:
        yield ApprovalRequested(request.run_id, "apr_1", "files__delete", "delete notes.txt")
        await self._decided.wait()
        yield FinalReply(request.run_id, f"done: {self._decision}")

    async def resolve_approval(
        self, request_id: str, decision: ApprovalDecision, *, decided_by: str
    ) -> bool:
        self.resolved.append((request_id, decision, decided_by))
        if self._decided.is_set():
            return False  # decided once already
        self._decision = decision
        self._decided.set()
        return True


class FakeAdapter:
    """Records what it is asked to do; fails on demand."""

    def __init__(self, failures: Sequence[Exception] = ()) -> None:
        self.performed: list[ReplyOp] = []
        self.changed = asyncio.Event()
        self.sink: InboundSink | None = None
        self.ready: Readiness | None = None
        self.connected = asyncio.Event()
        self.runs = 0
        self._failures = list(failures)
        self.rate_limit_next = 0
        self.unavailable_next = 0
        self.fetched: list[str] = []  # ids of the messages whose files were fetched
        self.fetch_fails = False

    @property
    def capabilities(self) -> Capabilities:
        return CAPS

    @property
    def account(self) -> str:
        return "bot-1"

    async def run(self, sink: InboundSink, ready: Readiness) -> None:
        self.runs += 1
        if self._failures:
            raise self._failures.pop(0)
        self.sink, self.ready = sink, ready
        ready()
        self.connected.set()
        await asyncio.Event().wait()

    async def fetch_attachments(self, message: InboundMessage) -> InboundMessage:
        self.fetched.append(message.id)
        if self.fetch_fails:
            raise ChannelUnavailable("not connected", channel="fakechat")
        files = tuple(replace(a, local_path=f"/files/{a.ref}") for a in message.attachments)
        return replace(message, attachments=files)

    async def perform(self, op: ReplyOp) -> SentMessage | None:
        if self.unavailable_next:
            self.unavailable_next -= 1
            raise ChannelUnavailable("network blip", channel="fakechat")
        if self.rate_limit_next:
            self.rate_limit_next -= 1
            raise ChannelRateLimited("slow down", channel="fakechat", retry_after_s=0.25)
        self.performed.append(op)
        self.changed.set()
        if isinstance(op, SendMessage):
            return SentMessage(f"out-{len(self.performed)}")
        return None

    async def wait_for(self, count: int) -> list[ReplyOp]:
        while len(self.performed) < count:
            self.changed.clear()
            await self.changed.wait()
        return self.performed

    async def wait_until_shown(self, text: str) -> None:
        async with asyncio.timeout(10):
            while not any(text in shown for shown in self.shown().values()):
                self.changed.clear()
                await self.changed.wait()

    def shown(self) -> dict[str, str]:
        """The text each posted message shows in the end."""
        texts: dict[str, str] = {}
        for index, op in enumerate(self.performed, start=1):
            if isinstance(op, SendMessage):
                texts[f"out-{index}"] = op.text
            elif isinstance(op, EditMessage):
                texts[op.message_id] = op.text
        return texts


def dm(text: str, ident: str, sender: str = "u1", **fields: object) -> InboundMessage:
    message = InboundMessage(
        id=f"c1:{ident}",
        channel="fakechat",
        account="bot-1",
        conversation=Conversation("c1", ConversationKind.DM),
        sender=Sender(sender, "Alice"),
        text=text,
        sent_at=0.0,
    )
    return replace(message, **fields)  # type: ignore[arg-type]


PHOTO = (Attachment(AttachmentKind.IMAGE, "file-1", "cat.jpg", "image/jpeg", 1000),)


def press(sender: str, decision: ApprovalDecision = ApprovalDecision.APPROVE) -> ButtonPress:
    return ButtonPress(
        "fakechat", "bot-1", "c1", None, Sender(sender, sender.title()), "apr_1", decision
    )


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def parts(tmp_path: Path) -> tuple[GatewayStore, EventHub, PairingStore]:
    store = GatewayStore.open(tmp_path / "state.db")
    return store, EventHub(store), PairingStore.open(tmp_path / "state.db", clock=lambda: 0.0)


async def test_a_stranger_gets_a_code_then_answers_after_approval(
    parts: tuple[GatewayStore, EventHub, PairingStore],
) -> None:
    store, hub, pairing = parts
    adapter = FakeAdapter()
    async with (
        Router(store=store, hub=hub, bus=EchoBrain(), settings=RouterSettings()) as router,
        ChannelHost(
            [HostedChannel(adapter, AccessPolicy())], router=router, hub=hub, pairing=pairing
        ) as host,
    ):
        await adapter.connected.wait()
        assert host.status() == {"fakechat": "ok"}
        await host.inbound("fakechat", dm("hello", "1"))
        (code_message,) = await adapter.wait_for(1)
        assert isinstance(code_message, SendMessage)
        code = code_message.text.split("approve fakechat ")[1].split()[0]
        assert pairing.approve("fakechat", code) is not None
        await host.inbound("fakechat", dm("hello again", "2"))
        await adapter.wait_for(3)
    replies = [t for t in adapter.shown().values() if t.startswith("echo")]
    assert replies == ["echo: hello again"]
    assert adapter.performed[1].target.reply_to == "2"  # threaded to the message it answers


async def test_groups_need_a_mention(parts: tuple[GatewayStore, EventHub, PairingStore]) -> None:
    store, hub, pairing = parts
    adapter = FakeAdapter()
    policy = AccessPolicy(allow_from=frozenset({"u1"}))
    async with (
        Router(store=store, hub=hub, bus=EchoBrain(), settings=RouterSettings()) as router,
        ChannelHost(
            [HostedChannel(adapter, policy)], router=router, hub=hub, pairing=pairing
        ) as host,
    ):
        await adapter.connected.wait()
        plain = dm("chatting among ourselves", "1")
        group = Conversation("g1", ConversationKind.GROUP)
        mention = (Mention("bot-1", "@bot", is_self=True),)
        await host.inbound("fakechat", InboundMessage(**{**_fields(plain), "conversation": group}))
        await host.inbound(
            "fakechat",
            InboundMessage(
                **{
                    **_fields(plain),
                    "id": "g1:2",
                    "conversation": group,
                    "text": "@bot hi",
                    "mentions": mention,
                }
            ),
        )
        await adapter.wait_for(1)
    assert list(adapter.shown().values()) == ["echo: @bot hi"]


def _fields(message: InboundMessage) -> dict[str, object]:
    return {name: getattr(message, name) for name in message.__dataclass_fields__}


@pytest.mark.parametrize("trouble", ["rate_limit_next", "unavailable_next"])
async def test_a_rate_limited_or_unreachable_reply_is_retried_not_dropped(
    parts: tuple[GatewayStore, EventHub, PairingStore], trouble: str
) -> None:
    store, hub, pairing = parts
    adapter = FakeAdapter()
    setattr(adapter, trouble, 2)
    sleeps = Sleeps()
    async with (
        Router(store=store, hub=hub, bus=EchoBrain(), settings=RouterSettings()) as router,
        ChannelHost(
            [HostedChannel(adapter, AccessPolicy(allow_from=frozenset({"u1"})))],
            router=router,
            hub=hub,
            pairing=pairing,
            sleep=sleeps,
        ) as host,
    ):
        await adapter.connected.wait()
        await host.inbound("fakechat", dm("hi", "1"))
        await adapter.wait_for(1)
        while "echo: hi" not in adapter.shown().values():
            adapter.changed.clear()
            await adapter.changed.wait()
    assert len(sleeps.calls) >= 2
    if trouble == "rate_limit_next":
        assert sleeps.calls[:2] == [0.25, 0.25]  # exactly what the platform asked for


async def test_a_lost_connection_is_retried_with_backoff_and_bad_credentials_are_not(
    parts: tuple[GatewayStore, EventHub, PairingStore],
) -> None:
    store, hub, pairing = parts
    flaky = FakeAdapter(failures=[ChannelUnavailable("down", channel="fakechat")] * 2)
    sleeps = Sleeps()
    async with (
        Router(store=store, hub=hub, bus=EchoBrain(), settings=RouterSettings()) as router,
        ChannelHost(
            [HostedChannel(flaky, AccessPolicy())],
            router=router,
            hub=hub,
            pairing=pairing,
            sleep=sleeps,
        ) as host,
    ):
        await flaky.connected.wait()
        assert host.status() == {"fakechat": "ok"}
    assert flaky.runs == 3
    assert len(sleeps.calls) == 2 and sleeps.calls[1] > sleeps.calls[0] * 0.6

    refused = FakeAdapter(failures=[ChannelAuthError("bad token", channel="fakechat")])
    async with (
        Router(store=store, hub=hub, bus=EchoBrain(), settings=RouterSettings()) as router,
        ChannelHost(
            [HostedChannel(refused, AccessPolicy())], router=router, hub=hub, pairing=pairing
        ) as host,
    ):
        async with asyncio.timeout(10):
            # the host has no event to wait on: it only records the status
            while not host.status()["fakechat"].startswith("failed: "):  # noqa: ASYNC110
                await asyncio.sleep(0)
    assert refused.runs == 1


async def test_only_known_senders_may_press_approval_buttons(
    parts: tuple[GatewayStore, EventHub, PairingStore],
) -> None:
    store, hub, pairing = parts
    brain = EchoBrain()
    adapter = FakeAdapter()
    async with (
        Router(store=store, hub=hub, bus=brain, settings=RouterSettings()) as router,
        ChannelHost(
            [HostedChannel(adapter, AccessPolicy(allow_from=frozenset({"u1"})))],
            router=router,
            hub=hub,
            pairing=pairing,
        ) as host,
    ):
        await adapter.connected.wait()
        for sender in ("stranger", "u1"):
            await host.inbound(
                "fakechat",
                ButtonPress(
                    "fakechat",
                    "bot-1",
                    "c1",
                    None,
                    Sender(sender),
                    "apr_1",
                    ApprovalDecision.APPROVE,
                ),
            )
    assert brain.resolved == [("apr_1", ApprovalDecision.APPROVE, "fakechat:u1")]


# -- files are fetched only for accepted messages ------------------------------------


async def test_files_are_fetched_only_for_messages_the_host_answers(
    parts: tuple[GatewayStore, EventHub, PairingStore],
) -> None:
    store, hub, pairing = parts
    brain = EchoBrain()
    adapter = FakeAdapter()
    group = Conversation("g1", ConversationKind.GROUP)
    refused = [
        dm("who are you?", "1", sender="stranger", attachments=PHOTO),  # pairing code instead
        dm("look", "2", conversation=group, attachments=PHOTO),  # in a group, not addressed
        dm("beep", "3", sender="bot-2", attachments=PHOTO),  # another bot
    ]
    async with (
        Router(store=store, hub=hub, bus=brain, settings=RouterSettings()) as router,
        ChannelHost(
            [HostedChannel(adapter, AccessPolicy(allow_from=frozenset({"u1", "bot-2"})))],
            router=router,
            hub=hub,
            pairing=pairing,
        ) as host,
    ):
        await adapter.connected.wait()
        refused[2] = replace(refused[2], sender=Sender("bot-2", is_bot=True))
        for message in refused:
            await host.inbound("fakechat", message)
        assert adapter.fetched == []
        await host.inbound("fakechat", dm("what is this?", "4", attachments=PHOTO))
        await adapter.wait_until_shown("echo: what is this?")
    assert adapter.fetched == ["c1:4"]
    (asked,) = brain.asked
    assert asked.attachments[0].local_path == "/files/file-1"  # the brain gets the file


async def test_a_message_whose_files_cannot_be_fetched_still_goes_through(
    parts: tuple[GatewayStore, EventHub, PairingStore],
) -> None:
    store, hub, pairing = parts
    brain = EchoBrain()
    adapter = FakeAdapter()
    adapter.fetch_fails = True
    async with (
        Router(store=store, hub=hub, bus=brain, settings=RouterSettings()) as router,
        ChannelHost(
            [HostedChannel(adapter, AccessPolicy(allow_from=frozenset({"u1"})))],
            router=router,
            hub=hub,
            pairing=pairing,
        ) as host,
    ):
        await adapter.connected.wait()
        await host.inbound("fakechat", dm("what is this?", "1", attachments=PHOTO))
        await adapter.wait_until_shown("echo: what is this?")
    assert brain.asked[0].attachments == PHOTO  # the reference, not a file


# -- streaming -----------------------------------------------------------------------


async def test_a_channel_that_does_not_stream_posts_only_the_final_text(
    parts: tuple[GatewayStore, EventHub, PairingStore],
) -> None:
    store, hub, pairing = parts
    adapter = FakeAdapter()
    policy = AccessPolicy(allow_from=frozenset({"u1"}))
    async with (
        Router(store=store, hub=hub, bus=EchoBrain(), settings=RouterSettings()) as router,
        ChannelHost(
            [HostedChannel(adapter, policy, stream=False)], router=router, hub=hub, pairing=pairing
        ) as host,
    ):
        await adapter.connected.wait()
        await host.inbound("fakechat", dm("hi", "1"))
        await adapter.wait_until_shown("echo: hi")
    assert not [op for op in adapter.performed if isinstance(op, EditMessage)]
    assert [op.text for op in adapter.performed if isinstance(op, SendMessage)] == ["echo: hi"]


# -- approvals: the asking message shows the decision, without buttons ---------------


def asking_message(adapter: FakeAdapter) -> str:
    """The id of the message that carried the approval buttons."""
    for index, op in enumerate(adapter.performed, start=1):
        if isinstance(op, SendMessage) and op.buttons is not None:
            return f"out-{index}"
    raise AssertionError("no approval buttons were posted")


async def until_buttons(adapter: FakeAdapter) -> str:
    async with asyncio.timeout(10):
        while not any(isinstance(op, SendMessage) and op.buttons for op in adapter.performed):
            adapter.changed.clear()
            await adapter.changed.wait()
    return asking_message(adapter)


async def test_a_button_decision_is_shown_on_the_asking_message_and_a_second_press_ignored(
    parts: tuple[GatewayStore, EventHub, PairingStore],
) -> None:
    store, hub, pairing = parts
    brain = ApprovalBrain()
    adapter = FakeAdapter()
    policy = AccessPolicy(allow_from=frozenset({"u1", "bob"}))
    async with (
        Router(store=store, hub=hub, bus=brain, settings=RouterSettings()) as router,
        ChannelHost(
            [HostedChannel(adapter, policy)], router=router, hub=hub, pairing=pairing
        ) as host,
    ):
        await adapter.connected.wait()
        await host.inbound("fakechat", dm("tidy up", "1"))
        asking = await until_buttons(adapter)
        await host.inbound("fakechat", press("u1"))
        await host.inbound("fakechat", press("bob", ApprovalDecision.DENY))  # too late
        await adapter.wait_until_shown("done: approve")
    edits = [op for op in adapter.performed if isinstance(op, EditMessage)]
    assert [(e.message_id, e.text) for e in edits if e.message_id == asking] == [
        (asking, "delete notes.txt\n\n✅ Approved by U1.")
    ]
    assert [r[1] for r in brain.resolved] == [ApprovalDecision.APPROVE, ApprovalDecision.DENY]
    events = store.events_after("fakechat:bot-1:c1", 0, 100)
    assert [e.event for e in events].count("approval.resolved") == 1


async def test_a_typed_decision_names_who_typed_it(
    parts: tuple[GatewayStore, EventHub, PairingStore],
) -> None:
    store, hub, pairing = parts
    adapter = FakeAdapter()
    async with (
        Router(store=store, hub=hub, bus=ApprovalBrain(), settings=RouterSettings()) as router,
        ChannelHost(
            [HostedChannel(adapter, AccessPolicy(allow_from=frozenset({"u1"})))],
            router=router,
            hub=hub,
            pairing=pairing,
        ) as host,
    ):
        await adapter.connected.wait()
        await host.inbound("fakechat", dm("tidy up", "1"))
        asking = await until_buttons(adapter)
        await host.inbound("fakechat", dm("/deny", "2"))
        await adapter.wait_until_shown("done: deny")
    assert adapter.shown()[asking] == "delete notes.txt\n\n❌ Denied by Alice."


async def test_in_an_open_group_only_known_users_may_type_a_decision(
    parts: tuple[GatewayStore, EventHub, PairingStore],
) -> None:
    store, hub, pairing = parts
    brain = ApprovalBrain()
    adapter = FakeAdapter()
    policy = AccessPolicy(
        allow_from=frozenset({"u1"}), group_policy=GroupPolicy.OPEN, require_mention=False
    )
    group = Conversation("g1", ConversationKind.GROUP)
    async with (
        Router(store=store, hub=hub, bus=brain, settings=RouterSettings()) as router,
        ChannelHost(
            [HostedChannel(adapter, policy)], router=router, hub=hub, pairing=pairing
        ) as host,
    ):
        await adapter.connected.wait()
        await host.inbound("fakechat", dm("tidy up", "1", conversation=group))
        await until_buttons(adapter)
        await host.inbound("fakechat", dm("/approve", "2", sender="guest", conversation=group))
        await adapter.wait_until_shown(
            "Only the assistant's paired or allowlisted users can answer approvals."
        )
        assert brain.resolved == []
        await host.inbound("fakechat", dm("/approve", "3", conversation=group))
        await adapter.wait_until_shown("done: approve")
    assert brain.resolved == [("apr_1", ApprovalDecision.APPROVE, "fakechat:u1")]
    events = store.events_after("fakechat:bot-1:g1", 0, 100)
    resolved = [e.payload for e in events if e.event == "approval.resolved"]
    assert [r["decided_by"] for r in resolved] == ["fakechat:u1"]


async def test_a_decision_made_elsewhere_is_shown_without_a_name(
    parts: tuple[GatewayStore, EventHub, PairingStore],
) -> None:
    store, hub, pairing = parts
    adapter = FakeAdapter()
    async with (
        Router(store=store, hub=hub, bus=ApprovalBrain(), settings=RouterSettings()) as router,
        ChannelHost(
            [HostedChannel(adapter, AccessPolicy(allow_from=frozenset({"u1"})))],
            router=router,
            hub=hub,
            pairing=pairing,
        ) as host,
    ):
        await adapter.connected.wait()
        await host.inbound("fakechat", dm("tidy up", "1"))
        asking = await until_buttons(adapter)
        await router.resolve_approval(None, "apr_1", ApprovalDecision.APPROVE, by="web:owner")
        await adapter.wait_until_shown("done: approve")
    assert adapter.shown()[asking] == "delete notes.txt\n\n✅ Approved."


# -- readiness -----------------------------------------------------------------------


async def test_an_adapter_recovering_by_itself_shows_in_the_status_meanwhile(
    parts: tuple[GatewayStore, EventHub, PairingStore],
) -> None:
    store, hub, pairing = parts
    adapter = FakeAdapter()
    async with (
        Router(store=store, hub=hub, bus=EchoBrain(), settings=RouterSettings()) as router,
        ChannelHost(
            [HostedChannel(adapter, AccessPolicy())], router=router, hub=hub, pairing=pairing
        ) as host,
    ):
        await adapter.connected.wait()
        assert adapter.ready is not None
        adapter.ready.lost("the socket closed")
        assert host.status() == {"fakechat": "reconnecting: the socket closed"}
        adapter.ready()
        assert host.status() == {"fakechat": "ok"}
    assert adapter.runs == 1


async def test_a_rate_limited_connection_waits_as_long_as_the_platform_asks(
    parts: tuple[GatewayStore, EventHub, PairingStore],
) -> None:
    store, hub, pairing = parts
    limited = ChannelRateLimited("getUpdates: slow down", channel="fakechat", retry_after_s=42.0)
    adapter = FakeAdapter(failures=[limited])
    sleeps = Sleeps()
    async with (
        Router(store=store, hub=hub, bus=EchoBrain(), settings=RouterSettings()) as router,
        ChannelHost(
            [HostedChannel(adapter, AccessPolicy())],
            router=router,
            hub=hub,
            pairing=pairing,
            sleep=sleeps,
        ),
    ):
        await adapter.connected.wait()
    assert sleeps.calls == [42.0]
