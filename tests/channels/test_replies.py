"""The shared reply state machine: streaming edits, throttling, chunking, approvals."""

from __future__ import annotations

from channels.base import (
    ApprovalButtons,
    Capabilities,
    Dialect,
    EditMessage,
    LengthUnit,
    ReplyOp,
    ReplyTarget,
    SendMessage,
    SentMessage,
    ShowTyping,
)
from channels.replies import ReplyStreamer, layout

TARGET = ReplyTarget("chat-1", reply_to="m-1")


def caps(**changes: object) -> Capabilities:
    values: dict[str, object] = {
        "name": "test",
        "max_text": 200,
        "length_unit": LengthUnit.CHARS,
        "dialect": Dialect.PLAIN,
        "edits": True,
        "threads": True,
        "buttons": True,
        "typing": True,
        "min_edit_interval_s": 1.0,
    }
    values.update(changes)
    return Capabilities(**values)  # type: ignore[arg-type]


class FakePlatform:
    """Performs ops like a chat would and remembers what each message shows."""

    def __init__(self, streamer: ReplyStreamer) -> None:
        self.streamer = streamer
        self.messages: dict[str, str] = {}
        self.log: list[ReplyOp] = []

    def perform(self, ops: list[ReplyOp]) -> None:
        for op in ops:
            self.log.append(op)
            if isinstance(op, SendMessage):
                message_id = f"m{len(self.messages) + 100}"
                self.messages[message_id] = op.text
                self.streamer.sent(op, SentMessage(message_id))
            elif isinstance(op, EditMessage):
                self.messages[op.message_id] = op.text


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_streamed_reply_is_one_message_edited_as_it_grows() -> None:
    clock = Clock()
    streamer = ReplyStreamer(caps(), TARGET, clock=clock)
    platform = FakePlatform(streamer)
    platform.perform(streamer.delta("Hello"))
    clock.now = 0.5
    platform.perform(streamer.delta(", wor"))  # throttled: no edit yet
    clock.now = 1.2
    platform.perform(streamer.delta("ld"))
    platform.perform(streamer.final("Hello, world!"))
    assert list(platform.messages.values()) == ["Hello, world!"]
    kinds = [type(op).__name__ for op in platform.log]
    assert kinds == ["SendMessage", "EditMessage", "EditMessage"]


def test_the_throttle_limits_edits_per_second() -> None:
    clock = Clock()
    streamer = ReplyStreamer(caps(), TARGET, clock=clock)
    platform = FakePlatform(streamer)
    for i in range(100):  # 100 deltas in 2 seconds
        clock.now = i * 0.02
        platform.perform(streamer.delta("x"))
    assert sum(isinstance(op, EditMessage) for op in platform.log) <= 2


def test_without_edits_only_the_final_text_is_posted_in_chunks() -> None:
    clock = Clock()
    streamer = ReplyStreamer(caps(edits=False), TARGET, clock=clock)
    platform = FakePlatform(streamer)
    for _ in range(50):
        platform.perform(streamer.delta("word "))
    assert platform.log == []
    text = "\n\n".join(f"paragraph {i} " + "y" * 80 for i in range(10))
    platform.perform(streamer.final(text))
    assert all(isinstance(op, SendMessage) for op in platform.log)
    assert all(len(t) <= 200 for t in platform.messages.values())
    assert "".join(platform.messages.values()).replace("\n", "") == text.replace("\n", "")


def test_a_reply_that_outgrows_the_limit_continues_in_a_new_message() -> None:
    clock = Clock()
    streamer = ReplyStreamer(caps(), TARGET, clock=clock)
    platform = FakePlatform(streamer)
    text = ""
    for i in range(30):
        clock.now = i * 2.0
        piece = f"sentence number {i}. "
        text += piece
        platform.perform(streamer.delta(piece))
    platform.perform(streamer.final(text))
    shown = list(platform.messages.values())
    assert len(shown) > 1
    assert all(len(t) <= 200 for t in shown)
    assert " ".join(s.strip() for s in shown) == text.strip()


def test_failure_and_stop_are_shown_in_the_reply() -> None:
    streamer = ReplyStreamer(caps(), TARGET, clock=Clock())
    platform = FakePlatform(streamer)
    platform.perform(streamer.delta("partial"))
    platform.perform(streamer.failed("timeout", "the reply took too long"))
    assert list(platform.messages.values()) == ["partial\n\n⚠️ the reply took too long (timeout)"]
    stopped = ReplyStreamer(caps(), TARGET, clock=Clock())
    other = FakePlatform(stopped)
    other.perform(stopped.final("half", stopped=True))
    assert list(other.messages.values()) == ["half\n\n_(stopped)_"]


def test_typing_is_repeated_at_most_every_four_seconds() -> None:
    clock = Clock()
    streamer = ReplyStreamer(caps(), TARGET, clock=clock)
    sent = []
    for step in range(20):
        clock.now = step * 0.5
        sent += streamer.typing()
    assert sent == [ShowTyping(TARGET)] * 3


def test_approval_has_buttons_where_the_platform_has_them() -> None:
    with_buttons = ReplyStreamer(caps(), TARGET, clock=Clock()).approval("apr_1", "notes · delete")
    assert with_buttons[0] == SendMessage(
        TARGET, "Approve this action?\nnotes · delete", ApprovalButtons("apr_1")
    )
    plain = ReplyStreamer(caps(buttons=False), TARGET, clock=Clock()).approval("apr_1", "x")
    assert isinstance(plain[0], SendMessage)
    assert "/approve" in plain[0].text
    assert plain[0].buttons is None


def test_layout_fits_after_formatting_grows_the_text() -> None:
    telegram = caps(dialect=Dialect.TELEGRAM_HTML, max_text=400, length_unit=LengthUnit.UTF16)
    parts = layout("&" * 1000, telegram)  # each & becomes &amp; (5 units)
    assert all(len(p.encode("utf-16-le")) // 2 <= 400 for p in parts)
    assert "".join(parts) == "&amp;" * 1000
