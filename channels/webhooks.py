"""What every webhook route needs: the request body, read within a size cap.

Telegram and Slack push updates to routes on the gateway's own port; a body
larger than the cap is never read whole (the declared ``Content-Length`` is
checked first, then the bytes as they come), so a client cannot make the
gateway buffer without bound.
"""

from __future__ import annotations

from starlette.requests import Request

__all__ = ["read_body"]


async def read_body(request: Request, *, max_bytes: int) -> bytes | None:
    """The body, or None when it is larger than ``max_bytes`` (answer 413 then)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
