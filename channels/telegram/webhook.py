"""``POST /telegram/webhook``: where Telegram delivers updates in webhook mode.

Telegram sends each update as a JSON body with the secret we gave ``setWebhook``
in ``X-Telegram-Bot-Api-Secret-Token``.  A request without the right secret is
answered 403 and logged without the secret (compared in constant time).  An
update is handled before the answer: 200 means it reached the gateway; a
non-2xx answer makes Telegram deliver it again later, so nothing is lost while
the adapter is down (503) or when a body cannot be read (400, 413).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channels.telegram.errors import MalformedUpdate
from channels.telegram.settings import WEBHOOK_PATH
from channels.webhooks import read_body

__all__ = ["MAX_BODY_BYTES", "SECRET_HEADER", "NotReceiving", "webhook_route"]

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
MAX_BODY_BYTES = 1 << 20  # an update is a few KiB; files are fetched separately

UpdateHandler = Callable[[Mapping[str, object]], Awaitable[None]]


class NotReceiving(Exception):
    """The adapter is not connected; Telegram should deliver the update again later."""


def webhook_route(secret: str, handle: UpdateHandler) -> Route:
    """The route; ``handle`` processes one update or raises ``MalformedUpdate`` /
    :class:`NotReceiving`."""

    async def endpoint(request: Request) -> Response:
        if not _secret_matches(request.headers.get(SECRET_HEADER), secret):
            client = request.client.host if request.client else "?"
            log.warning("telegram webhook: refused a request from %s: wrong or no secret", client)
            return _error(403, "forbidden")
        body = await read_body(request, max_bytes=MAX_BODY_BYTES)
        if body is None:
            return _error(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
        try:
            await handle(_update(body))
        except MalformedUpdate as exc:
            log.warning("telegram webhook: refused an update: %s", exc)
            return _error(400, str(exc))
        except NotReceiving:
            return _error(503, "not receiving updates right now")
        return JSONResponse({"ok": True})

    return Route(WEBHOOK_PATH, endpoint, methods=["POST"])


def _secret_matches(presented: str | None, expected: str) -> bool:
    if presented is None:
        return False
    # Header values arrive as latin-1 text; compare bytes so any value is comparable.
    return hmac.compare_digest(presented.encode("latin-1"), expected.encode("latin-1"))


def _update(body: bytes) -> Mapping[str, object]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedUpdate(f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedUpdate("the body must be a JSON object (one update)")
    return data


def _error(status: int, message: str) -> Response:
    return JSONResponse({"ok": False, "error": message}, status_code=status)
