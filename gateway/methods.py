"""What each protocol method does, for a connected web client.

The protocol core has already checked every request against its schema, so
handlers read ``params`` knowing the shapes; what they check is meaning
(does this session exist, is it this client's).  The handler table is data:
:attr:`Methods.table` maps a method name to a coroutine.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.auth import AccessToken
from gateway.bus import Bus
from gateway.errors import KeyReused, QueueFull, SessionError, UnknownSession
from gateway.events import (
    ApprovalDecision,
    Conversation,
    ConversationKind,
    InboundMessage,
    Sender,
    SessionKey,
)
from gateway.hub import EventHub
from gateway.metrics import METRICS
from gateway.protocol import CloseCode, ConnectRequest, ErrorCode, Limits, MethodCall
from gateway.router import Router
from gateway.sessions import QueueMode
from gateway.store import GatewayStore, StoredEvent
from gateway.wsclient import WsClient

__all__ = ["MethodFailed", "Methods"]

WEB_CHANNEL = "web"
DEFAULT_CONVERSATION = "main"
# Files listed by one sessions.history answer, at most (a run may send several).
MAX_HISTORY_FILES = 500


class MethodFailed(Exception):
    """A request that cannot be honoured; becomes an error response."""

    def __init__(self, code: ErrorCode, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class Answered:
    """Returned by a handler that has already sent its result itself."""


ANSWERED = Answered()
Handler = Callable[[WsClient, MethodCall], Awaitable[dict[str, Any] | Answered]]


@dataclass(frozen=True, slots=True)
class ServerFacts:
    version: str
    started_at: float


class Methods:
    def __init__(
        self,
        *,
        token: AccessToken,
        store: GatewayStore,
        hub: EventHub,
        router: Router,
        bus: Bus,
        limits: Limits,
        facts: ServerFacts,
    ) -> None:
        self.limits = limits
        self._token = token
        self._store = store
        self._hub = hub
        self._router = router
        self._bus = bus
        self._facts = facts
        self.table: dict[str, Handler] = {
            "chat.send": self._chat_send,
            "chat.abort": self._chat_abort,
            "sessions.list": self._sessions_list,
            "sessions.history": self._sessions_history,
            "sessions.subscribe": self._sessions_subscribe,
            "sessions.unsubscribe": self._sessions_unsubscribe,
            "sessions.new": self._sessions_new,
            "skills.list": self._skills_list,
            "approval.resolve": self._approval_resolve,
            "health": self._health,
        }

    # -- handshake and dispatch -------------------------------------------

    def connect(self, client: WsClient, request: ConnectRequest) -> None:
        principal = self._token.principal_for(request.token)
        if principal is None:
            METRICS.protocol_errors.labels(code="unauthorized").inc()
            client.conn.reject_unauthorized(request)
            return
        try:
            session = self._web_session(principal, request.session)
            self._router.session_for(session, principal)
        except MethodFailed as failure:
            client.conn.reject(
                request, failure.code, str(failure), close_code=CloseCode.PROTOCOL_ERROR
            )
            return
        client.principal = principal
        client.session = session
        client.conn.accept(request, principal=principal, session=session)

    async def call(self, client: WsClient, call: MethodCall) -> None:
        handler = self.table.get(call.method)
        try:
            if handler is None:
                raise MethodFailed(ErrorCode.UNKNOWN_METHOD, f"unknown method {call.method!r}")
            payload = await handler(client, call)
        except MethodFailed as failure:
            METRICS.protocol_errors.labels(code=str(failure.code)).inc()
            client.conn.send_error(
                call.request_id, failure.code, str(failure), retryable=failure.retryable
            )
            return
        if not isinstance(payload, Answered):
            client.conn.send_result(call.request_id, payload)

    def disconnected(self, client: WsClient) -> None:
        self._hub.unsubscribe_all(client)

    # -- sessions ---------------------------------------------------------

    def _web_session(self, principal: str, requested: str | None) -> str:
        if requested is None:
            return str(SessionKey(WEB_CHANNEL, principal, DEFAULT_CONVERSATION))
        return self._own_session(principal, requested, create=True)

    def _own_session(self, principal: str, key: str, *, create: bool = False) -> str:
        try:
            parsed = SessionKey.parse(key)
        except ValueError as exc:
            raise MethodFailed(ErrorCode.BAD_REQUEST, str(exc)) from None
        record = self._store.get_session(str(parsed))
        if record is None and create and parsed.channel == WEB_CHANNEL:
            if parsed.account != principal:
                raise MethodFailed(ErrorCode.NOT_FOUND, f"no session {key!r}")
            return str(parsed)
        if record is None or record.principal != principal:
            raise MethodFailed(ErrorCode.NOT_FOUND, f"no session {key!r}")
        return record.key

    def _session_param(self, client: WsClient, params: Mapping[str, Any]) -> str:
        principal = _principal(client)
        requested = params.get("session")
        if requested is None:
            assert client.session is not None
            return client.session
        return self._own_session(principal, str(requested), create=True)

    async def _chat_send(self, client: WsClient, call: MethodCall) -> dict[str, Any]:
        principal = _principal(client)
        key = SessionKey.parse(self._session_param(client, call.params))
        if key.channel != WEB_CHANNEL:
            raise MethodFailed(ErrorCode.BAD_REQUEST, "chat.send can only post to web sessions")
        message = InboundMessage(
            id=str(call.params["idempotency_key"]),
            channel=WEB_CHANNEL,
            account=key.account,
            conversation=Conversation(key.conversation, ConversationKind.DM),
            sender=Sender(principal, display_name=principal),
            text=str(call.params["text"]),
            sent_at=time.time(),
        )
        mode = QueueMode(call.params["queue_mode"]) if "queue_mode" in call.params else None
        self._hub.subscribe_live(str(key), client)
        try:
            result = self._router.submit(message, principal=principal, mode=mode)
        except QueueFull as exc:
            raise MethodFailed(ErrorCode.UNAVAILABLE, str(exc), retryable=True) from None
        except KeyReused as exc:
            raise MethodFailed(ErrorCode.CONFLICT, str(exc)) from None
        except UnknownSession as exc:
            raise MethodFailed(ErrorCode.NOT_FOUND, str(exc)) from None
        except SessionError as exc:
            raise MethodFailed(ErrorCode.UNAVAILABLE, str(exc), retryable=True) from None
        return {"run_id": result.run_id, "session": result.session, "duplicate": result.duplicate}

    async def _chat_abort(self, client: WsClient, call: MethodCall) -> dict[str, Any]:
        session = self._own_session(_principal(client), str(call.params["session"]))
        run_id = call.params.get("run_id")
        return {"aborted": self._router.abort(session, str(run_id) if run_id else None)}

    async def _sessions_list(self, client: WsClient, call: MethodCall) -> dict[str, Any]:
        limit = int(call.params.get("limit", 50))
        records = self._store.list_sessions(_principal(client), limit)
        sessions = [
            {"session": r.key, "last_seq": r.last_seq, "updated_at": _ms(r.updated_at)}
            | ({"title": r.title} if r.title else {})
            for r in records
        ]
        return {"sessions": sessions}

    async def _sessions_history(self, client: WsClient, call: MethodCall) -> dict[str, Any]:
        session = self._own_session(_principal(client), str(call.params["session"]))
        raw_before = call.params.get("before_seq")
        before = int(raw_before) if raw_before is not None else None
        events = self._store.history(session, before, int(call.params.get("limit", 100)))
        messages = [_history_entry(e.event, e.seq, e.ts, e.payload) for e in events]
        return {"session": session, "messages": messages, "files": self._files_from(events, before)}

    def _files_from(self, events: list[StoredEvent], before: int | None) -> list[dict[str, Any]]:
        """The files sent in the span of a history page: from its oldest message on."""
        if not events:
            return []
        session, first = events[0].session, events[0].seq
        sent = self._store.files_between(session, first, before, MAX_HISTORY_FILES)
        return [_history_file(e.seq, e.ts, e.payload) for e in sent]

    async def _sessions_subscribe(self, client: WsClient, call: MethodCall) -> Answered:
        """Answer first (with the newest ``seq``), then replay, then go live."""
        session = self._own_session(_principal(client), str(call.params["session"]))

        def answer() -> None:
            record = self._store.get_session(session)
            last_seq = record.last_seq if record is not None else 0
            client.conn.send_result(call.request_id, {"session": session, "last_seq": last_seq})
            client.wake_writer()

        await self._hub.subscribe(
            session, client, int(call.params["after_seq"]), on_registered=answer
        )
        return ANSWERED

    async def _sessions_unsubscribe(self, client: WsClient, call: MethodCall) -> dict[str, Any]:
        session = self._own_session(_principal(client), str(call.params["session"]))
        self._hub.unsubscribe(session, client)
        return {"session": session}

    async def _sessions_new(self, client: WsClient, call: MethodCall) -> dict[str, Any]:
        principal = _principal(client)
        if "session" in call.params:
            session = self._own_session(principal, str(call.params["session"]), create=True)
            self._router.session_for(session, principal)
            self._router.new_conversation(session)
        else:
            conversation = "c-" + secrets.token_hex(6)
            session = str(SessionKey(WEB_CHANNEL, principal, conversation))
            self._router.session_for(session, principal)
        return {"session": session}

    async def _skills_list(self, client: WsClient, call: MethodCall) -> dict[str, Any]:
        skills = [
            {
                "name": s.name,
                "description": s.description,
                "tools": list(s.tools),
                "source": s.source,
            }
            | ({"command": s.command} if s.command else {})
            for s in self._bus.list_skills()
        ]
        return {"skills": skills}

    async def _approval_resolve(self, client: WsClient, call: MethodCall) -> dict[str, Any]:
        principal = _principal(client)
        decision = ApprovalDecision(call.params["decision"])
        resolved = await self._router.resolve_approval(
            None, str(call.params["request_id"]), decision, by=principal
        )
        return {"resolved": resolved}

    async def _health(self, client: WsClient, call: MethodCall) -> dict[str, Any]:
        uptime_ms = int((time.time() - self._facts.started_at) * 1000)
        return {"status": "ok", "uptime_ms": uptime_ms, "version": self._facts.version}


def _ms(seconds: float) -> int:
    """Protocol timestamps are integer milliseconds since the epoch."""
    return int(seconds * 1000)


def _principal(client: WsClient) -> str:
    assert client.principal is not None, "methods run only after connect"
    return client.principal


def _history_entry(event: str, seq: int, ts: float, payload: Mapping[str, Any]) -> dict[str, Any]:
    """A stored message, final reply or failed run's error as a history entry."""
    failed = event == "chat.error"
    entry: dict[str, Any] = {
        "seq": seq,
        "role": "user" if event == "chat.message" else "assistant",
        "text": payload.get("message" if failed else "text", ""),
        "run_id": payload.get("run_id", ""),
        "ts": _ms(ts),
    }
    if failed:
        entry |= {"status": "failed", "error_code": payload.get("code", "internal")}
    elif "status" in payload:
        entry["status"] = payload["status"]
    return entry


_FILE_FIELDS = ("run_id", "file_id", "name", "media_type", "size", "caption")


def _history_file(seq: int, ts: float, payload: Mapping[str, Any]) -> dict[str, Any]:
    """A stored ``chat.file`` event as a history entry: its payload, less the session."""
    return {"seq": seq, "ts": _ms(ts)} | {k: payload[k] for k in _FILE_FIELDS if k in payload}
