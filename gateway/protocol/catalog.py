"""The names of protocol v1: its methods and events.

``METHODS`` are what a client may call once connected (``connect`` itself is
the handshake and is not listed); ``EVENTS`` are everything the server may
send.  Session events carry a per-session ``seq``; connection events do not.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

__all__ = [
    "CONNECTION_EVENTS",
    "EVENTS",
    "METHODS",
    "PROTOCOL_VERSION",
    "SESSION_EVENTS",
    "Event",
    "Method",
]

PROTOCOL_VERSION: Final = 1


class Method(StrEnum):
    CONNECT = "connect"
    CHAT_SEND = "chat.send"
    CHAT_ABORT = "chat.abort"
    SESSIONS_LIST = "sessions.list"
    SESSIONS_HISTORY = "sessions.history"
    SESSIONS_SUBSCRIBE = "sessions.subscribe"
    SESSIONS_UNSUBSCRIBE = "sessions.unsubscribe"
    SESSIONS_NEW = "sessions.new"
    SKILLS_LIST = "skills.list"
    APPROVAL_RESOLVE = "approval.resolve"
    HEALTH = "health"


class Event(StrEnum):
    CHAT_MESSAGE = "chat.message"
    CHAT_DELTA = "chat.delta"
    CHAT_TOOL = "chat.tool"
    CHAT_FINAL = "chat.final"
    CHAT_ERROR = "chat.error"
    CHAT_TYPING = "chat.typing"
    CHAT_FILE = "chat.file"
    APPROVAL_REQUESTED = "approval.requested"
    APPROVAL_RESOLVED = "approval.resolved"
    TICK = "tick"
    CONNECT_CHALLENGE = "connect.challenge"


METHODS: Final[tuple[Method, ...]] = tuple(m for m in Method if m is not Method.CONNECT)
EVENTS: Final[tuple[Event, ...]] = tuple(Event)
CONNECTION_EVENTS: Final = frozenset({Event.TICK, Event.CONNECT_CHALLENGE})
SESSION_EVENTS: Final = frozenset(EVENTS) - CONNECTION_EVENTS
