"""Value objects the server shell builds once and hands to every connection."""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["Limits", "ServerInfo"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Safe defaults for one connection; every value must be a positive integer.

    The first five are advertised to the client in the ``connect`` result.
    ``max_frame_bytes`` counts UTF-8 bytes of one client frame; the shell
    should set its WebSocket library's message size limit to the same value so
    that an oversized frame is refused before it is buffered.
    """

    max_frame_bytes: int = 1_048_576
    rate_per_sec: int = 20
    burst: int = 40
    max_pending_events: int = 1024
    tick_interval_ms: int = 15_000
    # Not advertised: they bound a client before or while it misbehaves.
    connect_timeout_ms: int = 10_000
    max_handshake_frame_bytes: int = 16_384
    max_rejected_frames: int = 100

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if type(value) is not int or value < 1:
                raise ValueError(f"Limits.{f.name} must be a positive integer, got {value!r}")

    def advertised(self) -> dict[str, int]:
        """The ``limits`` object of the connect result."""
        return {
            "max_frame_bytes": self.max_frame_bytes,
            "rate_per_sec": self.rate_per_sec,
            "burst": self.burst,
            "max_pending_events": self.max_pending_events,
            "tick_interval_ms": self.tick_interval_ms,
        }


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """``server`` in the connect result."""

    name: str
    version: str
