"""Prometheus metrics of the gateway, served at ``/metrics``.

One registry for the process (Prometheus' model: a process exports one set of
time series); it is separate from the client library's default registry so
that nothing else registers into what we export.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["METRICS", "Metrics"]


@dataclass(frozen=True, slots=True)
class Metrics:
    registry: CollectorRegistry
    connections: Gauge
    frames_in: Counter
    frames_out: Counter
    protocol_errors: Counter
    turns_started: Counter
    turns_ended: Counter
    turn_seconds: Histogram
    duplicates: Counter
    slow_consumers: Counter

    @classmethod
    def create(cls) -> Metrics:
        registry = CollectorRegistry(auto_describe=True)
        return cls(
            registry=registry,
            connections=Gauge(
                "skillyard_ws_connections", "Open WebSocket connections", registry=registry
            ),
            frames_in=Counter("skillyard_ws_frames_in", "Frames received", registry=registry),
            frames_out=Counter("skillyard_ws_frames_out", "Frames sent", registry=registry),
            protocol_errors=Counter(
                "skillyard_protocol_errors",
                "Error responses sent, by code",
                ["code"],
                registry=registry,
            ),
            turns_started=Counter("skillyard_turns_started", "Turns started", registry=registry),
            turns_ended=Counter(
                "skillyard_turns_ended", "Turns ended, by final state", ["state"], registry=registry
            ),
            turn_seconds=Histogram(
                "skillyard_turn_seconds",
                "Wall-clock time of a turn",
                buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300),
                registry=registry,
            ),
            duplicates=Counter(
                "skillyard_duplicate_messages", "Messages dropped as duplicates", registry=registry
            ),
            slow_consumers=Counter(
                "skillyard_slow_consumers", "Connections closed for not reading", registry=registry
            ),
        )


METRICS = Metrics.create()
