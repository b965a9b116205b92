"""``POST /slack/events`` and ``/slack/interactions``: where Slack delivers in HTTP mode.

Slack signs every request with the app's signing secret (Slack: "Verifying
requests from Slack"): ``X-Slack-Signature: v0=<hex HMAC-SHA256 of
"v0:<timestamp>:<body>">`` with ``X-Slack-Request-Timestamp``.  A request
without a valid signature, or with a timestamp more than 5 minutes from our
clock (a replay), is answered 401 before anything is read from it, and logged
with the reason and the sender's address, never the secret.  A body over
:data:`MAX_BODY_BYTES` gets 413.

Verified requests go to the handler (Bolt, in the adapter), whose answer is
sent as it is: 200 acknowledges the event; anything else makes Slack deliver
it again (``X-Slack-Retry-Num``), so nothing is lost while the adapter is not
connected (503).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from slack_sdk.signature import Clock, SignatureVerifier
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channels.slack.settings import EVENTS_PATH, INTERACTIONS_PATH
from channels.webhooks import read_body

__all__ = ["MAX_BODY_BYTES", "TIMESTAMP_WINDOW_S", "refusal", "webhook_routes"]

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20  # an event is a few KiB; files are fetched separately
TIMESTAMP_WINDOW_S = 300  # Slack: reject requests more than five minutes old

Handler = Callable[[str, Mapping[str, str]], Awaitable[Response]]


class _Clock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


def webhook_routes(
    signing_secret: str, handle: Handler, *, clock: Callable[[], float]
) -> tuple[Route, Route]:
    """The two routes; ``handle`` gets a verified body (text) and its headers."""
    verifier = SignatureVerifier(signing_secret, _Clock(clock))

    async def endpoint(request: Request) -> Response:
        body = await read_body(request, max_bytes=MAX_BODY_BYTES)
        if body is None:
            return _error(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
        reason = refusal(verifier, body, request.headers, now=clock())
        if reason is not None:
            sender = request.client.host if request.client else "?"
            log.warning(
                "slack: refused a request to %s from %s: %s", request.url.path, sender, reason
            )
            return _error(401, "invalid request")
        return await handle(body.decode("utf-8"), request.headers)

    return (
        Route(EVENTS_PATH, endpoint, methods=["POST"]),
        Route(INTERACTIONS_PATH, endpoint, methods=["POST"]),
    )


def refusal(
    verifier: SignatureVerifier, body: bytes, headers: Mapping[str, str], *, now: float
) -> str | None:
    """Why the request is not Slack's, or None when its signature holds."""
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not timestamp or not signature:
        return "no signature"
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return "a malformed timestamp"
    if abs(now - int(timestamp)) > TIMESTAMP_WINDOW_S:
        return "a timestamp outside the 5-minute window (a replay, or a skewed clock)"
    if not signature.isascii():
        return "a malformed signature"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "a body that is not UTF-8"
    if not verifier.is_valid(text, timestamp, signature):
        return "a wrong signature"
    return None


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)
