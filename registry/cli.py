"""``skillyard skill …``: author, publish, find, install and verify skills from a terminal.

::

    skillyard skill init NAME [--dir DIR] [--description TEXT]
    skillyard skill validate [PATH]          skillyard skill pack [PATH] [-o FILE]
    skillyard skill publish [PATH] [--key NAME]
    skillyard skill search [WORDS…] [--owner O] [--verdict V] [--sort S] [--limit N]
    skillyard skill info OWNER/NAME[@RANGE]
    skillyard skill install OWNER/NAME[@RANGE] [--yes] [--reinstall]
    skillyard skill update [OWNER/NAME…] [--yes]
    skillyard skill remove OWNER/NAME        skillyard skill list
    skillyard skill yank OWNER/NAME@VERSION [--reason TEXT] [--undo]
    skillyard skill verify [OWNER/NAME…] [--online]
    skillyard skill keys generate|list|register [--name NAME]
    skillyard skill login [--token TOKEN|-] [--publisher NAME]

Every command takes ``--json`` (one JSON document on stdout) and
``--config``.  Exit codes: 0 done, 1 refused or failed (the message says
why), 2 bad usage.  This package imports nothing of the gateway: the
``skillyard`` entry point builds a :class:`CliSettings` from the
configuration and passes it in (:func:`add_skill_commands`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from registry.cli_output import Output
from registry.client import ClientSettings, RegistryClient, api_url
from registry.client_errors import BadReference, ClientError, VerificationError
from registry.client_secrets import Credentials, KeyRing
from registry.errors import RegistryError
from registry.files import DEFAULT_LIMITS, ArchiveLimits
from registry.install import InstallSettings
from registry.install_trust import KNOWN_REGISTRIES, TrustStore

__all__ = ["CliSettings", "Handler", "SettingsFactory", "add_skill_commands"]


@dataclass(frozen=True, slots=True)
class CliSettings:
    """What the commands need, built once by the entry point.

    ``registry_url`` is the API (``…/api/v1``); ``local`` says it is this
    machine's own server, where ``login`` may create a publisher with the
    gateway's access token (``admin_token``, asked for only then).
    ``registry_key`` pins the registry's key (base64, key id or fingerprint).
    """

    home: Path
    registry_url: str
    registry_key: str | None = None
    local: bool = True
    admin_token: Callable[[], str] | None = field(default=None, repr=False, compare=False)
    python: Path = field(default_factory=lambda: Path(sys.executable))
    limits: ArchiveLimits = DEFAULT_LIMITS

    @property
    def api(self) -> str:
        return api_url(self.registry_url)

    def credentials(self) -> Credentials:
        return Credentials(self.home / "credentials")

    def keyring(self) -> KeyRing:
        return KeyRing(self.home / "keys")

    def trust(self) -> TrustStore:
        return TrustStore(self.home / KNOWN_REGISTRIES, pinned_key=self.registry_key)

    def install(self) -> InstallSettings:
        return InstallSettings(self.home, self.python, self.limits)

    def client(self, *, token: str | None = None, stored: bool = False) -> RegistryClient:
        """A client of the registry with ``token``, or with the stored one if ``stored``."""
        if stored and token is None:
            credential = self.credentials().get(self.api)
            token = credential.token if credential else None
        return RegistryClient(ClientSettings(self.api, token=token))


SettingsFactory = Callable[[argparse.Namespace, Mapping[str, str]], CliSettings]
Handler = Callable[[argparse.Namespace, CliSettings, Output], int]
Command = Callable[[argparse.Namespace, Mapping[str, str]], int]
Bind = Callable[[Handler], Command]


def add_skill_commands(commands: Any, settings: SettingsFactory) -> None:
    """Add ``skill`` and its actions to ``commands`` (an argparse subparsers object).

    Each action is set as ``command``: ``command(args, env) -> exit code``.
    """
    from registry import cli_author, cli_browse, cli_install

    actions = commands.add_parser(
        "skill", help="author, publish, find, install and verify skills"
    ).add_subparsers(metavar="ACTION")

    def bind(handler: Handler) -> Command:
        return lambda args, env: _run(handler, args, env, settings)

    for module in (cli_author, cli_browse, cli_install):
        module.register(actions, bind)


def common(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options every action takes."""
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--config", type=Path, help="path to skillyard.yaml")
    return parser


def _run(
    handler: Handler, args: argparse.Namespace, env: Mapping[str, str], factory: SettingsFactory
) -> int:
    out = Output(bool(getattr(args, "json", False)))
    try:
        return handler(args, factory(args, env), out)
    except BadReference as exc:
        out.error(type(exc).__name__, str(exc))
        return 2
    except VerificationError as exc:
        out.error(type(exc).__name__, str(exc), {"skill": exc.skill, "check": exc.check})
        return 1
    except (RegistryError, OSError) as exc:
        extra = _remote_details(exc) if isinstance(exc, ClientError) else None
        out.error(type(exc).__name__, str(exc), extra)
        return 1


def _remote_details(exc: ClientError) -> dict[str, Any] | None:
    details = getattr(exc, "details", ())
    return {"code": getattr(exc, "code", None), "details": list(details)} if details else None
