"""A token bucket driven by an injected clock.

The bucket holds at most ``burst`` tokens and gains ``rate`` tokens per second
of the clock.  Each inbound frame takes one token; when none is left the frame
is refused and the caller learns how long until the next token arrives.  The
clock is any callable returning seconds (``time.monotonic`` in production, a
fake in tests), so the bucket itself never sleeps or reads the time.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    __slots__ = ("_burst", "_clock", "_last", "_rate", "_tokens")

    def __init__(self, *, rate: float, burst: int, clock: Callable[[], float]) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"need rate > 0 and burst >= 1, got rate={rate!r} burst={burst!r}")
        self._rate = float(rate)
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()

    @property
    def tokens(self) -> float:
        """Tokens available now (refills first)."""
        self._refill()
        return self._tokens

    def try_acquire(self) -> float:
        """Take a token if there is one.

        Returns ``0.0`` when a token was taken, otherwise the seconds to wait
        until one will be available (nothing is taken then).
        """
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self._rate

    def retry_after_ms(self, wait_seconds: float) -> int:
        """``wait_seconds`` as whole milliseconds, rounded up and at least 1."""
        return max(1, math.ceil(wait_seconds * 1000.0))

    def _refill(self) -> None:
        now = self._clock()
        # A clock that steps backwards must not drain the bucket.
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
