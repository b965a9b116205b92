"""Token buckets per client: ``rate`` tokens a second, up to ``burst`` saved up.

A request costs :data:`READ_COST` or :data:`WRITE_COST` tokens; when its
bucket is short, the answer is 429 with ``Retry-After``: the whole seconds
until the bucket holds enough again.  Buckets are keyed by the caller's
token id (or ``admin``), else by the client's address, and kept in an LRU
map of at most ``max_clients`` entries, so a flood of addresses costs
bounded memory (an evicted client simply starts with a full bucket).
The clock is injected: tests move time by hand.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["READ_COST", "WRITE_COST", "RateLimiter", "RateSettings"]

READ_COST = 1.0
WRITE_COST = 5.0


@dataclass(frozen=True, slots=True)
class RateSettings:
    rate_per_s: float = 20.0
    burst: float = 120.0
    max_clients: int = 10_000


class RateLimiter:
    def __init__(self, settings: RateSettings, clock: Callable[[], float]) -> None:
        self._settings = settings
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, cost: float) -> float:
        """Spend ``cost`` from ``key``'s bucket: 0.0 if allowed, else seconds to wait."""
        settings, now = self._settings, self._clock()
        cost = min(cost, settings.burst)  # a bucket never holds more than burst
        tokens, then = self._buckets.pop(key, (settings.burst, now))
        tokens = min(settings.burst, tokens + (now - then) * settings.rate_per_s)
        if tokens >= cost:
            self._remember(key, (tokens - cost, now))
            return 0.0
        self._remember(key, (tokens, now))
        return (cost - tokens) / settings.rate_per_s

    def _remember(self, key: str, state: tuple[float, float]) -> None:
        self._buckets[key] = state
        while len(self._buckets) > self._settings.max_clients:
            self._buckets.popitem(last=False)

    @staticmethod
    def retry_after(wait_s: float) -> str:
        """The ``Retry-After`` value: whole seconds, at least 1."""
        return str(max(1, math.ceil(wait_s)))
