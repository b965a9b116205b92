"""Hosting the registry: open it from settings, give its routes to a host, or serve it alone.

The composition root (``gateway.app`` for ``skillyard serve``, ``gateway.cli``
for ``skillyard registry serve``) builds a :class:`HostSettings` from its
configuration and calls these; nothing here reads the environment.

On opening, versions scanned by an older ruleset are scanned again before
the registry serves anything (:meth:`Registry.rescan`), so a verdict shown
is always the current rules' verdict.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from starlette.routing import BaseRoute

from registry.files import DEFAULT_LIMITS, ArchiveLimits
from registry.server.app import create_app, registry_routes
from registry.server.context import ApiSettings
from registry.server.ratelimit import RateSettings
from registry.store.registry import Registry
from registry.store.settings import RegistrySettings

__all__ = ["HostSettings", "host_routes", "open_registry", "serve_standalone"]

log = logging.getLogger("skillyard.registry")


@dataclass(frozen=True, slots=True)
class HostSettings:
    rate: RateSettings = field(default_factory=RateSettings)
    max_archive_bytes: int = 8 * 1024 * 1024
    limits: ArchiveLimits = DEFAULT_LIMITS


def open_registry(root: Path, settings: HostSettings) -> Registry:
    """The registry under ``root``, rescanned if the scanner's rules changed (blocking)."""
    registry = Registry.open(
        root,
        settings=RegistrySettings(
            limits=settings.limits, max_archive_bytes=settings.max_archive_bytes
        ),
    )
    started = time.monotonic()
    count = registry.rescan()
    if count:
        log.info(
            "rescanned %d version(s) with the current rules in %.1f s",
            count,
            time.monotonic() - started,
        )
    return registry


def _api_settings(settings: HostSettings) -> ApiSettings:
    return ApiSettings(rate=settings.rate, max_archive_bytes=settings.max_archive_bytes)


def host_routes(
    registry: Registry, settings: HostSettings, is_admin: Callable[[str], bool]
) -> list[BaseRoute]:
    """``/api/v1`` and ``/marketplace`` for the host's app."""
    return registry_routes(registry, is_admin=is_admin, settings=_api_settings(settings))


async def serve_standalone(
    registry: Registry,
    settings: HostSettings,
    *,
    host: str,
    port: int,
    is_admin: Callable[[str], bool],
    announce: Callable[[str], None],
) -> None:
    """Serve the registry alone until uvicorn stops (SIGINT/SIGTERM); port 0 picks one.

    ``announce`` gets one line with the marketplace's URL once the port is bound.
    """
    app = create_app(registry, is_admin=is_admin, settings=_api_settings(settings))
    config = uvicorn.Config(
        app, host=host, port=port, lifespan="off", log_config=None, access_log=False
    )
    shown = f"[{host}]" if ":" in host else host

    def started(bound: int) -> None:
        announce(f"skillyard registry is ready: http://{shown}:{bound}/marketplace/")

    await _Server(config, started).serve()


class _Server(uvicorn.Server):
    """uvicorn's server, telling us the bound port once it listens (port 0 works)."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[int], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            self._on_started(self.servers[0].sockets[0].getsockname()[1])
