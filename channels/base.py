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

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ApprovalButtons",
    "Capabilities",
    "Dialect",
    "EditMessage",
    "LengthUnit",
    "ReplyOp",
    "ReplyTarget",
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
    chat stays within the platform's rate limits.
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
    """Replace the text of a message this channel sent earlier."""

    target: ReplyTarget
    message_id: str
    text: str


@dataclass(frozen=True, slots=True)
class ShowTyping:
    target: ReplyTarget


ReplyOp = SendMessage | EditMessage | ShowTyping


@dataclass(frozen=True, slots=True)
class SentMessage:
    """What the platform answered to a :class:`SendMessage`."""

    message_id: str
