"""``slack_sdk`` / aiohttp errors translated into the ``channels.errors`` tree.

::

    channels.errors.ChannelError
    ├── MalformedPayload          a payload we cannot read (the message names the field)
    │   └── MalformedEvent
    ├── ChannelAuthError          invalid_auth, not_authed, token_revoked, … (a token was refused)
    ├── ChannelUnavailable        connection errors, timeouts, Slack's 5xx
    └── ChannelRequestError       any other refusal (channel_not_found, msg_too_long, …)
        └── ChannelRateLimited    HTTP 429 (``Retry-After``) or ``ratelimited``

Slack answers API errors with HTTP 200 and ``{"ok": false, "error": "…"}``;
``slack_sdk`` raises ``SlackApiError`` for those and for non-200 answers.
Tokens travel in the ``Authorization`` header only (``slack_sdk`` redacts it
in its debug log), so no message built here can contain one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from channels.errors import (
    ChannelAuthError,
    ChannelError,
    ChannelRateLimited,
    ChannelRequestError,
    ChannelUnavailable,
    MalformedPayload,
)

__all__ = ["AUTH_ERRORS", "CHANNEL", "MalformedEvent", "retry_after_s", "translated"]

CHANNEL = "slack"
# Slack Web API errors that mean the token itself was refused.
AUTH_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
        "invalid_token",
    }
)
_DEFAULT_RETRY_AFTER_S = 1.0


class MalformedEvent(MalformedPayload):
    """A payload that does not have the shape Slack documents."""

    platform = CHANNEL


@contextmanager
def translated(call: str, *, credential: str = "SLACK_BOT_TOKEN") -> Iterator[None]:
    """Run a Web API call, raising only ``ChannelError``s; ``credential`` (the
    variable holding the token used) is named when the token is refused."""
    try:
        yield
    except SlackApiError as exc:
        raise _api_error(exc, call, credential) from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ChannelUnavailable(f"{call}: cannot reach Slack ({exc!r})", channel=CHANNEL) from exc
    except SlackClientError as exc:
        raise ChannelRequestError(f"{call}: {exc}", channel=CHANNEL) from exc


def _api_error(exc: SlackApiError, call: str, credential: str) -> ChannelError:
    status = _status_of(exc)
    error = _error_of(exc)
    if status == 429 or error == "ratelimited":
        return ChannelRateLimited(
            f"{call}: rate limited", channel=CHANNEL, retry_after_s=retry_after_s(exc)
        )
    if error in AUTH_ERRORS:
        return ChannelAuthError(f"{call}: Slack refused {credential} ({error})", channel=CHANNEL)
    if status is not None and status >= 500:
        return ChannelUnavailable(f"{call}: Slack answered HTTP {status}", channel=CHANNEL)
    shown = error or f"HTTP {status}"
    return ChannelRequestError(f"{call}: {shown}", channel=CHANNEL)


def retry_after_s(exc: SlackApiError) -> float:
    """Seconds to wait, from the ``Retry-After`` header (Slack sends whole seconds)."""
    headers = getattr(exc.response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        seconds = float(value) if value is not None else _DEFAULT_RETRY_AFTER_S
    except ValueError:
        seconds = _DEFAULT_RETRY_AFTER_S
    return seconds if seconds >= 0 else _DEFAULT_RETRY_AFTER_S


def _status_of(exc: SlackApiError) -> int | None:
    # An AsyncSlackResponse has ``status_code``; a body that was not JSON leaves
    # aiohttp's ClientResponse here instead, which has ``status``.
    for name in ("status_code", "status"):
        value = getattr(exc.response, name, None)
        if isinstance(value, int):
            return value
    return None


def _error_of(exc: SlackApiError) -> str | None:
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict):
        error = data.get("error")
        return error if isinstance(error, str) else None
    return None
