"""The lifecycle of one connection, written as data.

Theory of operation
-------------------
A connection moves through five states::

    NEW ──start──▶ CHALLENGED ──connect_received──▶ AUTHENTICATING ──accept──▶ CONNECTED
     │                 │                                 │                         │
     └──────close──────┴─────────────close───────────────┴──────────close──────────┴─▶ CLOSING
                                                                                         │
    any state ─────────────────────────────transport_closed──────────────────────────▶ CLOSED

* ``NEW``: created, nothing sent yet.  ``start()`` queues ``connect.challenge``.
* ``CHALLENGED``: waiting for the client's first frame, which must be a valid
  ``connect`` request; anything else closes with 4002.
* ``AUTHENTICATING``: the ``connect`` request was handed to the shell, which
  checks the token and calls ``accept()`` or ``reject_*()``.  The client must
  wait for the connect result, so any frame arriving now closes with 4002.
* ``CONNECTED``: requests flow in, responses and events flow out.
* ``CLOSING``: the core or the shell decided to close (``close_code`` is set);
  the shell writes the frames still queued, then closes the socket with that
  code.  Input is ignored and further output is dropped.
* ``CLOSED``: the transport is gone.

Every transition is an entry in :data:`TRANSITIONS`; anything else raises
:class:`~gateway.protocol.errors.InvalidStateError`, which always means a bug
in the caller, never a misbehaving peer.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Final

from gateway.protocol.errors import InvalidStateError

__all__ = ["TRANSITIONS", "ConnectionState", "StateMachine", "Trigger"]


class ConnectionState(Enum):
    NEW = "new"
    CHALLENGED = "challenged"
    AUTHENTICATING = "authenticating"
    CONNECTED = "connected"
    CLOSING = "closing"
    CLOSED = "closed"


class Trigger(Enum):
    START = "start"
    CONNECT_RECEIVED = "connect_received"
    ACCEPT = "accept"
    CLOSE = "close"
    TRANSPORT_CLOSED = "transport_closed"


_S = ConnectionState
_T = Trigger

TRANSITIONS: Final[Mapping[ConnectionState, Mapping[Trigger, ConnectionState]]] = {
    _S.NEW: {_T.START: _S.CHALLENGED, _T.CLOSE: _S.CLOSING, _T.TRANSPORT_CLOSED: _S.CLOSED},
    _S.CHALLENGED: {
        _T.CONNECT_RECEIVED: _S.AUTHENTICATING,
        _T.CLOSE: _S.CLOSING,
        _T.TRANSPORT_CLOSED: _S.CLOSED,
    },
    _S.AUTHENTICATING: {
        _T.ACCEPT: _S.CONNECTED,
        _T.CLOSE: _S.CLOSING,
        _T.TRANSPORT_CLOSED: _S.CLOSED,
    },
    _S.CONNECTED: {_T.CLOSE: _S.CLOSING, _T.TRANSPORT_CLOSED: _S.CLOSED},
    _S.CLOSING: {_T.TRANSPORT_CLOSED: _S.CLOSED},
    # The shell may report a lost transport more than once (e.g. from a finally block).
    _S.CLOSED: {_T.TRANSPORT_CLOSED: _S.CLOSED},
}


class StateMachine:
    """Holds a :class:`ConnectionState` and applies :data:`TRANSITIONS`."""

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state = ConnectionState.NEW

    def fire(self, trigger: Trigger) -> ConnectionState:
        """Move to the state ``trigger`` leads to; raise if it is not allowed here."""
        try:
            self.state = TRANSITIONS[self.state][trigger]
        except KeyError:
            raise InvalidStateError(
                f"{trigger.value!r} is not allowed in state {self.state.name}"
            ) from None
        return self.state
