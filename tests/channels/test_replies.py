"""The shared reply state machine: streaming edits, throttling, chunking, approvals and
the decisions shown on them."""

from __future__ import annotations

from pathlib import Path

from channels.base import (
    ApprovalButtons,
    Capabilities,
    Dialect,
    EditMessage,
    LengthUnit,
    OutboundFile,
    ReplyOp,
    ReplyTarget,
    SendFile,
    SendMessage,
    SentMessage,
    ShowTyping,
)
from channels.replies import ReplyStreamer, layout, reply_target
from gateway.events import (
    ApprovalDecision,
    ApprovalRequested,
    Conversation,
    ConversationKind,
    FileReply,
    FinalReply,
    InboundMessage,
    Sender,
    TextDelta,
    ToolActivity,
    ToolPhase,
    TurnFailed,
    Typing,
)

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


def test_a_decision_is_shown_on_the_message_that_asked_without_its_buttons() -> None:
    streamer = ReplyStreamer(caps(), TARGET, clock=Clock())
    platform = FakePlatform(streamer)
    platform.perform(streamer.approval("apr_1", "notes · delete"))
    (asking,) = platform.messages
    ops = streamer.resolved("apr_1", ApprovalDecision.APPROVE, "Alice")
    assert ops == [EditMessage(TARGET, asking, "notes · delete\n\n✅ Approved by Alice.")]
    assert streamer.resolved("apr_1", ApprovalDecision.DENY, "Bob") == []  # shown once


def test_a_decision_names_nobody_it_does_not_know_and_formats_no_name() -> None:
    streamer = ReplyStreamer(caps(dialect=Dialect.SLACK_MRKDWN), TARGET, clock=Clock())
    platform = FakePlatform(streamer)
    platform.perform(streamer.approval("apr_1", "x"))
    platform.perform(streamer.approval("apr_2", "y"))
    (denied,) = streamer.resolved("apr_1", ApprovalDecision.DENY)
    (named,) = streamer.resolved("apr_2", ApprovalDecision.APPROVE, "*<!channel>* _eve_")
    assert isinstance(denied, EditMessage) and denied.text.endswith("❌ Denied.")
    assert isinstance(named, EditMessage) and named.text.endswith("✅ Approved by !channel eve.")


def test_no_edit_for_a_request_this_streamer_did_not_post_or_cannot_edit() -> None:
    streamer = ReplyStreamer(caps(), TARGET, clock=Clock())
    assert streamer.resolved("apr_9", ApprovalDecision.APPROVE, "Alice") == []
    streamer.approval("apr_1", "x")  # its id never came back: the send failed
    assert streamer.resolved("apr_1", ApprovalDecision.APPROVE, "Alice") == []
    frozen = ReplyStreamer(caps(edits=False, buttons=False), TARGET, clock=Clock())
    FakePlatform(frozen).perform(frozen.approval("apr_1", "x"))
    assert frozen.resolved("apr_1", ApprovalDecision.APPROVE, "Alice") == []


def test_feed_maps_the_runs_events_to_operations() -> None:
    clock = Clock()
    streamer = ReplyStreamer(caps(), TARGET, clock=clock)
    assert streamer.feed(Typing("r1")) == [ShowTyping(TARGET)]
    assert streamer.feed(ToolActivity("r1", "calc", ToolPhase.START)) == []
    (ask,) = streamer.feed(ApprovalRequested("r1", "apr_1", "calc", "calc (6*7)"))
    assert isinstance(ask, SendMessage) and ask.buttons == ApprovalButtons("apr_1")
    (send,) = streamer.feed(TextDelta("r1", "4"))
    assert isinstance(send, SendMessage) and send.text == "4"
    streamer.sent(send, SentMessage("m1"))
    clock.now = 5.0
    assert streamer.feed(FinalReply("r1", "42")) == [EditMessage(TARGET, "m1", "42")]
    assert streamer.finished


def test_a_reply_goes_to_the_conversation_and_thread_it_answers() -> None:
    message = InboundMessage(
        "C1:1700.0001",
        "slack",
        "U0BOT",
        Conversation("C1", ConversationKind.THREAD, thread_id="1699.0001", parent_id="C1"),
        Sender("U1"),
        "hi",
        0.0,
    )
    assert reply_target(message) == ReplyTarget("C1", "1699.0001", reply_to="1700.0001")


REPORT = FileReply("r1", "q3Vb8xL0sTn2WcYd9KfA1uPe", "report.csv", "text/csv", 2048, "Numbers")
STORED = Path("/outbox/q3Vb8xL0sTn2WcYd9KfA1uPe")


def test_a_file_goes_out_after_the_replys_text() -> None:
    streamer = ReplyStreamer(caps(edits=False, max_upload_bytes=4096), TARGET, clock=Clock())
    assert streamer.file(REPORT, STORED) == []  # held: the text is not out yet
    ops = streamer.feed(FinalReply("r1", "Here is the report."))
    assert [type(op) for op in ops] == [SendMessage, SendFile]
    expected = OutboundFile(STORED, "report.csv", "text/csv", 2048, "Numbers")
    assert ops[1] == SendFile(TARGET, expected)


def test_files_of_a_failed_run_still_go_out() -> None:
    streamer = ReplyStreamer(caps(max_upload_bytes=4096), TARGET, clock=Clock())
    streamer.file(REPORT, STORED)
    ops = streamer.feed(TurnFailed("r1", "step_limit", "too many steps"))
    assert isinstance(ops[-1], SendFile)


def test_a_file_over_the_platforms_limit_is_announced_instead() -> None:
    streamer = ReplyStreamer(caps(max_upload_bytes=1024), TARGET, clock=Clock())
    streamer.file(REPORT, STORED)
    ops = streamer.final("Done.")
    notice = ops[-1]
    assert isinstance(notice, SendMessage) and not any(isinstance(o, SendFile) for o in ops)
    assert "report.csv (2 KB)" in notice.text and "the limit is 1 KB" in notice.text


def test_a_missing_file_or_a_platform_without_files_says_so() -> None:
    gone = ReplyStreamer(caps(max_upload_bytes=4096), TARGET, clock=Clock())
    gone.file(REPORT, None)
    (_, notice) = gone.final("Done.")
    assert isinstance(notice, SendMessage) and "no longer available" in notice.text
    plain = ReplyStreamer(caps(), TARGET, clock=Clock())  # max_upload_bytes 0: no uploads
    plain.file(REPORT, STORED)
    (_, notice) = plain.final("Done.")
    assert isinstance(notice, SendMessage) and "cannot be sent here" in notice.text


def test_a_file_name_cannot_format_the_notice() -> None:
    streamer = ReplyStreamer(
        caps(dialect=Dialect.TELEGRAM_HTML, max_upload_bytes=1), TARGET, clock=Clock()
    )
    hostile = FileReply("r1", "q3Vb8xL0sTn2WcYd9KfA1uPe", "<b>*x*</b>.txt", "text/plain", 10)
    streamer.file(hostile, STORED)
    notice = streamer.final("ok")[-1]
    assert isinstance(notice, SendMessage) and "<b>" not in notice.text
