"""The ``skillyard`` command line.

::

    skillyard serve [--host H] [--port P] [--config FILE]
    skillyard chat [--url ws://127.0.0.1:8700/ws] [--token T] [--session KEY]
    skillyard skills list [--json]
    skillyard skills suggest "TEXT" [--top K] [--json]
    skillyard models list [--json] [--timeout S]
    skillyard pairing list | approve CHANNEL CODE | revoke CHANNEL SENDER
    skillyard config check [--config FILE]
    skillyard registry serve [--host H] [--port P] [--data-dir DIR] [--config FILE]
    skillyard registry rescan [--data-dir DIR] [--config FILE]
    skillyard skill init|validate|pack|publish|search|info|install|update|remove|list|
                    yank|verify|keys|login … (see registry/cli.py)

Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from channels.errors import ChannelAuthError, ChannelConfigError
from gateway import __version__
from gateway.config import Config, find_config_file, load_config
from gateway.errors import GatewayError

if TYPE_CHECKING:
    from gateway.pairing import PairingStore

__all__ = ["REGISTRY_PORT", "main"]

# The standalone registry's default port: next to the gateway's 8700.
REGISTRY_PORT = 8701

Command = Callable[[argparse.Namespace, Mapping[str, str]], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "command"):
        parser.print_help()
        return 2
    command: Command = args.command
    try:
        return command(args, os.environ)
    except (GatewayError, ChannelConfigError, ChannelAuthError) as exc:
        print(f"skillyard: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skillyard", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"skillyard {__version__}")
    commands = parser.add_subparsers(metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gateway, the brain and the chat page")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8700; 0 = any)")
    serve.add_argument("--config", type=Path, help="path to skillyard.yaml")
    serve.set_defaults(command=_serve)

    chat = commands.add_parser("chat", help="chat with a running server from this terminal")
    chat.add_argument("--url", help="WebSocket URL (default: the local server)")
    chat.add_argument("--token", help="access token (default: $SKILLYARD_TOKEN or the local one)")
    chat.add_argument("--session", help="session key to join (default: your main session)")
    chat.add_argument("--config", type=Path, help="path to skillyard.yaml")
    chat.set_defaults(command=_chat)

    skills = commands.add_parser("skills", help="inspect installed skills").add_subparsers(
        metavar="ACTION"
    )
    listing = skills.add_parser("list", help="list the skills the brain can use")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.add_argument("--config", type=Path, help="path to skillyard.yaml")
    listing.set_defaults(command=_skills_list)
    suggest = skills.add_parser("suggest", help="which skills the catalog shows for a message")
    suggest.add_argument("text", help="the message, as a user would send it")
    suggest.add_argument("--top", type=int, default=10, help="at most this many (default 10)")
    suggest.add_argument("--json", action="store_true", help="print JSON")
    suggest.add_argument("--config", type=Path, help="path to skillyard.yaml")
    suggest.set_defaults(command=_skills_suggest)

    models = commands.add_parser("models", help="inspect model providers").add_subparsers(
        metavar="ACTION"
    )
    providers = models.add_parser(
        "list", help="the configured provider and fallbacks, and whether each answers"
    )
    providers.add_argument("--json", action="store_true", help="print JSON")
    providers.add_argument("--timeout", type=float, default=5.0, help="seconds per probe")
    providers.add_argument("--config", type=Path, help="path to skillyard.yaml")
    providers.set_defaults(command=_models_list)

    pairing = commands.add_parser(
        "pairing", help="approve people who message the bot in a chat app"
    ).add_subparsers(metavar="ACTION")
    pending = pairing.add_parser("list", help="pairing codes waiting for approval")
    pending.add_argument("--json", action="store_true", help="print JSON")
    pending.add_argument("--config", type=Path, help="path to skillyard.yaml")
    pending.set_defaults(command=_pairing_list)
    approve = pairing.add_parser("approve", help="let the sender of a code talk to the assistant")
    approve.add_argument("channel", help="telegram, slack or discord")
    approve.add_argument("code", help="the 8-character code the sender received")
    approve.add_argument("--config", type=Path, help="path to skillyard.yaml")
    approve.set_defaults(command=_pairing_approve)
    revoke = pairing.add_parser("revoke", help="forget an approved sender")
    revoke.add_argument("channel")
    revoke.add_argument("sender", help="the sender's platform id")
    revoke.add_argument("--config", type=Path, help="path to skillyard.yaml")
    revoke.set_defaults(command=_pairing_revoke)

    _registry_parser(commands)
    _skill_parser(commands)

    config = commands.add_parser("config", help="configuration").add_subparsers(metavar="ACTION")
    check = config.add_parser("check", help="validate the configuration and show the result")
    check.add_argument("--config", type=Path, help="path to skillyard.yaml")
    check.set_defaults(command=_config_check)
    return parser


def _registry_parser(commands: Any) -> None:
    registry = commands.add_parser(
        "registry", help="the skill registry on its own (skillyard serve includes it)"
    ).add_subparsers(metavar="ACTION")
    serve = registry.add_parser("serve", help="serve the registry API and marketplace alone")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, help=f"port to listen on (default {REGISTRY_PORT}; 0 = any)"
    )
    serve.add_argument("--data-dir", type=Path, help="data dir (default $SKILLYARD_HOME)")
    serve.add_argument("--config", type=Path, help="path to skillyard.yaml")
    serve.set_defaults(command=_registry_serve)
    rescan = registry.add_parser("rescan", help="scan stored versions again with today's rules")
    rescan.add_argument("--data-dir", type=Path, help="data dir (default $SKILLYARD_HOME)")
    rescan.add_argument("--config", type=Path, help="path to skillyard.yaml")
    rescan.set_defaults(command=_registry_rescan)


def _load(args: argparse.Namespace, env: Mapping[str, str]) -> Config:
    overrides = dict(env)
    if getattr(args, "data_dir", None):
        overrides["SKILLYARD_HOME"] = str(args.data_dir)
    if getattr(args, "host", None):
        overrides["SKILLYARD_HOST"] = args.host
    if getattr(args, "port", None) is not None:
        overrides["SKILLYARD_PORT"] = str(args.port)
    return load_config(find_config_file(args.config, env), overrides)


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # httpx logs every request at INFO, long polls included: noise, and URLs can carry tokens.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))


def _run(coro: Coroutine[Any, Any, int | None]) -> int | None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux and macOS
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def _serve(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from gateway.app import serve  # the composition root: imported only to serve

    config = _load(args, env)
    _setup_logging(config.log_level)

    def announce(line: str) -> None:
        print(line, flush=True)

    _run(serve(config, announce=announce))
    return 0


def _chat(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from gateway.auth import resolve_token
    from gateway.terminal_chat import run_chat

    config = _load(args, env)
    url = args.url or _local_url(config)
    token = (
        args.token
        or resolve_token(
            env_token=config.token, token_file=config.token_file, data_dir=config.data_dir
        ).value
    )
    return _run(run_chat(url, token, args.session)) or 0


def _local_url(config: Config) -> str:
    """The URL of the server started from this data dir, else the configured one."""
    return f"ws://{_local_address(config)}/ws"


def _local_address(config: Config) -> str:
    """``host:port`` of the server started from this data dir, else the configured one."""
    host, port = config.server.host, config.server.port
    try:
        facts = json.loads((config.data_dir / "server.json").read_text())
        host, port = str(facts["host"]), int(facts["port"])
    except (OSError, ValueError, KeyError):
        pass
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}"


def _skill_parser(commands: Any) -> None:
    from registry.cli import add_skill_commands

    add_skill_commands(commands, _skill_settings)


def _skill_settings(args: argparse.Namespace, env: Mapping[str, str]) -> Any:
    """What ``skillyard skill`` needs: the registry (``registry.url``, else this machine's
    server, found like ``skillyard chat`` finds it) and the data dir."""
    from urllib.parse import urlsplit

    from gateway.auth import is_loopback, resolve_token
    from registry.cli import CliSettings
    from registry.files import ArchiveLimits

    config = _load(args, env)
    section = config.registry

    def admin_token() -> str:
        return resolve_token(
            env_token=config.token, token_file=config.token_file, data_dir=config.data_dir
        ).value

    url = section.url or f"http://{_local_address(config)}"
    return CliSettings(
        home=config.data_dir,
        registry_url=url,
        registry_key=section.public_key,
        # Only a registry on this machine may see the gateway's token (``login`` as admin).
        local=section.url is None or is_loopback(urlsplit(url).hostname or ""),
        admin_token=admin_token,
        # The same caps the local registry enforces (not gateway.app's: it loads the brain).
        limits=ArchiveLimits(
            max_files=section.max_files,
            max_file_bytes=section.max_file_bytes,
            max_total_bytes=section.max_total_bytes,
        ),
    )


def _skills_list(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from brain.skills import SkillSet
    from gateway.app import brain_settings

    config = _load(args, env)
    loaded = SkillSet.load(brain_settings(config).skill_dirs)
    rows: list[dict[str, Any]] = [
        {
            "name": s.manifest.name,
            "description": s.manifest.description,
            "tools": [t.name for t in s.tools],
            "command": f"/{s.manifest.name}" if s.command else None,
            "path": str(s.manifest.path),
        }
        for s in loaded.skills.values()
    ]
    # Registry installs whose files no longer match the lockfile, or that are blocked.
    rows += [
        {"name": name, "description": "", "tools": [], "command": None, "refused": why}
        for name, why in loaded.refused.items()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    _print_skill_table(rows)
    return 0


def _models_list(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Exit 1 when a configured provider does not answer its probe."""
    from brain.models import ProviderReport, probe_chain
    from gateway.app import brain_settings

    settings = brain_settings(_load(args, env))
    reports: list[ProviderReport] = []

    async def probe() -> None:
        reports.extend(await probe_chain(settings, timeout_s=args.timeout))

    _run(probe())
    if args.json:
        print(json.dumps([r.to_json() for r in reports], indent=2))
    else:
        _print_model_table(reports)
    return 0 if all(r.reachable for r in reports) else 1


def _print_model_table(reports: Sequence[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("role", "provider", "model", "base URL", "key", "context", "reachable")
    for r in reports:
        window = (r.capabilities or {}).get("context_window", "")
        reachable = f"{'yes' if r.reachable else 'NO'}: {r.detail}"
        table.add_row(r.role, r.spec, r.model, r.base_url or "", r.api_key, str(window), reachable)
    Console().print(table)


def _skills_suggest(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from brain.discovery import EmbedderUnavailableError

    if args.top < 1:
        print("skillyard: --top must be at least 1", file=sys.stderr)
        return 2
    try:
        rows = _suggestions(args.text, args.top, _load(args, env))
    except EmbedderUnavailableError as exc:
        print(f"skillyard: discovery.embeddings: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif rows:
        _print_suggestions(rows)
    else:
        print("no installed skill matches that message")
    return 0


def _suggestions(text: str, top: int, config: Config) -> list[dict[str, Any]]:
    """The catalog the brain would build for ``text``, with each entry's scores."""
    from brain.discovery import open_index
    from brain.skills import SkillSet
    from gateway.app import brain_settings

    settings = brain_settings(config)
    index = open_index(
        SkillSet.load(settings.skill_dirs).skills.values(),
        embeddings=settings.discovery.embeddings,
        cache_dir=settings.data_dir / "cache" / "discovery",
    )
    hits = {h.name: h for h in index.search(text, top)}
    entries = index.catalog(text, k=top, budget_tokens=settings.context.catalog_tokens)
    return [
        {
            "rank": rank,
            "name": e.name,
            "score": e.score,
            "lexical": hits[e.name].lexical,
            "similarity": hits[e.name].similarity,
            "description": e.description,
        }
        for rank, e in enumerate(entries, 1)
    ]


def _print_suggestions(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("#", "skill", "score", "description")
    for row in rows:
        table.add_row(str(row["rank"]), row["name"], f"{row['score']:.3f}", row["description"])
    Console().print(table)


def _print_skill_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("skill", "command", "tools", "description")
    for row in rows:
        description = f"REFUSED: {row['refused']}" if "refused" in row else row["description"]
        table.add_row(row["name"], row["command"] or "", ", ".join(row["tools"]), description)
    Console().print(table)


def _pairing_store(args: argparse.Namespace, env: Mapping[str, str]) -> PairingStore:
    from gateway.pairing import PairingStore

    config = _load(args, env)
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return PairingStore.open(config.data_dir / "state.db", clock=time.time)


def _pairing_list(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    store = _pairing_store(args, env)
    requests = store.pending()
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in requests], indent=2))
        return 0
    if not requests:
        print("no pairing codes are waiting")
    for r in requests:
        minutes = max(0, int((r.expires_at - time.time()) // 60))
        print(
            f"{r.channel:9} {r.code}  {r.sender_name or r.sender_id} ({r.sender_id}), "
            f"expires in {minutes} min"
        )
    return 0


def _pairing_approve(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    approved = _pairing_store(args, env).approve(args.channel, args.code)
    if approved is None:
        print(f"skillyard: no live pairing code {args.code!r} on {args.channel}", file=sys.stderr)
        return 1
    who = approved.sender_name or approved.sender_id
    print(f"approved {who} ({approved.sender_id}) on {approved.channel}")
    return 0


def _pairing_revoke(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    if not _pairing_store(args, env).revoke(args.channel, args.sender):
        print(f"skillyard: {args.sender} was not approved on {args.channel}", file=sys.stderr)
        return 1
    print(f"revoked {args.sender} on {args.channel}")
    return 0


def _config_check(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from gateway.app import hosted_channels

    path = find_config_file(args.config, env)
    config = load_config(path, env)
    hosted = hosted_channels(config)  # builds each enabled adapter: checks its settings, no I/O
    print(f"configuration OK ({path or 'no file: defaults and environment'})")
    print(f"  data dir:   {config.data_dir}")
    print(f"  listen:     {config.server.host}:{config.server.port}")
    print(f"  model:      {config.model.provider}")
    print(f"  queue mode: {config.sessions.queue_mode}")
    token = "SKILLYARD_TOKEN" if config.token else (config.token_file or "generated on first run")
    print(f"  token:      {token}")
    channels = ", ".join(h.adapter.capabilities.name for h in hosted) or "none (web page only)"
    print(f"  channels:   {channels}")
    return 0


def _registry_serve(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from gateway.app import registry_host_settings
    from gateway.auth import check_bind_allowed, resolve_token
    from registry.server.host import open_registry, serve_standalone

    config = _load(argparse.Namespace(**{**vars(args), "port": None}), env)
    _setup_logging(config.log_level)
    host = config.server.host
    token = resolve_token(
        env_token=config.token, token_file=config.token_file, data_dir=config.data_dir
    )
    check_bind_allowed(host, token)
    settings = registry_host_settings(config)
    registry = open_registry(config.data_dir / "registry", settings)

    def is_admin(presented: str) -> bool:
        return token.principal_for(presented) is not None

    def announce(line: str) -> None:
        print(line, flush=True)

    port = REGISTRY_PORT if args.port is None else args.port
    try:
        _run(
            serve_standalone(
                registry, settings, host=host, port=port, is_admin=is_admin, announce=announce
            )
        )
    finally:
        registry.close()
    return 0


def _registry_rescan(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from gateway.app import registry_host_settings
    from registry.store import Registry
    from registry.store.settings import RegistrySettings

    config = _load(args, env)
    settings = registry_host_settings(config)
    limits = RegistrySettings(limits=settings.limits, max_archive_bytes=settings.max_archive_bytes)
    registry = Registry.open(config.data_dir / "registry", settings=limits)
    try:
        count = registry.rescan()
    finally:
        registry.close()
    print(f"rescanned {count} version(s) with the current rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
