"""Retries with exponential backoff and jitter, around any provider.

The SDKs' own retries are switched off (``max_retries=0``) so that this one
policy decides for every HTTP provider, and so that tests can inject the
sleep and the random source instead of waiting.

A call is retried only before its first chunk: once text has been streamed
to the user, a second attempt would repeat it, so a later failure goes up.
A ``Retry-After`` the provider sent is honoured exactly; one longer than
``max_retry_after_s`` is not waited for (the error goes up, and a fallback
provider, if configured, answers instead).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass

from brain.errors import ModelError, RateLimitedError
from brain.models.base import Capabilities, ModelChunk, ModelProvider, ModelRequest

__all__ = ["RetryPolicy", "RetryingProvider"]

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 2
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0
    max_retry_after_s: float = 60.0

    def delay(self, attempt: int, error: ModelError, rand: float) -> float | None:
        """Seconds to wait before retry ``attempt + 1`` (0-based), or None to give up.

        ``rand`` is uniform in [0, 1): "equal jitter", half the backoff fixed
        and half random, so clients that failed together do not return together.
        """
        if attempt >= self.max_retries or not error.retryable:
            return None
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.max_retry_after_s else None
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0**attempt)
        return ceiling / 2 + rand * ceiling / 2


class RetryingProvider:
    """``inner`` with retries; the same name and capabilities."""

    def __init__(
        self,
        inner: ModelProvider,
        policy: RetryPolicy,
        *,
        sleep: Sleep = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self._policy = policy
        self._sleep = sleep
        self._rand = rand

    @property
    def capabilities(self) -> Capabilities:
        return self.inner.capabilities

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ModelChunk, None]:
        attempt = 0
        while True:
            started = False
            try:
                async with aclosing(self.inner.stream(request)) as chunks:
                    async for chunk in chunks:
                        started = True
                        yield chunk
                return
            except ModelError as exc:
                delay = None if started else self._policy.delay(attempt, exc, self._rand())
                if delay is None:
                    raise
                log.warning("model %s: %s; retry %d in %.2fs", self.name, exc, attempt + 1, delay)
            await self._sleep(delay)
            attempt += 1

    async def aclose(self) -> None:
        await self.inner.aclose()
