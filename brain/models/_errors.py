"""SDK exceptions → the ``brain.errors.ModelError`` tree, at the provider boundary.

The ``openai`` and ``anthropic`` SDKs raise parallel trees (a status error
carrying the response and its parsed body, a timeout, a connection error);
both map through :func:`status_error`, so a 429 means the same thing whichever
SDK saw it.  What the caller should do decides the class:

* 429, or an ``rate_limit_error`` body → ``RateLimitedError`` (retry, honour ``Retry-After``);
* 401/402/403/404 → ``ModelUnavailableError`` (this provider cannot serve: fall back);
* 408/409/5xx (529 = Anthropic "overloaded"), an ``overloaded_error``/``api_error``
  event mid-stream → retryable ``ModelResponseError``;
* anything else (400: our request was refused) → non-retryable ``ModelResponseError``.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping

import anthropic
import openai

from brain.errors import (
    ModelError,
    ModelResponseError,
    ModelTimeoutError,
    ModelUnavailableError,
    RateLimitedError,
)

__all__ = ["retry_after_seconds", "status_error", "translate_anthropic", "translate_openai"]

_UNAVAILABLE = frozenset({401, 402, 403, 404})
_RETRYABLE_TYPES = {"overloaded_error": 529, "api_error": 500, "rate_limit_error": 429}


def translate_openai(exc: openai.OpenAIError, provider: str) -> ModelError:
    if isinstance(exc, openai.APIStatusError):
        headers = exc.response.headers
        return status_error(exc.status_code, headers, _message(exc.body, exc.message), provider)
    if isinstance(exc, openai.APITimeoutError):
        return ModelTimeoutError("the model did not answer in time", provider=provider)
    if isinstance(exc, openai.APIConnectionError):
        return _unreachable(exc.message, provider)
    return ModelResponseError(f"model error: {exc}", provider=provider)


def translate_anthropic(exc: anthropic.AnthropicError, provider: str) -> ModelError:
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        if status < 400:  # an ``event: error`` inside a 200 stream: classed by its type
            status = _RETRYABLE_TYPES.get(str(exc.type), 400)
        headers = exc.response.headers
        return status_error(status, headers, exc.api_message or exc.message, provider)
    if isinstance(exc, anthropic.APITimeoutError):
        return ModelTimeoutError("the model did not answer in time", provider=provider)
    if isinstance(exc, anthropic.APIConnectionError):
        return _unreachable(exc.message, provider)
    return ModelResponseError(f"model error: {exc}", provider=provider)


def status_error(
    status: int, headers: Mapping[str, str], message: str, provider: str
) -> ModelError:
    text = f"HTTP {status}: {message}"
    if status == 429:
        retry_after = retry_after_seconds(headers)
        hint = f"; retry after {retry_after:g}s" if retry_after is not None else ""
        return RateLimitedError(f"{text}{hint}", provider=provider, retry_after=retry_after)
    if status in _UNAVAILABLE:
        return ModelUnavailableError(text, provider=provider, status=status)
    retryable = status >= 500 or status in (408, 409)
    return ModelResponseError(text, provider=provider, retryable=retryable, status=status)


def _unreachable(detail: str, provider: str) -> ModelError:
    return ModelUnavailableError(
        f"cannot reach the model: {detail}", provider=provider, retryable=True
    )


def _message(body: object, fallback: str) -> str:
    """The server's own ``message`` (the SDKs prefix their own text to it)."""
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping) and isinstance(inner.get("message"), str):
            return str(inner["message"])
    return fallback


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """``retry-after-ms`` (OpenAI) or ``Retry-After`` (RFC 9110: seconds or an HTTP date).

    A value that is not a finite number or a date counts as absent.
    """
    if (ms := _number(headers.get("retry-after-ms"))) is not None:
        return ms / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    if (seconds := _number(value)) is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(when - (time.time() if now is None else now), 0.0)


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return max(value, 0.0) if math.isfinite(value) else None
