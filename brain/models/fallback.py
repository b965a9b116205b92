"""A chain of providers: when one cannot answer a call, the next one does.

"Cannot answer" means the provider is unavailable (connection refused, bad
key, unknown model: ``ModelUnavailableError``) or failed in a way that is
retryable and was already retried (``RetryingProvider`` sits inside each link
and gave up).  A refused request (HTTP 400) is not passed on: the next
provider would most likely refuse it too, and the error names the problem.
Nothing is passed on once a chunk has been streamed.  Which provider
answered is logged; when all fail, ``FallbackExhaustedError`` lists why.

The chain reports its first provider's capabilities: the brain plans each
turn for the provider it expects to answer.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing

from brain.errors import FallbackExhaustedError, ModelError, ModelUnavailableError
from brain.models.base import Capabilities, ModelChunk, ModelProvider, ModelRequest, ModelResult

__all__ = ["FallbackProvider"]

log = logging.getLogger(__name__)


class FallbackProvider:
    def __init__(self, providers: Sequence[ModelProvider]) -> None:
        if not providers:
            raise ValueError("a fallback chain needs at least one provider")
        self.providers = tuple(providers)
        self.name = self.providers[0].name

    @property
    def capabilities(self) -> Capabilities:
        return self.providers[0].capabilities

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ModelChunk, None]:
        failures: list[ModelError] = []
        for provider in self.providers:
            started = False
            try:
                async with aclosing(provider.stream(request)) as chunks:
                    async for chunk in chunks:
                        started = True
                        if isinstance(chunk, ModelResult):
                            _log_answer(provider.name, failures)
                        yield chunk
                return
            except ModelError as exc:
                if started or not _passes_on(exc):
                    raise
                failures.append(exc)
                log.warning("model %s failed (%s); trying the next provider", provider.name, exc)
        raise FallbackExhaustedError(tuple(failures))

    async def aclose(self) -> None:
        errors: list[BaseException] = []
        for provider in self.providers:
            try:
                await provider.aclose()
            except Exception as exc:  # close the others, then report
                errors.append(exc)
        if errors:
            raise errors[0]


def _passes_on(error: ModelError) -> bool:
    return isinstance(error, ModelUnavailableError) or error.retryable


def _log_answer(name: str, failures: list[ModelError]) -> None:
    if failures:
        failed = ", ".join(e.provider for e in failures)
        log.info("model call answered by fallback %s (after %s failed)", name, failed)
    else:
        log.debug("model call answered by %s", name)
