"""What every chat channel has in common: its capabilities and the operations it performs.

A channel adapter is a pure normaliser (platform payload → ``InboundMessage``)
plus a thin I/O shell around the platform's own library.  Everything that is
the same across platforms — splitting long replies, converting markdown,
streaming by editing one message, throttling edits — is decided by shared,
pure code (``channels.chunking``, ``channels.markdown``, ``channels.replies``)
from the :class:`Capabilities` record the adapter declares.  Adding a channel
is therefore mostly a normaliser and a shell.

The shell performs :data:`ReplyOp` values and reports what the platform gave
back (:class:`SentMessage`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from starlette.routing import BaseRoute

from gateway.events import ApprovalDecision, InboundMessage, Sender

__all__ = [
    "AdapterSettings",
    "ApprovalButtons",
    "ButtonPress",
    "Capabilities",
    "ChannelAdapter",
    "Dialect",
    "EditMessage",
    "Inbound",
    "InboundSink",
    "LengthUnit",
    "OutboundFile",
    "Readiness",
    "ReplyOp",
    "ReplyTarget",
    "SendFile",
    "SendMessage",
    "SentMessage",
    "ShowTyping",
]


class Dialect(StrEnum):
    """How a platform formats text."""

    TELEGRAM_HTML = "telegram_html"
    SLACK_MRKDWN = "slack_mrkdwn"
    DISCORD_MARKDOWN = "discord_markdown"
    PLAIN = "plain"


class LengthUnit(StrEnum):
    """What a platform's length limit counts."""

    CHARS = "chars"  # Unicode code points (Discord, Slack)
    UTF16 = "utf16"  # UTF-16 code units (Telegram Bot API)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """The facts the shared reply logic needs about one platform.

    ``max_text`` is the limit of one message in ``length_unit``, after
    formatting.  ``min_edit_interval_s`` throttles streamed edits so that a
    chat stays within the platform's rate limits.  ``max_upload_bytes`` is
    the largest file the bot may upload (0: it cannot send files); a larger
    one is announced in a message instead.
    """

    name: str
    max_text: int
    length_unit: LengthUnit
    dialect: Dialect
    edits: bool
    threads: bool
    buttons: bool
    typing: bool
    min_edit_interval_s: float = 1.0
    max_upload_bytes: int = 0


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """Where a reply goes: the conversation, its thread, the message it answers."""

    conversation_id: str
    thread_id: str | None = None
    reply_to: str | None = None


@dataclass(frozen=True, slots=True)
class ApprovalButtons:
    """Approve / deny buttons for one approval request."""

    request_id: str
    approve_label: str = "Approve"
    deny_label: str = "Deny"


@dataclass(frozen=True, slots=True)
class SendMessage:
    """Post a new message (already formatted in the platform's dialect)."""

    target: ReplyTarget
    text: str
    buttons: ApprovalButtons | None = None


@dataclass(frozen=True, slots=True)
class EditMessage:
    """Replace the text of a message this channel sent earlier.

    Afterwards the message shows ``text`` and no buttons: this is how an
    approval request's buttons go once it is decided, on every platform
    (Telegram drops an inline keyboard an edit does not repeat; Slack and
    Discord keep blocks and components unless told to drop them, so their
    adapters send an empty set).
    """

    target: ReplyTarget
    message_id: str
    text: str


@dataclass(frozen=True, slots=True)
class ShowTyping:
    target: ReplyTarget


@dataclass(frozen=True, slots=True)
class OutboundFile:
    """A file the assistant sends: ``path`` holds its ``size`` bytes (the gateway's
    copy, never changed while it is sent); ``name`` and ``caption`` are untrusted
    text, to be shown, never to be used as a path or as markup."""

    path: Path
    name: str
    media_type: str
    size: int
    caption: str | None = None


@dataclass(frozen=True, slots=True)
class SendFile:
    """Upload ``file`` as a new message, with its caption (within the platform's
    size limit: the shared reply logic checks ``Capabilities.max_upload_bytes``)."""

    target: ReplyTarget
    file: OutboundFile


ReplyOp = SendMessage | EditMessage | ShowTyping | SendFile


@dataclass(frozen=True, slots=True)
class SentMessage:
    """What the platform answered to a :class:`SendMessage`."""

    message_id: str


@dataclass(frozen=True, slots=True)
class ButtonPress:
    """Someone pressed an approval button in a chat."""

    channel: str
    account: str
    conversation_id: str
    thread_id: str | None
    sender: Sender
    request_id: str
    decision: ApprovalDecision


Inbound = InboundMessage | ButtonPress
InboundSink = Callable[[Inbound], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class AdapterSettings:
    """What an adapter is built from (the gateway maps its config onto this).

    ``secrets`` holds the channel's environment variables that are set
    (``TELEGRAM_BOT_TOKEN`` …); an adapter missing one raises
    ``ChannelConfigError`` naming it.  The URLs point an adapter at a server
    other than the platform's (a local fake in tests, a proxy in production).
    ``public_url`` is where the platform reaches our webhooks.  Whether a reply
    streams is the channel host's choice (``HostedChannel.stream``), not the
    adapter's: an adapter reports what its platform can do.
    """

    mode: str | None = None
    api_base_url: str | None = None
    file_base_url: str | None = None
    gateway_url: str | None = None
    public_url: str | None = None
    data_dir: Path = Path(".")
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)


class Readiness(Protocol):
    """How :meth:`ChannelAdapter.run` reports its connection to the host.

    Call it when the adapter can receive and send (again after recovering).
    An adapter that notices a problem but recovers without leaving ``run``
    (discord.py resumes its gateway session, Slack's Socket Mode client
    reopens its WebSocket, a Telegram long poll is cut) calls :meth:`lost`
    with the reason, so that ``/readyz`` shows it until the next call.  A
    failure that ends ``run`` needs no call: the host reports it.
    """

    def __call__(self) -> None: ...

    def lost(self, reason: str) -> None: ...


class ChannelAdapter(Protocol):
    """A platform connection, owned and restarted by the gateway's channel host.

    :meth:`run` connects, reports ``ready()`` once it can receive and send,
    hands every inbound message or button press to ``sink`` (already
    normalised), and returns only when cancelled; it raises a
    ``channels.errors.ChannelError`` when the connection fails, and the host
    restarts it with backoff.  Messages reach the sink with their attachments
    as platform references only (no ``local_path``): nothing is downloaded
    before the host has decided to answer.  :meth:`perform` does one reply
    operation.
    """

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def account(self) -> str:
        """The bot's own id on the platform; known once ``ready()`` was called."""
        ...

    async def run(self, sink: InboundSink, ready: Readiness) -> None: ...

    async def fetch_attachments(self, message: InboundMessage) -> InboundMessage:
        """``message`` with its files downloaded (``local_path`` set on each one that
        could be fetched within the size cap).  The host calls it only for a
        message it accepted, while ``run`` is running.  A file that cannot be
        fetched is logged and left as a reference; ``ChannelError`` is raised
        only when the platform cannot be asked at all (not connected), and the
        host then passes the message on without its files."""
        ...

    async def perform(self, op: ReplyOp) -> SentMessage | None: ...

    def http_routes(self) -> Sequence[BaseRoute]:
        """Routes to mount on the gateway's port (webhooks); empty for pull-based modes."""
        ...
