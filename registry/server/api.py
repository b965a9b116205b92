"""The ``/api/v1`` application: routes built from ``openapi.json``, one wrapper for all of them.

Every route comes from the document's ``paths`` (so the document and the
server cannot list different operations) and goes through :func:`_endpoint`:

1. the caller is identified from ``Authorization: Bearer``: the admin (the
   token the host says is the admin's), a publisher (a registry token), or
   anonymous; a token that is not valid is a 401 (after it is rate limited by
   address, so guessing tokens is slow);
2. the caller's token bucket pays for the request (429 + ``Retry-After``);
3. an operation the document guards needs credentials (401), before anything
   else about the request is looked at;
4. the parameters are converted and checked against the document (400);
5. the handler runs; the store's refusals become JSON errors at this boundary.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry.semver import VersionSyntaxError
from registry.server.context import ApiSettings, Call, Context
from registry.server.errors import ApiError, error_for, error_response
from registry.server.handlers_publishers import LOG_HANDLERS, PUBLISHER_HANDLERS
from registry.server.handlers_skills import SKILL_HANDLERS
from registry.server.ratelimit import READ_COST, WRITE_COST, RateLimiter
from registry.server.spec import ApiSpec, InputError, Operation, openapi_document
from registry.signing import KeyFormatError
from registry.store.errors import StoreError, Unauthenticated
from registry.store.records import ANONYMOUS, Principal
from registry.store.registry import Registry
from registry.translog import ProofError

__all__ = ["HANDLERS", "create_api", "http_error"]

Handler = Callable[[Context, Call], Awaitable[Response]]
HANDLERS: dict[str, Handler] = {**SKILL_HANDLERS, **PUBLISHER_HANDLERS, **LOG_HANDLERS}
_HANDLED = (ApiError, StoreError, VersionSyntaxError, KeyFormatError, ProofError)
# API answers are data: never rendered, framed or sniffed by a browser.
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]


def create_api(
    registry: Registry,
    *,
    is_admin: Callable[[str], bool],
    settings: ApiSettings,
    clock: Callable[[], float],
) -> ASGIApp:
    """The API app, to be mounted at ``/api/v1``; ``is_admin(token)`` says who the admin is."""
    document = openapi_document()
    spec = ApiSpec(document)
    slots = asyncio.Semaphore(settings.publish_concurrency)
    context = Context(registry, settings, is_admin, slots)
    limiter = RateLimiter(settings.rate, clock)
    routes = [Route("/openapi.json", _document, methods=["GET"])]
    for path, item in document["paths"].items():
        endpoints = {
            method.upper(): _endpoint(context, limiter, spec[operation["operationId"]], method)
            for method, operation in item.items()
        }
        methods = [*endpoints, "OPTIONS"]
        routes.append(
            Route(path.replace("{path}", "{path:path}"), _dispatch(endpoints), methods=methods)
        )
    handlers: dict[Any, Any] = {HTTPException: http_error}
    return _Headers(Starlette(routes=routes, exception_handlers=handlers))


async def _document(request: Request) -> Response:
    return JSONResponse(openapi_document())


def _dispatch(
    endpoints: dict[str, Callable[[Request], Awaitable[Response]]],
) -> Callable[[Request], Awaitable[Response]]:
    """One route per path, so a 405 or an OPTIONS lists exactly the documented methods."""
    if "GET" in endpoints:
        endpoints = {**endpoints, "HEAD": endpoints["GET"]}
    allow = ", ".join([*endpoints, "OPTIONS"])

    async def dispatch(request: Request) -> Response:
        endpoint = endpoints.get(request.method)
        if endpoint is not None:
            return await endpoint(request)
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": allow})
        message = f"{request.method} is not allowed here; use {allow}"
        return error_response(405, "method_not_allowed", message, headers={"Allow": allow})

    return dispatch


def _endpoint(
    context: Context, limiter: RateLimiter, operation: Operation, method: str
) -> Callable[[Request], Awaitable[Response]]:
    handler = HANDLERS[operation.operation_id]
    cost = READ_COST if method == "get" else WRITE_COST

    async def endpoint(request: Request) -> Response:
        try:
            principal = _identify(context, limiter, request)
            _pay(limiter, _bucket(principal, request), cost)
            if operation.secured and not principal.authenticated:
                raise Unauthenticated("this needs a token (Authorization: Bearer …)")
            params = operation.parse(request.path_params, request.query_params, request.headers)
            return await handler(context, Call(request, principal, params, operation))
        except InputError as exc:
            return error_response(400, "bad_request", str(exc))
        except _HANDLED as exc:
            return error_for(exc)

    return endpoint


def _identify(context: Context, limiter: RateLimiter, request: Request) -> Principal:
    header = request.headers.get("authorization")
    if header is None:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    token = token.strip()
    try:
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("send credentials as 'Authorization: Bearer <token>'")
        if context.is_admin(token):
            return Principal(admin=True)
        return context.registry.publishers.authenticate(token)
    except Unauthenticated:
        _pay(limiter, _address(request), WRITE_COST)
        raise


def _bucket(principal: Principal, request: Request) -> str:
    if principal.admin:
        return "admin"
    if principal.token_id is not None:
        return f"token:{principal.token_id}"
    return _address(request)


def _address(request: Request) -> str:
    return f"address:{request.client.host if request.client else 'unknown'}"


def _pay(limiter: RateLimiter, key: str, cost: float) -> None:
    wait = limiter.take(key, cost)
    if wait:
        retry = limiter.retry_after(wait)
        raise ApiError(
            429,
            "rate_limited",
            f"too many requests; retry in {retry} s",
            headers={"Retry-After": retry},
        )


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no route, wrong method) as the API's JSON errors."""
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    code = codes.get(exc.status_code, "bad_request")
    headers = dict(exc.headers or {})
    return error_response(exc.status_code, code, str(exc.detail), headers=headers)


class _Headers:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)
