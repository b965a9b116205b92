"""The ``skillyard`` command line.

::

    skillyard serve [--host H] [--port P] [--config FILE]
    skillyard chat [--url ws://127.0.0.1:8700/ws] [--token T] [--session KEY]
    skillyard skills list [--json]
    skillyard config check [--config FILE]

Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

from gateway import __version__
from gateway.config import Config, find_config_file, load_config
from gateway.errors import GatewayError

__all__ = ["main"]

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
    except GatewayError as exc:
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

    config = commands.add_parser("config", help="configuration").add_subparsers(metavar="ACTION")
    check = config.add_parser("check", help="validate the configuration and show the result")
    check.add_argument("--config", type=Path, help="path to skillyard.yaml")
    check.set_defaults(command=_config_check)
    return parser


def _load(args: argparse.Namespace, env: Mapping[str, str]) -> Config:
    overrides = dict(env)
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
    host, port = config.server.host, config.server.port
    try:
        facts = json.loads((config.data_dir / "server.json").read_text())
        host, port = str(facts["host"]), int(facts["port"])
    except (OSError, ValueError, KeyError):
        pass
    shown = f"[{host}]" if ":" in host else host
    return f"ws://{shown}:{port}/ws"


def _skills_list(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from brain.skills import SkillSet
    from gateway.app import brain_settings

    config = _load(args, env)
    skills = SkillSet.load(brain_settings(config).skill_dirs).skills.values()
    rows = [
        {
            "name": s.manifest.name,
            "description": s.manifest.description,
            "tools": [t.name for t in s.tools],
            "command": f"/{s.manifest.name}" if s.command else None,
            "path": str(s.manifest.path),
        }
        for s in skills
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    _print_skill_table(rows)
    return 0


def _print_skill_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("skill", "command", "tools", "description")
    for row in rows:
        table.add_row(
            row["name"], row["command"] or "", ", ".join(row["tools"]), row["description"]
        )
    Console().print(table)


def _config_check(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    path = find_config_file(args.config, env)
    config = load_config(path, env)
    print(f"configuration OK ({path or 'no file: defaults and environment'})")
    print(f"  data dir:   {config.data_dir}")
    print(f"  listen:     {config.server.host}:{config.server.port}")
    print(f"  model:      {config.model.provider}")
    print(f"  queue mode: {config.sessions.queue_mode}")
    token = "SKILLYARD_TOKEN" if config.token else (config.token_file or "generated on first run")
    print(f"  token:      {token}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
