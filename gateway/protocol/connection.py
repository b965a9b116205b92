"""The server side of one protocol v1 connection, without any I/O.

Theory of operation
-------------------
The shell owns the socket, the timers and the clock; this class owns every
protocol decision.  The shell drives it like this::

    conn = ServerConnection(limits=..., server=..., clock=time.monotonic,
                            wall_clock=time.time, nonce=secrets.token_urlsafe(16))
    conn.start()                          # queues the connect.challenge event
    write(conn.data_to_send())
    for text in socket:                   # each inbound text message
        conn.receive_text(text)           # never raises on bad input
        for item in conn.events_received():
            ...                           # accept()/reject_*() a ConnectRequest,
                                          # send_result()/send_error() a MethodCall
        write(conn.data_to_send())
        if conn.close_code is not None:   # the core decided to close
            close the socket with conn.close_code, conn.close_reason
    # on timers: conn.tick() every tick_interval_ms,
    #            conn.check_timeouts() at conn.connect_deadline
    # from other tasks: conn.send_event(...); conn.close(CloseCode.GOING_AWAY, ...)
    # when the socket is gone: conn.connection_closed()

Whatever the client sends is answered with frames (an error response, maybe
followed by a close code), never with an exception.  Calls that the state
forbids raise :class:`~gateway.protocol.errors.LocalProtocolError`, with one
deliberate exception: once the connection is closing, ``send_*``, ``tick``,
``accept`` and ``reject*`` quietly do nothing, because other tasks of the
shell race with the close and cannot know.

The lifecycle itself is the table in :mod:`gateway.protocol.state`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from gateway.protocol._inbound import handshake_error, peek_request_id, read_connect, read_request
from gateway.protocol.catalog import (
    CONNECTION_EVENTS,
    EVENTS,
    METHODS,
    PROTOCOL_VERSION,
    SESSION_EVENTS,
    Event,
    Method,
)
from gateway.protocol.codes import CLOSE_REASON_MAX_BYTES, CloseCode, ErrorCode
from gateway.protocol.errors import (
    InvalidOutboundError,
    InvalidStateError,
    LocalProtocolError,
    PeerProtocolError,
)
from gateway.protocol.frames import (
    ConnectRequest,
    Inbound,
    encode,
    error_frame,
    event_frame,
    result_frame,
    utf8_size,
)
from gateway.protocol.limits import Limits, ServerInfo
from gateway.protocol.ratelimit import TokenBucket
from gateway.protocol.schema import validate_frame
from gateway.protocol.state import ConnectionState, StateMachine, Trigger

__all__ = ["ServerConnection"]

_NEW = ConnectionState.NEW
_CHALLENGED = ConnectionState.CHALLENGED
_AUTHENTICATING = ConnectionState.AUTHENTICATING
_CONNECTED = ConnectionState.CONNECTED
_ENDED = frozenset({ConnectionState.CLOSING, ConnectionState.CLOSED})

_EVENTS_BY_NAME = {e.value: e for e in EVENTS}
_MAX_MESSAGE = 1024  # common.json: error.message maxLength
_MAX_FIELD = 256  # common.json: error.field maxLength


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _clip_utf8(text: str, limit: int) -> str:
    data = text.encode("utf-8", "replace")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


class ServerConnection:
    """Protocol v1, server side, for one client.

    ``clock`` (seconds, monotonic) drives the rate limit and the connect
    timeout; ``wall_clock`` (seconds since the epoch) stamps ``ts`` fields.
    ``validate_outbound=True`` checks every frame we send against the shipped
    schemas and raises :class:`InvalidOutboundError` on a mismatch: for tests
    and development, it costs far more than the frame itself.
    """

    def __init__(
        self,
        *,
        server: ServerInfo,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        nonce: str | None = None,
        validate_outbound: bool = False,
    ) -> None:
        self.limits = limits if limits is not None else Limits()
        self.server = server
        self.nonce = nonce if nonce is not None else secrets.token_urlsafe(16)
        self.principal: str | None = None
        """Who the shell authenticated, as passed to :meth:`accept`."""
        self.session: str | None = None
        """The connection's default session, as passed to :meth:`accept`."""
        self._clock = clock
        self._wall_clock = wall_clock
        self._validate_outbound = validate_outbound
        self._machine = StateMachine()
        self._bucket = TokenBucket(
            rate=self.limits.rate_per_sec, burst=self.limits.burst, clock=clock
        )
        self._outgoing: list[str] = []
        self._received: list[Inbound] = []
        self._awaiting: dict[str, Method] = {}  # request id -> method, until answered
        self._connect: ConnectRequest | None = None
        self._refused_in_a_row = 0
        self._started_at: float | None = None
        self._close_code: CloseCode | None = None
        self._close_reason: str | None = None

    # --- state -----------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self._machine.state

    @property
    def close_code(self) -> CloseCode | None:
        """Set once the core or the shell decided to close; the shell closes with it."""
        return self._close_code

    @property
    def close_reason(self) -> str | None:
        """The close reason to send, at most 123 bytes of UTF-8 (RFC 6455 §5.5)."""
        return self._close_reason

    @property
    def connect_deadline(self) -> float | None:
        """When (on ``clock``) :meth:`check_timeouts` will give up waiting for ``connect``."""
        if self.state is not _CHALLENGED or self._started_at is None:
            return None
        return self._started_at + self.limits.connect_timeout_ms / 1000.0

    @property
    def awaiting_response(self) -> frozenset[str]:
        """Ids of requests handed out by :meth:`events_received` and not answered yet."""
        return frozenset(self._awaiting)

    # --- the shell's side ------------------------------------------------------------

    def start(self) -> None:
        """Queue the ``connect.challenge`` event; call once, right after the socket opens."""
        self._machine.fire(Trigger.START)
        self._started_at = self._clock()
        payload = {"nonce": self.nonce, "ts": self._now_ms()}
        self._queue(event_frame(Event.CONNECT_CHALLENGE.value, payload))

    def events_received(self) -> list[Inbound]:
        """Requests decoded since the last call, in arrival order."""
        received, self._received = self._received, []
        return received

    def data_to_send(self) -> list[str]:
        """Frames to write, in order, since the last call.

        Frames not taken yet count towards ``max_pending_events``: take them
        only when the socket can accept them, so that a client that stops
        reading is detected as a slow consumer.
        """
        outgoing, self._outgoing = self._outgoing, []
        return outgoing

    def receive_text(self, text: str) -> None:
        """Process one text message from the client; never raises on what it contains."""
        self._require_started()
        if self.state in _ENDED:
            return
        try:
            self._receive(text)
        except PeerProtocolError as exc:
            self._answer(exc)

    def receive_binary(self, data: bytes) -> None:
        """Process one binary message: protocol v1 has none, so it is answered as an error."""
        self._require_started()
        if self.state in _ENDED:
            return
        if self._too_big(len(data)) or not self._admitted(None, True):
            return
        try:
            self._refuse_non_request("binary frames are not supported; send JSON text frames")
        except PeerProtocolError as exc:
            self._answer(exc)

    def accept(self, request: ConnectRequest, *, principal: str, session: str) -> None:
        """Complete the handshake: send the connect result and become ``CONNECTED``."""
        if self.state in _ENDED:
            return
        self._require_connect(request)
        if not session:
            raise LocalProtocolError("accept() needs a non-empty session")
        self._machine.fire(Trigger.ACCEPT)
        self._connect = None
        self.principal, self.session = principal, session
        self._queue(result_frame(request.request_id, self._hello(session)), Method.CONNECT)

    def reject_unauthorized(self, request: ConnectRequest, message: str = "invalid token") -> None:
        """Answer the connect request with ``unauthorized`` and close with 4001."""
        self.reject(request, ErrorCode.UNAUTHORIZED, message, close_code=CloseCode.UNAUTHORIZED)

    def reject(
        self,
        request: ConnectRequest,
        code: ErrorCode,
        message: str,
        *,
        close_code: CloseCode,
        retry_after_ms: int | None = None,
    ) -> None:
        """Answer the connect request with an error and close, e.g. ``unavailable`` + 1001."""
        if self.state in _ENDED:
            return
        self._require_connect(request)
        self._queue_error(
            request.request_id,
            code,
            message,
            retryable=code.retryable,
            retry_after_ms=retry_after_ms,
        )
        self._close(close_code, message)

    def send_result(self, request_id: str, payload: dict[str, Any]) -> None:
        """Answer a :class:`MethodCall` successfully."""
        if not self._may_send("send a result"):
            return
        method = self._answered(request_id)
        self._queue(result_frame(request_id, payload), method)

    def send_error(
        self,
        request_id: str,
        code: ErrorCode,
        message: str,
        *,
        retryable: bool | None = None,
        retry_after_ms: int | None = None,
        field: str | None = None,
    ) -> None:
        """Answer a :class:`MethodCall` with an error; ``retryable`` defaults by ``code``."""
        if not self._may_send("send an error"):
            return
        code = ErrorCode(code)
        if code is ErrorCode.RATE_LIMITED and retry_after_ms is None:
            raise LocalProtocolError("a rate_limited error needs retry_after_ms")
        self._answered(request_id)
        self._queue_error(
            request_id,
            code,
            message,
            retryable=code.retryable if retryable is None else retryable,
            retry_after_ms=retry_after_ms,
            field=field,
        )

    def send_event(self, name: str, payload: dict[str, Any], seq: int | None = None) -> None:
        """Queue an event: session events need their ``seq``, connection events must not have one.

        If more than ``max_pending_events`` frames are waiting for the shell,
        the connection is closed with 4008 (slow consumer) instead.
        """
        if not self._may_send("send an event"):
            return
        event = _EVENTS_BY_NAME.get(name)
        if event is None or event is Event.CONNECT_CHALLENGE:
            raise LocalProtocolError(f"{name!r} is not an event the shell may send")
        if event in SESSION_EVENTS and (type(seq) is not int or seq < 1):
            raise LocalProtocolError(f"session event {name!r} needs an integer seq >= 1")
        if event in CONNECTION_EVENTS and seq is not None:
            raise LocalProtocolError(f"connection event {name!r} has no seq")
        self._queue_event(event, payload, seq)

    def tick(self) -> None:
        """Queue a ``tick`` event; does nothing unless ``CONNECTED``, so timers may fire freely."""
        if self.state is _CONNECTED:
            self._queue_event(Event.TICK, {"ts": self._now_ms()}, None)

    def check_timeouts(self) -> None:
        """Close with 4002 if no ``connect`` frame arrived within ``connect_timeout_ms``."""
        deadline = self.connect_deadline
        if deadline is not None and self._clock() >= deadline:
            ms = self.limits.connect_timeout_ms
            self._answer(handshake_error(f"no connect frame within {ms} ms"))

    def close(self, code: CloseCode, reason: str = "") -> None:
        """The shell closes (1001 on shutdown, 4008 for a slow consumer); the first close wins."""
        if self.state not in _ENDED:
            self._close(code, reason)

    def connection_closed(self) -> None:
        """The transport is gone, whoever closed it."""
        self._machine.fire(Trigger.TRANSPORT_CLOSED)
        self._outgoing.clear()
        self._awaiting.clear()
        self._connect = None

    # --- receiving ---------------------------------------------------------------------

    def _receive(self, text: str) -> None:
        # len() counts code points, each at least one byte: skip encoding what is far too big.
        size, valid = (len(text), True) if len(text) > self._size_limit() else utf8_size(text)
        if self._too_big(size):
            return
        if self.state is _CHALLENGED:
            self._handshake(text, valid)
        elif self.state is _AUTHENTICATING:
            self._refuse_non_request("wait for the connect response before sending requests")
        else:
            self._request(text, valid)

    def _size_limit(self) -> int:
        if self.state is _CONNECTED:
            return self.limits.max_frame_bytes
        return self.limits.max_handshake_frame_bytes

    def _too_big(self, size: int) -> bool:
        """Close with 1009 if ``size`` is over the limit; such a frame is not read or answered."""
        limit = self._size_limit()
        if size <= limit:
            return False
        self._close(CloseCode.MESSAGE_TOO_BIG, f"frame is larger than {limit} bytes")
        return True

    def _refuse_non_request(self, message: str) -> None:
        if self.state is not _CONNECTED:
            raise handshake_error(message)
        raise PeerProtocolError(ErrorCode.INVALID_FRAME, message)

    def _handshake(self, text: str, valid: bool) -> None:
        self._connect = read_connect(text, valid)
        self._machine.fire(Trigger.CONNECT_RECEIVED)
        self._received.append(self._connect)

    def _request(self, text: str, valid: bool) -> None:
        if not self._admitted(text, valid):
            return
        call = read_request(text, valid)
        if call.request_id in self._awaiting:
            raise PeerProtocolError(
                ErrorCode.INVALID_FRAME,
                "id: a request with this id is still awaiting its response",
                field="id",
                request_id=call.request_id,
            )
        self._awaiting[call.request_id] = call.method
        self._received.append(call)

    def _admitted(self, text: str | None, valid: bool) -> bool:
        """Take a rate-limit token for a frame after the handshake, or refuse the frame."""
        if self.state is not _CONNECTED:
            return True
        wait = self._bucket.try_acquire()
        if wait == 0.0:
            self._refused_in_a_row = 0
            return True
        self._rate_limited(None if text is None else peek_request_id(text, valid), wait)
        return False

    def _rate_limited(self, request_id: str | None, wait: float) -> None:
        self._refused_in_a_row += 1
        refused = self._refused_in_a_row
        if refused >= self.limits.max_rejected_frames:
            self._close(CloseCode.POLICY_VIOLATION, f"rate limit exceeded {refused} times in a row")
            return
        limits = self.limits
        self._queue_error(
            request_id,
            ErrorCode.RATE_LIMITED,
            f"too many frames: at most {limits.rate_per_sec} per second, bursts of {limits.burst}",
            retryable=True,
            retry_after_ms=self._bucket.retry_after_ms(wait),
        )

    def _answer(self, exc: PeerProtocolError) -> None:
        self._queue_error(
            exc.request_id, exc.code, exc.message, retryable=exc.code.retryable, field=exc.field
        )
        if exc.close_code is not None:
            self._close(exc.close_code, exc.message)

    # --- sending -----------------------------------------------------------------------

    def _hello(self, session: str) -> dict[str, Any]:
        return {
            "protocol": PROTOCOL_VERSION,
            "server": {"name": self.server.name, "version": self.server.version},
            "session": session,
            "limits": self.limits.advertised(),
            "features": {
                "methods": [m.value for m in METHODS],
                "events": [e.value for e in EVENTS],
            },
        }

    def _queue_event(self, event: Event, payload: dict[str, Any], seq: int | None) -> None:
        waiting = len(self._outgoing)
        if waiting >= self.limits.max_pending_events:
            self._close(CloseCode.SLOW_CONSUMER, f"slow consumer: {waiting} frames not sent")
            return
        self._queue(event_frame(event.value, payload, seq))

    def _queue_error(
        self,
        request_id: str | None,
        code: ErrorCode,
        message: str,
        *,
        retryable: bool,
        retry_after_ms: int | None = None,
        field: str | None = None,
    ) -> None:
        frame = error_frame(
            request_id,
            code,
            _clip(message, _MAX_MESSAGE) or code.value,
            retryable=retryable,
            retry_after_ms=retry_after_ms,
            field=None if not field else _clip(field, _MAX_FIELD),
        )
        self._queue(frame)

    def _queue(self, frame: dict[str, Any], method: Method | None = None) -> None:
        if self._validate_outbound:
            found = validate_frame("server", frame, method=method)
            if found is not None:
                raise InvalidOutboundError(f"outbound frame breaks the schema: {found}")
        self._outgoing.append(encode(frame))

    def _close(self, code: CloseCode, reason: str) -> None:
        self._machine.fire(Trigger.CLOSE)
        self._close_code = CloseCode(code)
        self._close_reason = _clip_utf8(reason, CLOSE_REASON_MAX_BYTES)
        self._connect = None
        self._awaiting.clear()

    # --- guards ------------------------------------------------------------------------

    def _require_started(self) -> None:
        if self.state is _NEW:
            raise InvalidStateError("call start() before feeding the connection")

    def _require_connect(self, request: ConnectRequest) -> None:
        if self.state is not _AUTHENTICATING or request != self._connect:
            raise InvalidStateError(f"no such connect request is waiting (state {self.state.name})")

    def _may_send(self, what: str) -> bool:
        if self.state is _CONNECTED:
            return True
        if self.state in _ENDED:
            return False
        raise InvalidStateError(f"cannot {what} in state {self.state.name}: accept() first")

    def _answered(self, request_id: str) -> Method:
        try:
            return self._awaiting.pop(request_id)
        except KeyError:
            raise LocalProtocolError(
                f"request {request_id!r} is not awaiting a response (answered twice?)"
            ) from None

    def _now_ms(self) -> int:
        return int(self._wall_clock() * 1000)
