"""How a streamed reply becomes platform messages: one state machine for every channel.

Theory of operation
-------------------
A :class:`ReplyStreamer` follows one run.  Fed the run's events (text
deltas, the final text, a failure, typing, approval requests), it answers
with the :data:`~channels.base.ReplyOp` values the channel must perform, in
order; the channel performs them one by one and hands every
:class:`~channels.base.SentMessage` back through :meth:`ReplyStreamer.sent`.

Where the platform can edit, the reply appears as one message that grows as
the model writes, edited at most once per ``min_edit_interval_s`` (rate
limits); when it outgrows the platform's limit, the message is finished and
the text goes on in a new one.  Where it cannot edit, nothing is posted until
the final text, which is then split into as many messages as it needs.  Every
message is formatted in the platform's dialect and fits its limit *after*
formatting.  The final text always wins over whatever was streamed.

An approval request is a message of its own, with buttons where the platform
has them.  The streamer remembers which message asked (its id comes back
through :meth:`ReplyStreamer.sent` like any other); once the request is
decided, :meth:`ReplyStreamer.resolved` edits that message to say who decided
and what — an :class:`~channels.base.EditMessage`, which also drops the
buttons, so the same request cannot be answered twice from the chat.

Files the run sent (:meth:`ReplyStreamer.file`) follow the reply's text:
they are held until the run ends, so that a platform that shows the text
only once final does not show the file first.  A file over the platform's
upload limit (``Capabilities.max_upload_bytes``), or one the gateway no
longer has, becomes a message that says so: the user learns a file was
meant for them, never silence.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from channels.approvals import NO_BUTTONS_HINT
from channels.base import (
    ApprovalButtons,
    Capabilities,
    EditMessage,
    OutboundFile,
    ReplyOp,
    ReplyTarget,
    SendFile,
    SendMessage,
    SentMessage,
    ShowTyping,
)
from channels.chunking import MIN_LIMIT, measure, split_text
from channels.markdown import render
from gateway.events import (
    ApprovalDecision,
    ApprovalRequested,
    FileReply,
    FinalReply,
    InboundMessage,
    ReplyEvent,
    RunStatus,
    TextDelta,
    TurnFailed,
    Typing,
)

__all__ = ["TYPING_INTERVAL_S", "ReplyStreamer", "layout", "reply_target"]

TYPING_INTERVAL_S = 4.0  # Telegram shows "typing" for 5 s, Discord for 10 s
_VERDICTS = {ApprovalDecision.APPROVE: "✅ Approved", ApprovalDecision.DENY: "❌ Denied"}
_MARKUP = re.compile(r"[*_~`\[\]<>|]")  # a name is shown as it is, never formatted


@dataclass(slots=True)
class _Asked:
    """An approval request this streamer posted; ``message_id`` once it came back."""

    summary: str
    send: SendMessage
    message_id: str | None = None


def reply_target(message: InboundMessage) -> ReplyTarget:
    """Where the answer to ``message`` goes: its conversation and thread, threaded
    to it.  Normalisers build ids as ``<scope>:<platform message id>``."""
    conversation = message.conversation
    platform_id = message.id.rsplit(":", 1)[-1]
    return ReplyTarget(conversation.id, conversation.thread_id, reply_to=platform_id)


def layout(text: str, caps: Capabilities) -> list[str]:
    """``text`` formatted for the platform, split so that each part fits."""
    return _layout(text, caps, caps.max_text)


def _layout(text: str, caps: Capabilities, limit: int) -> list[str]:
    parts: list[str] = []
    for chunk in split_text(text, limit=limit, unit=caps.length_unit):
        rendered = render(chunk, caps.dialect)
        if measure(rendered, caps.length_unit) <= caps.max_text or limit <= MIN_LIMIT:
            parts.append(rendered)
        else:  # formatting made it longer (escapes): split that part finer
            parts.extend(_layout(chunk, caps, max(MIN_LIMIT, limit * 3 // 4)))
    return parts


class ReplyStreamer:
    def __init__(
        self,
        caps: Capabilities,
        target: ReplyTarget,
        *,
        clock: Callable[[], float],
        stream: bool = True,
    ) -> None:
        self._caps = caps
        self._target = target
        self._clock = clock
        self._stream = stream and caps.edits
        self._text = ""
        self._shown: list[str] = []  # what each posted message shows now
        self._ids: list[str] = []
        self._pending: list[SendMessage] = []  # sends whose ids have not come back
        self._last_edit = float("-inf")
        self._last_typing = float("-inf")
        self._asked: dict[str, _Asked] = {}  # request id -> the message that asks
        self._files: list[ReplyOp] = []  # held until the reply's text is out
        self.finished = False

    # -- events of the run ------------------------------------------------

    def feed(self, reply: ReplyEvent) -> list[ReplyOp]:
        """What to do on the platform for one of the run's events, in order."""
        match reply:
            case TextDelta(text=text):
                return self.delta(text)
            case Typing():
                return self.typing()
            case ApprovalRequested(request_id=request_id, summary=summary):
                return self.approval(request_id, summary)
            case FinalReply(text=text, status=status):
                return self.final(text, stopped=status is RunStatus.STOPPED)
            case TurnFailed(code=code, message=message):
                return self.failed(code, message)
            case _:  # tool activity is not shown in chats; files need their path (file())
                return []

    def delta(self, text: str) -> list[ReplyOp]:
        self._text += text
        if not self._stream or self._clock() - self._last_edit < self._caps.min_edit_interval_s:
            return []
        return self._show(layout(self._text, self._caps))

    def final(self, text: str, *, stopped: bool = False) -> list[ReplyOp]:
        self.finished = True
        shown = text if text.strip() else ("" if stopped else "(no reply)")
        if stopped:
            shown = f"{shown}\n\n_(stopped)_" if shown else "_(stopped)_"
        return self._show(layout(shown, self._caps)) + self._held_files()

    def failed(self, code: str, message: str) -> list[ReplyOp]:
        self.finished = True
        notice = f"⚠️ {message} ({code})"
        text = f"{self._text}\n\n{notice}" if self._text.strip() else notice
        return self._show(layout(text, self._caps)) + self._held_files()

    def file(self, reply: FileReply, path: Path | None) -> list[ReplyOp]:
        """Send the file of ``reply`` (its bytes at ``path``; None when the gateway
        does not have them) after the reply's text: held until the run ends."""
        op = self._file_op(reply, path)
        if self.finished:
            return [op]
        self._files.append(op)
        return []

    def _file_op(self, reply: FileReply, path: Path | None) -> ReplyOp:
        name = _MARKUP.sub("", reply.name).strip() or "a file"
        limit = self._caps.max_upload_bytes
        if path is None:
            notice = f"⚠️ I sent you {name}, but it is no longer available."
        elif limit <= 0:
            notice = f"📎 I sent you {name} ({_size(reply.size)}); files cannot be sent here."
        elif reply.size > limit:
            notice = (
                f"📎 I sent you {name} ({_size(reply.size)}), but it is too large to upload "
                f"here (the limit is {_size(limit)})."
            )
        else:
            file = OutboundFile(path, reply.name, reply.media_type, reply.size, reply.caption)
            return SendFile(self._target, file)
        return SendMessage(self._target, render(notice, self._caps.dialect))

    def _held_files(self) -> list[ReplyOp]:
        held, self._files = self._files, []
        return held

    def typing(self) -> list[ReplyOp]:
        now = self._clock()
        if not self._caps.typing or self.finished or now - self._last_typing < TYPING_INTERVAL_S:
            return []
        self._last_typing = now
        return [ShowTyping(self._target)]

    def approval(self, request_id: str, summary: str) -> list[ReplyOp]:
        """A separate message asking for a decision, with buttons where possible."""
        if self._caps.buttons:
            text = render(f"Approve this action?\n{summary}", self._caps.dialect)
            send = SendMessage(self._target, text, ApprovalButtons(request_id))
        else:
            text = f"Approve this action?\n{summary}\n{NO_BUTTONS_HINT}"
            send = SendMessage(self._target, render(text, self._caps.dialect))
        self._asked[request_id] = _Asked(summary, send)
        return [send]

    def resolved(
        self, request_id: str, decision: ApprovalDecision, by: str | None = None
    ) -> list[ReplyOp]:
        """Show on the message that asked what was decided (and by whom, when
        known), without its buttons; nothing where that message is unknown or
        cannot be edited."""
        asked = self._asked.pop(request_id, None)
        if asked is None or asked.message_id is None or not self._caps.edits:
            return []
        who = _MARKUP.sub("", by).strip() if by else ""
        verdict = f"{_VERDICTS[decision]} by {who}." if who else f"{_VERDICTS[decision]}."
        text = render(f"{asked.summary}\n\n{verdict}", self._caps.dialect)
        return [EditMessage(self._target, asked.message_id, text)]

    # -- results from the platform ----------------------------------------

    def sent(self, op: ReplyOp, result: SentMessage) -> None:
        """Record the id of a message this streamer asked to post."""
        for index, pending in enumerate(self._pending):
            if pending is op:
                del self._pending[index]
                self._ids.append(result.message_id)
                return
        for asked in self._asked.values():
            if asked.send is op:
                asked.message_id = result.message_id
                return

    # -- internals ---------------------------------------------------------

    def _show(self, parts: list[str]) -> list[ReplyOp]:
        self._last_edit = self._clock()
        ops: list[ReplyOp] = []
        for index, text in enumerate(parts):
            if index < len(self._shown):
                if self._shown[index] != text and self._caps.edits:
                    ops.append(EditMessage(self._target, self._message_id(index), text))
                    self._shown[index] = text
            else:
                send = SendMessage(self._target, text)
                self._pending.append(send)
                self._shown.append(text)
                ops.append(send)
        return ops

    def _message_id(self, index: int) -> str:
        if index >= len(self._ids):
            raise RuntimeError("an edit was planned before the message's id came back")
        return self._ids[index]


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
