"""What every handler gets: the registry, the settings, and the call being answered."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from registry.server.errors import ApiError
from registry.server.ratelimit import RateSettings
from registry.server.spec import InputError, Operation
from registry.store.records import Principal
from registry.store.registry import Registry

__all__ = ["ApiSettings", "Call", "Context", "media_type", "read_body", "read_json"]


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Limits of the HTTP front end (the store has its own package limits).

    ``max_archive_bytes`` caps a publish's body, ``max_json_bytes`` every JSON
    body; ``publish_concurrency`` bounds publishes running at once (each
    unpacks, validates and scans in a worker thread).
    """

    rate: RateSettings = field(default_factory=RateSettings)
    max_archive_bytes: int = 8 * 1024 * 1024
    max_json_bytes: int = 64 * 1024
    publish_concurrency: int = 2


@dataclass(slots=True)
class Context:
    registry: Registry
    settings: ApiSettings
    is_admin: Callable[[str], bool]
    publish_slots: asyncio.Semaphore


@dataclass(frozen=True, slots=True)
class Call:
    """One request: who makes it and its parameters, checked against the document."""

    request: Request
    principal: Principal
    params: dict[str, Any]
    operation: Operation

    def require(self, namespace: str | None = None, *, admin: bool = False) -> None:
        """Raise 401 without credentials, 403 when they do not cover ``namespace``/admin."""
        if not self.principal.authenticated:
            raise ApiError(401, "unauthenticated", "this needs a token (Authorization: Bearer …)")
        if admin and not self.principal.admin:
            raise ApiError(403, "forbidden", "only the registry's admin may do this")
        if namespace is not None and not self.principal.may_act_for(namespace):
            raise ApiError(
                403,
                "forbidden",
                f"your token acts for {self.principal.publisher!r}, not {namespace!r}",
            )


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "payload_too_large", f"the body is over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "payload_too_large", f"the body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def read_json(call: Call, limit: int, *, optional: bool = False) -> Any:
    """The JSON body, checked against the operation's schema (``None`` if optional and absent)."""
    request = call.request
    body = await read_body(request, limit)
    if optional and not body and not request.headers.get("content-type"):
        return None
    if media_type(request) != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "bad_request", f"the body is not JSON: {exc}") from None
    try:
        call.operation.check_body(value)
    except InputError as exc:
        raise ApiError(400, "bad_request", str(exc)) from None
    return value
