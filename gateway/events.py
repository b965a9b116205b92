"""The normalised contract between channels, the gateway and the brain.

Theory of operation
-------------------
Every channel adapter turns platform traffic into an :class:`InboundMessage`.
The gateway routes it to a session (:class:`SessionKey`), decides when a turn
may run, and hands the brain a :class:`TurnRequest`.  The brain answers with a
stream of :data:`ReplyEvent` values, which the gateway numbers, stores and
sends back to the clients and channels of that session.

This module imports nothing of ours and does no I/O: it is the one vocabulary
that all packages share.  Every type is a frozen, slotted dataclass; anything
platform-specific lives in typed fields or in :class:`RawPayload`, which is
excluded from ``repr`` and is never rendered into a model's context.

Times are seconds since the epoch (UTC) as ``float``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "ApprovalDecision",
    "ApprovalRequested",
    "Attachment",
    "AttachmentKind",
    "Conversation",
    "ConversationKind",
    "ExitStatus",
    "FileReply",
    "FinalReply",
    "InboundMessage",
    "Mention",
    "RawPayload",
    "ReplyEvent",
    "Resumption",
    "RunStatus",
    "Sender",
    "SessionKey",
    "SkillSummary",
    "TextDelta",
    "ToolActivity",
    "ToolPhase",
    "TurnFailed",
    "TurnRequest",
    "Typing",
    "exit_status_of",
]


class ConversationKind(StrEnum):
    DM = "dm"
    GROUP = "group"
    THREAD = "thread"


class AttachmentKind(StrEnum):
    IMAGE = "image"
    FILE = "file"
    AUDIO = "audio"
    VOICE = "voice"
    VIDEO = "video"
    STICKER = "sticker"


@dataclass(frozen=True, slots=True)
class Conversation:
    """Where a message was posted.

    ``id`` is the platform's chat or channel id.  For a thread (Slack
    ``thread_ts``, a Telegram forum topic, a Discord thread) ``thread_id`` names
    the thread and ``parent_id`` the channel that holds it.
    """

    id: str
    kind: ConversationKind
    title: str | None = None
    thread_id: str | None = None
    parent_id: str | None = None


@dataclass(frozen=True, slots=True)
class Sender:
    id: str
    display_name: str | None = None
    username: str | None = None
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class Mention:
    """A user mentioned in the text; ``is_self`` is true when it names our bot."""

    user_id: str
    text: str
    is_self: bool = False


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file that came with a message.

    ``ref`` is the platform's handle for downloading it (a Telegram ``file_id``,
    a Slack ``url_private``, a Discord CDN url).  ``local_path`` is set once the
    gateway has downloaded it into the session's workspace.
    """

    kind: AttachmentKind
    ref: str
    name: str | None = None
    mime_type: str | None = None
    size: int | None = None
    local_path: str | None = None


@dataclass(frozen=True, slots=True)
class RawPayload:
    """The platform's original payload, for the adapter only.

    It is kept out of ``repr`` (and therefore out of logs) and must never be
    rendered into a model's context.
    """

    platform: str
    data: Mapping[str, object] = field(repr=False)


_KEY_ESCAPES = {"%": "%25", ":": "%3A"}


def _escape_part(part: str) -> str:
    if ":" not in part and "%" not in part:
        return part
    return "".join(_KEY_ESCAPES.get(ch, ch) for ch in part)


def _unescape_part(part: str) -> str:
    return part.replace("%3A", ":").replace("%25", "%")


@dataclass(frozen=True, slots=True)
class SessionKey:
    """``channel:account:conversation[:thread]``, the unit of ordering.

    Parts may contain any character; ``:`` and ``%`` are percent-escaped in the
    string form so that :meth:`parse` is the exact inverse of :meth:`__str__`.
    """

    channel: str
    account: str
    conversation: str
    thread: str | None = None

    def __post_init__(self) -> None:
        for name in ("channel", "account", "conversation"):
            if not getattr(self, name):
                raise ValueError(f"session key part {name!r} must not be empty")
        if self.thread == "":
            raise ValueError("session key part 'thread' must be None or non-empty")

    def __str__(self) -> str:
        parts = [self.channel, self.account, self.conversation]
        if self.thread is not None:
            parts.append(self.thread)
        return ":".join(_escape_part(p) for p in parts)

    @classmethod
    def parse(cls, text: str) -> SessionKey:
        parts = [_unescape_part(p) for p in text.split(":")]
        if len(parts) not in (3, 4):
            raise ValueError(
                f"session key {text!r} must look like channel:account:conversation[:thread]"
            )
        thread = parts[3] if len(parts) == 4 else None
        return cls(parts[0], parts[1], parts[2], thread)


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message from a user, as every channel reports it.

    ``id`` is unique per channel account and is the dedupe key: the same
    platform message delivered twice (a Slack retry, a web client resending
    with the same idempotency key) carries the same ``id``.
    """

    id: str
    channel: str
    account: str
    conversation: Conversation
    sender: Sender
    text: str
    sent_at: float
    mentions: tuple[Mention, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    reply_to: str | None = None
    edited: bool = False
    raw: RawPayload | None = field(default=None, repr=False, compare=False)

    @property
    def session_key(self) -> SessionKey:
        return SessionKey(
            self.channel, self.account, self.conversation.id, self.conversation.thread_id
        )

    @property
    def user_key(self) -> str:
        """The memory scope of the person who sent this: ``channel:sender``."""
        return f"{self.channel}:{self.sender.id}"

    @property
    def mentions_self(self) -> bool:
        return any(m.is_self for m in self.mentions)


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """What the gateway asks the brain to do: answer these messages.

    ``conversation_id`` keys the brain's transcript; it changes when the user
    starts afresh (``/new``) while ``session`` stays the same.  ``messages``
    holds one message, or several when the session collects messages that
    arrived during the previous turn.  ``resume`` names a :class:`Resumption`'s
    checkpoint: such a run continues a turn the brain saved, and has no messages.
    """

    run_id: str
    session: str
    conversation_id: str
    user: str
    messages: tuple[InboundMessage, ...]
    resume: str | None = None

    def __post_init__(self) -> None:
        if not self.messages and self.resume is None:
            raise ValueError("a turn needs at least one message")

    @property
    def text(self) -> str:
        return "\n\n".join(m.text for m in self.messages)


class ToolPhase(StrEnum):
    START = "start"
    END = "end"
    ERROR = "error"


class RunStatus(StrEnum):
    COMPLETED = "completed"
    STOPPED = "stopped"


class ExitStatus(StrEnum):
    """Why a run ended: every run ends with exactly one, shown to the user.

    ``FinalReply`` runs end ``completed``, ``denied`` (the reply came without an
    action a person or a rule refused) or ``stopped``/``interrupted``; the others
    end a ``TurnFailed``.  The budgets (``step_limit``, ``token_budget``,
    ``time_budget``), ``stuck`` (a loop detector stopped it) and ``format`` (the
    model's structured output stayed invalid after its re-asks) are the brain's
    guardrails; ``interrupted`` means a shutdown or restart cut the run short.
    """

    COMPLETED = "completed"
    STOPPED = "stopped"
    DENIED = "denied"
    STEP_LIMIT = "step_limit"
    TOKEN_BUDGET = "token_budget"  # noqa: S105 - a status name, not a secret
    TIME_BUDGET = "time_budget"
    STUCK = "stuck"
    FORMAT = "format"
    MODEL_ERROR = "model_error"
    TOOL_ERROR = "tool_error"
    BAD_REQUEST = "bad_request"
    INTERRUPTED = "interrupted"
    INTERNAL = "internal"


class ApprovalDecision(StrEnum):
    APPROVE = "approve"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the reply as the model streams it."""

    run_id: str
    text: str


@dataclass(frozen=True, slots=True)
class ToolActivity:
    """A tool or skill started, ended or failed; ``detail`` is user-facing."""

    run_id: str
    tool: str
    phase: ToolPhase
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Typing:
    """The brain is working; channels show a typing indicator."""

    run_id: str


@dataclass(frozen=True, slots=True)
class ApprovalRequested:
    """The brain wants to run ``tool`` and waits for a person to decide."""

    run_id: str
    request_id: str
    tool: str
    summary: str


@dataclass(frozen=True, slots=True)
class FinalReply:
    """The whole reply; the last event of a run that did not fail."""

    run_id: str
    text: str
    status: RunStatus = RunStatus.COMPLETED
    # Set when ``status`` does not say it (a ``denied`` reply); read it with exit_status_of.
    exit_status: ExitStatus | None = None


@dataclass(frozen=True, slots=True)
class TurnFailed:
    """The run ended with an error; ``code`` is one of a fixed, documented set."""

    run_id: str
    code: str
    message: str
    retryable: bool = False
    # Set when ``code`` does not name it; read it with exit_status_of.
    exit_status: ExitStatus | None = None


@dataclass(frozen=True, slots=True)
class FileReply:
    """The assistant sent the user a file (with an optional caption).

    The bytes are in the gateway's file store under ``file_id`` (random,
    URL-safe, never derived from a name); ``name`` is what the user sees.
    """

    run_id: str
    file_id: str
    name: str
    media_type: str
    size: int
    caption: str | None = None


ReplyEvent = (
    TextDelta | ToolActivity | Typing | ApprovalRequested | FileReply | FinalReply | TurnFailed
)

# Failure codes that name their exit status differently; any other code that is
# an ExitStatus value is that status, and an unknown code is ``internal``.
_EXIT_OF_CODE = {
    "model_unavailable": ExitStatus.MODEL_ERROR,
    "timeout": ExitStatus.TIME_BUDGET,
    "unavailable": ExitStatus.INTERRUPTED,
}


def exit_status_of(reply: FinalReply | TurnFailed) -> ExitStatus:
    """The exit status a run's last event stands for: its own, or one derived
    from ``status`` / ``code`` for producers that do not set it."""
    if reply.exit_status is not None:
        return reply.exit_status
    if isinstance(reply, FinalReply):
        stopped = reply.status is RunStatus.STOPPED
        return ExitStatus.STOPPED if stopped else ExitStatus.COMPLETED
    if reply.code in _EXIT_OF_CODE:
        return _EXIT_OF_CODE[reply.code]
    try:
        return ExitStatus(reply.code)
    except ValueError:
        return ExitStatus.INTERNAL


@dataclass(frozen=True, slots=True)
class Resumption:
    """A turn the brain can continue without a new user message.

    The brain saved it at an approval (``checkpoint`` is the approval request
    id) and the process that ran it is gone.  The gateway starts it as a new
    run in ``session`` with ``TurnRequest(resume=checkpoint, messages=())``.
    """

    session: str
    user: str
    checkpoint: str


@dataclass(frozen=True, slots=True)
class SkillSummary:
    """What clients are told about an installed skill."""

    name: str
    description: str
    tools: tuple[str, ...] = ()
    command: str | None = None
    source: str = "local"
