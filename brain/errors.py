"""The brain's exceptions, classed by what the caller should do.

Tree::

    BrainError                    root of everything the brain raises
    ├── ConfigError               a setting is wrong; ``setting`` names it
    │   ├── BadModelSpecError     ``model`` or a fallback is not a known provider spec
    │   ├── LocalModelMissingError  the GGUF file or llama-cpp-python is missing
    │   └── BadScriptError        a ``scripted:PATH`` script is unreadable or malformed
    ├── ModelError                the provider failed; ``retryable``: may work later
    │   ├── ModelUnavailableError   cannot reach or use the model (connection, auth, name)
    │   ├── RateLimitedError      the provider said "slow down"; ``retry_after`` if known
    │   ├── ModelTimeoutError     the provider did not answer in time
    │   ├── ModelResponseError    an error answer or a malformed response
    │   ├── ScriptExhaustedError  a scripted conversation ran out of steps
    │   └── FallbackExhaustedError  every provider of the fallback chain failed
    ├── TranscriptError           the SQLite transcript store failed
    ├── GuardError                ``brain.guard.errors``: a saved turn or the approval store
    └── LoopProtocolError         the step machine was driven out of order (our bug)

Every turn that does not complete ends in a ``TurnFailed`` whose ``code`` is a
:class:`FailureCode`, or one of the guardrails' exit statuses (``token_budget``,
``time_budget``, ``stuck``, ``format``); :func:`failure_code` maps an exception onto
the first set.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "BadModelSpecError",
    "BadScriptError",
    "BrainError",
    "ConfigError",
    "FailureCode",
    "FallbackExhaustedError",
    "LocalModelMissingError",
    "LoopProtocolError",
    "ModelError",
    "ModelResponseError",
    "ModelTimeoutError",
    "ModelUnavailableError",
    "RateLimitedError",
    "ScriptExhaustedError",
    "TranscriptError",
    "failure_code",
]


class FailureCode(StrEnum):
    """The fixed set of ``TurnFailed.code`` values (documented in ``brain/driver.py``)."""

    MODEL_ERROR = "model_error"
    MODEL_UNAVAILABLE = "model_unavailable"
    TOOL_ERROR = "tool_error"
    STEP_LIMIT = "step_limit"
    BAD_REQUEST = "bad_request"
    INTERNAL = "internal"


class BrainError(Exception):
    """Root of the brain's exceptions."""


class ConfigError(BrainError):
    """A setting is wrong; ``setting`` names the ``BrainSettings`` field."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{setting}: {message}")
        self.setting = setting


class BadModelSpecError(ConfigError):
    pass


class LocalModelMissingError(ConfigError):
    pass


class BadScriptError(ConfigError):
    pass


class ModelError(BrainError):
    """The model provider failed.

    ``retryable`` is true when the same request may succeed later (rate limit,
    timeout, a 5xx); ``provider`` names the provider for logs; ``status`` is
    the HTTP status when the provider answered with one.
    """

    code = FailureCode.MODEL_ERROR

    def __init__(
        self, message: str, *, provider: str, retryable: bool = False, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.retryable = retryable
        self.status = status


class ModelUnavailableError(ModelError):
    code = FailureCode.MODEL_UNAVAILABLE


class RateLimitedError(ModelError):
    def __init__(
        self,
        message: str,
        *,
        provider: str,
        retry_after: float | None = None,
        status: int | None = 429,
    ) -> None:
        super().__init__(message, provider=provider, retryable=True, status=status)
        self.retry_after = retry_after


class ModelTimeoutError(ModelError):
    def __init__(self, message: str, *, provider: str) -> None:
        super().__init__(message, provider=provider, retryable=True)


class ModelResponseError(ModelError):
    pass


class ScriptExhaustedError(ModelError):
    pass


class FallbackExhaustedError(ModelUnavailableError):
    """Every provider of the chain failed; ``failures`` holds each one's error, in order."""

    def __init__(self, failures: tuple[ModelError, ...]) -> None:
        summary = "; ".join(f"{e.provider}: {e}" for e in failures)
        super().__init__(
            f"every model provider failed ({summary})",
            provider=failures[-1].provider if failures else "fallback",
            retryable=any(e.retryable for e in failures),
        )
        self.failures = failures


class TranscriptError(BrainError):
    pass


class LoopProtocolError(BrainError):
    """The step machine was driven out of order: a bug in the driver, never user input."""


def failure_code(exc: BaseException) -> FailureCode:
    """The ``TurnFailed.code`` for an exception that ended a turn."""
    if isinstance(exc, ModelError):
        return exc.code
    return FailureCode.INTERNAL
