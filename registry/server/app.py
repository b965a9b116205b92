"""Assemble the API and the marketplace pages into routes or a standalone app."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from registry.server.api import create_api, http_error
from registry.server.context import ApiSettings
from registry.server.ratelimit import RateLimiter
from registry.server.spec import API_PREFIX
from registry.store.registry import Registry

__all__ = ["MARKETPLACE_PREFIX", "create_app", "registry_routes"]

MARKETPLACE_PREFIX = "/marketplace"


def _nobody(token: str) -> bool:
    return False


def registry_routes(
    registry: Registry,
    *,
    is_admin: Callable[[str], bool] = _nobody,
    settings: ApiSettings | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[BaseRoute]:
    """``/api/v1`` and ``/marketplace`` for a host app; the caller owns ``registry``'s lifetime."""
    # Imported here: the pages use registry.server's rate limiter, and importing
    # registry.server runs this module first.
    from registry.web.pages import create_pages

    api = create_api(registry, is_admin=is_admin, settings=settings or ApiSettings(), clock=clock)
    pages = create_pages(registry, RateLimiter((settings or ApiSettings()).rate, clock))
    return [Mount(API_PREFIX, app=api), Mount(MARKETPLACE_PREFIX, app=pages)]


def create_app(
    registry: Registry,
    *,
    is_admin: Callable[[str], bool] = _nobody,
    settings: ApiSettings | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    """A standalone registry server: the API, the pages, and ``/`` leading to the pages."""

    async def home(request: Request) -> Response:
        return RedirectResponse(f"{MARKETPLACE_PREFIX}/", status_code=302)

    routes = registry_routes(registry, is_admin=is_admin, settings=settings, clock=clock)
    handlers: dict[Any, Any] = {HTTPException: http_error}
    return Starlette(routes=[Route("/", home), *routes], exception_handlers=handlers)
