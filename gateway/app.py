"""The composition root: build every service from the config, serve, shut down cleanly.

This is the only module that wires the packages together (DESIGN.md §2): the
gateway's store, hub and router, the brain behind the in-process bus, the web
channel's static page, and uvicorn.

Shutdown (SIGINT/SIGTERM, handled by uvicorn): uvicorn stops accepting and
closes the WebSocket connections (close code 1012, "service restart"); then
the router stops taking messages and waits up to ``server.shutdown_grace_s``
for running turns, stops what is left (each stopped turn still gets its stored
``chat.final``), and only then are the brain and the database closed.
Clients that reconnect later resubscribe from their last ``seq`` and get
everything that happened after they were cut off.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import math
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.routing import BaseRoute

from brain import Brain, BrainSettings
from brain.guard import DEFAULT_ALLOW, Budgets, GuardSettings, PermissionPolicy, StuckThresholds
from brain.models import PROVIDER_ENV_VARS, Sampling
from brain.settings import ContextSettings, DiscoverySettings, ToolSettings
from brain.tools.send_file import outbox_dir
from channels.base import AdapterSettings
from channels.web import STATIC_DIR
from gateway import __version__
from gateway.access import AccessPolicy, DmPolicy, GroupPolicy
from gateway.auth import AccessToken, check_bind_allowed, resolve_token
from gateway.bus import InProcessBus
from gateway.channel_host import ChannelHost, HostedChannel
from gateway.config import ChannelSettings, Config
from gateway.files import FileStore, file_routes, sweeping
from gateway.hub import EventHub
from gateway.methods import Methods, ServerFacts
from gateway.pairing import PairingStore
from gateway.protocol import Limits, ServerInfo
from gateway.router import Router, RouterSettings
from gateway.server import AppParts, create_app
from gateway.sessions import QueueMode
from gateway.store import GatewayStore
from registry.diskio import write_atomic
from registry.files import ArchiveLimits
from registry.server.host import HostSettings, host_routes, open_registry
from registry.server.ratelimit import RateSettings
from registry.store import Registry

__all__ = [
    "RunningServer",
    "Runtime",
    "first_party_skills_dir",
    "open_runtime",
    "running_server",
    "serve",
]

log = logging.getLogger("skillyard")


@dataclass(frozen=True, slots=True)
class Runtime:
    config: Config
    token: AccessToken
    store: GatewayStore
    hub: EventHub
    router: Router
    brain: Brain
    methods: Methods
    channels: ChannelHost
    files: FileStore
    registry: Registry | None = None


def first_party_skills_dir() -> Path:
    """``skills/`` next to the packages (source tree) or ``skillyard_skills`` (wheel)."""
    root = Path(__file__).resolve().parent.parent
    for name in ("skills", "skillyard_skills"):
        if (root / name).is_dir():
            return root / name
    return root / "skills"


def brain_settings(config: Config) -> BrainSettings:
    installed = config.data_dir / "skills"
    return BrainSettings(
        model=config.model.provider,
        data_dir=config.data_dir,
        openai_base_url=config.model.base_url,
        openai_api_key=config.model.api_key,
        skill_dirs=(first_party_skills_dir(), installed, *config.skills.dirs),
        skill_env=config.skills.env,
        sandbox_hidden_paths=(config.data_dir, Path.home()),
        max_steps=config.model.max_steps,
        local_model_path=config.model.local_model_path,
        approval_required_tools=config.skills.approval_required,
        tools=tool_settings(config),
        openai_context_window=config.model.context_window,
        openai_timeout_s=config.model.timeout_s,
        openai_max_retries=config.model.max_retries,
        model_fallback=config.model.fallback,
        model_env={k: v for k, v in config.model.env.items() if k in PROVIDER_ENV_VARS},
        model_sampling=Sampling.from_mapping(config.model.sampling),
        history_limit=config.context.max_messages,
        context=context_settings(config),
        guard=guard_settings(config),
        discovery=DiscoverySettings(**config.discovery),
    )


def guard_settings(config: Config) -> GuardSettings:
    """The brain's guardrails; what the config leaves out keeps the brain's default."""
    rules, limits, defaults = config.permissions, config.guard, GuardSettings()
    allow = DEFAULT_ALLOW if rules.allow is None else rules.allow
    policy = PermissionPolicy.from_config(rules.mode, allow=allow, ask=rules.ask, deny=rules.deny)
    budgets = Budgets(
        max_tokens=limits.max_tokens or defaults.budgets.max_tokens,
        max_seconds=limits.max_seconds or defaults.budgets.max_seconds,
    )
    requeries = defaults.max_requeries if limits.max_requeries is None else limits.max_requeries
    stuck = StuckThresholds(**limits.stuck)
    return GuardSettings(permissions=policy, budgets=budgets, stuck=stuck, max_requeries=requeries)


def context_settings(config: Config) -> ContextSettings:
    context, memory = config.context, config.memory
    return ContextSettings(
        compact_at=context.compact_at,
        keep_fraction=context.keep_fraction,
        reserve_tokens=context.reserve_tokens,
        summary_tokens=context.summary_tokens,
        summariser=context.summariser,
        knowledge_top_k=context.knowledge_top_k,
        catalog_entries=context.catalog_entries,
        catalog_tokens=context.catalog_tokens,
        persona_chars=memory.persona_chars,
        user_chars=memory.user_chars,
        task_chars=memory.task_chars,
    )


def tool_settings(config: Config) -> ToolSettings:
    tools = config.tools
    return ToolSettings(
        output_cap_chars=tools.output_cap_chars,
        http_allowlist=tools.http_allowlist,
        http_timeout_s=tools.http_timeout_s,
        python_timeout_s=tools.python_timeout_s,
        python_memory_bytes=tools.python_memory_mb * 1024 * 1024,
        python_require_isolation=tools.python_require_isolation,
        sql_timeout_s=tools.sql_timeout_s,
        send_file_max_bytes=tools.send_file_max_bytes,
    )


def protocol_limits(config: Config) -> Limits:
    settings = config.limits
    return Limits(
        max_frame_bytes=settings.max_frame_bytes,
        rate_per_sec=settings.rate_per_sec,
        burst=settings.burst,
        max_pending_events=settings.max_pending_events,
        tick_interval_ms=settings.tick_interval_ms,
        connect_timeout_ms=settings.connect_timeout_ms,
    )


@asynccontextmanager
async def open_runtime(config: Config, token: AccessToken) -> AsyncIterator[Runtime]:
    """Every service, started in order and stopped in reverse order.

    On the way out, running turns get ``shutdown_grace_s`` to finish while the
    channels can still deliver their replies; then the channels disconnect,
    the router stops what is left, the brain and the database close.  Sent files
    past ``files.keep_days`` are deleted at start-up and then hourly.
    """
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    hosted = hosted_channels(config)  # a misconfigured channel fails before anything starts
    async with contextlib.AsyncExitStack() as stack:
        store = GatewayStore.open(config.data_dir / "state.db")
        stack.callback(store.close)
        brain = await Brain.open(brain_settings(config))
        stack.push_async_callback(brain.aclose)
        bus = InProcessBus(brain)
        hub = EventHub(store)
        router = await stack.enter_async_context(_router(config, store, hub, bus))
        pairing = PairingStore.open(config.data_dir / "state.db", clock=time.time)
        stack.callback(pairing.close)
        files = sent_files(config)
        await stack.enter_async_context(sweeping(files))
        channels = await stack.enter_async_context(
            ChannelHost(hosted, router=router, hub=hub, pairing=pairing, files=files)
        )
        registry = None
        if config.registry.enabled:
            # Blocking: opening may rescan stored versions when the scanner's rules changed.
            registry = await asyncio.to_thread(
                open_registry, config.data_dir / "registry", registry_host_settings(config)
            )
            stack.callback(registry.close)
        # Turns saved at an approval before the last stop continue as new runs.
        resumed = router.resume(await bus.resumptions())
        if resumed:
            log.info("continuing %d turn(s) that wait for an approval", len(resumed))
        methods = Methods(
            token=token,
            store=store,
            hub=hub,
            router=router,
            bus=bus,
            limits=protocol_limits(config),
            facts=ServerFacts(version=__version__, started_at=time.time()),
        )
        yield Runtime(config, token, store, hub, router, brain, methods, channels, files, registry)
        if not await router.wait_idle(config.server.shutdown_grace_s):
            log.warning("stopping the turns still running after the grace period")
        brain.drain()  # turns stopped now keep their approval requests for the next start


def _router(config: Config, store: GatewayStore, hub: EventHub, bus: InProcessBus) -> Router:
    settings = RouterSettings(
        queue_mode=QueueMode(config.sessions.queue_mode),
        max_concurrent_turns=config.sessions.max_concurrent_turns,
        max_queued_per_session=config.sessions.max_queued_per_session,
        turn_timeout_s=config.sessions.turn_timeout_s,
    )
    return Router(store=store, hub=hub, bus=bus, settings=settings)


def hosted_channels(config: Config) -> list[HostedChannel]:
    """An adapter for every enabled channel (its library is imported only then)."""
    return [_hosted(settings, config.data_dir) for settings in config.channels if settings.enabled]


def _hosted(settings: ChannelSettings, data_dir: Path) -> HostedChannel:
    # Imported by name so that a channel's library is loaded only when it is used.
    module = importlib.import_module(f"channels.{settings.name}")
    adapter = module.create_adapter(
        AdapterSettings(
            mode=settings.mode,
            api_base_url=settings.api_base_url,
            file_base_url=settings.file_base_url,
            gateway_url=settings.gateway_url,
            public_url=settings.public_url,
            data_dir=data_dir / "channels" / settings.name,
            secrets=settings.secrets,
        )
    )
    policy = AccessPolicy(
        dm_policy=DmPolicy(settings.dm_policy),
        allow_from=settings.allow_from,
        group_policy=GroupPolicy(settings.group_policy),
        require_mention=settings.require_mention,
    )
    return HostedChannel(adapter, policy, stream=settings.stream)


def readiness(runtime: Runtime) -> Callable[[], dict[str, str]]:
    def checks() -> dict[str, str]:
        return {"store": runtime.store.check(), "router": runtime.router.check()}

    return checks


def registry_host_settings(config: Config) -> HostSettings:
    section = config.registry
    return HostSettings(
        rate=RateSettings(rate_per_s=section.rate_per_sec, burst=float(section.burst)),
        max_archive_bytes=section.max_archive_bytes,
        limits=ArchiveLimits(
            max_files=section.max_files,
            max_file_bytes=section.max_file_bytes,
            max_total_bytes=section.max_total_bytes,
        ),
    )


def registry_mounts(runtime: Runtime) -> list[BaseRoute]:
    """``/api/v1`` and ``/marketplace``; the gateway's access token is the registry's admin."""
    if runtime.registry is None:
        return []

    def is_admin(presented: str) -> bool:
        return runtime.token.principal_for(presented) is not None

    settings = registry_host_settings(runtime.config)
    return host_routes(runtime.registry, settings, is_admin)


def sent_files(config: Config) -> FileStore:
    """The files the brain's ``send_file`` put in its outbox (same data dir)."""
    return FileStore(outbox_dir(config.data_dir), keep_s=config.files.keep_days * 86400)


def download_routes(runtime: Runtime) -> list[BaseRoute]:
    """``GET /files/{session}/{file_id}``: sent files, for the session's owner."""
    return [*file_routes(runtime.files, runtime.store, runtime.token.principal_for)]


def webhook_routes(runtime: Runtime) -> list[BaseRoute]:
    return [route for hosted in runtime.channels.hosted for route in hosted.adapter.http_routes()]


async def serve(config: Config, *, announce: Callable[[str], None] = print) -> None:
    """Run the server until SIGINT/SIGTERM."""
    async with running_server(config) as server:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.stop)
        announce(f"skillyard is ready: {server.page_url}")
        try:
            await server.finished()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


@dataclass(slots=True)
class RunningServer:
    runtime: Runtime
    port: int
    page_url: str
    _uvicorn: _Server
    _task: asyncio.Task[None]

    @property
    def ws_url(self) -> str:
        return f"ws://{_host_for_url(self.runtime.config.server.host)}:{self.port}/ws"

    async def finished(self) -> None:
        """Until uvicorn stops (a signal, or :meth:`stop`)."""
        await asyncio.shield(self._task)

    def stop(self) -> None:
        """Begin a graceful stop; a second call stops without waiting for connections."""
        if self._uvicorn.should_exit:
            self._uvicorn.force_exit = True
        self._uvicorn.should_exit = True


@asynccontextmanager
async def running_server(config: Config) -> AsyncIterator[RunningServer]:
    """Start every service and uvicorn (port 0 picks a free port); stop them on exit."""
    token = resolve_token(
        env_token=config.token, token_file=config.token_file, data_dir=config.data_dir
    )
    check_bind_allowed(config.server.host, token)
    async with open_runtime(config, token) as runtime:
        _warn_without_sandbox(runtime)
        listening: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        server = _Server(_uvicorn_config(config, runtime), listening.set_result)
        task = asyncio.create_task(server.serve(), name="uvicorn")
        try:
            port = await _first_of(listening, task)
            _write_server_file(config.data_dir, config.server.host, port)
            url = _page_url(config.server.host, port, token)
            running = RunningServer(runtime, port, url, server, task)
            yield running
        finally:
            server.should_exit = True
            await asyncio.gather(task, return_exceptions=True)


async def _first_of(listening: asyncio.Future[int], serving: asyncio.Task[None]) -> int:
    """The bound port, or the reason uvicorn stopped before listening."""
    either: list[asyncio.Future[Any]] = [listening, serving]
    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    if listening.done():
        return listening.result()
    with contextlib.suppress(SystemExit):  # uvicorn exits when it cannot bind; it logged why
        serving.result()
    raise OSError("the server stopped before it started listening (is the port in use?)")


def _warn_without_sandbox(runtime: Runtime) -> None:
    if runtime.brain.sandbox_mode != "bwrap":
        log.warning(
            "bubblewrap (bwrap) is not available: skill scripts run with resource limits "
            "only, without filesystem and network isolation. Install it (apt-get install "
            "bubblewrap) before running skills you did not write."
        )


def _uvicorn_config(config: Config, runtime: Runtime) -> uvicorn.Config:
    parts = AppParts(
        methods=runtime.methods,
        server_info=ServerInfo(name="skillyard", version=__version__),
        static_dir=STATIC_DIR,
        readiness=readiness(runtime),
        channel_status=runtime.channels.status,
        extra_routes=[
            *download_routes(runtime),
            *webhook_routes(runtime),
            *registry_mounts(runtime),
        ],
        max_connections=config.limits.max_connections,
    )
    return uvicorn.Config(
        create_app(parts),
        host=config.server.host,
        port=config.server.port,
        # Measured: the sans-I/O websockets backend is 1.7x the legacy one here.
        ws="websockets-sansio",
        ws_max_size=config.limits.max_frame_bytes,
        # Compression costs ~40 KiB per connection and CPU on every frame.
        ws_per_message_deflate=False,
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=math.ceil(config.server.shutdown_grace_s),
    )


class _Server(uvicorn.Server):
    """uvicorn's server, telling us the bound port once it listens (port 0 works)."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[int], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn would re-raise SIGTERM/SIGINT after serving, killing the process
        # before our own shutdown (draining turns) runs: serve() handles signals.
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            self._on_started(self.servers[0].sockets[0].getsockname()[1])


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _page_url(host: str, port: int, token: AccessToken) -> str:
    # The token travels in the fragment: browsers never send it to the server.
    return f"http://{_host_for_url(host)}:{port}/#token={token.value}"


def _write_server_file(data_dir: Path, host: str, port: int) -> None:
    """Let ``skillyard chat`` find this server without being told."""
    data = json.dumps({"host": host, "port": port, "pid": os.getpid()}).encode()
    write_atomic(data_dir / "server.json", data, mode=0o644, durable=False)
