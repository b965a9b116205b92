"""The client's secrets: registry tokens and publisher signing keys, mode 0600 only.

* ``$SKILLYARD_HOME/credentials``: JSON ``{"registries": {<api url>: {"token",
  "publisher"}}}``, one token per registry, written through a file created
  with mode 0600 and refused when others can read it;
* ``$SKILLYARD_HOME/keys/<name>.ed25519``: a raw Ed25519 seed per key
  (:func:`registry.signing.load_or_create_key`), ``default`` unless named.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from registry.client_errors import LockfileError
from registry.lockfile import write_json_atomic
from registry.signing import KeyFormatError, SigningKey, load_or_create_key

__all__ = ["Credential", "Credentials", "KeyRing"]

_KEY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SUFFIX = ".ed25519"


@dataclass(frozen=True, slots=True)
class Credential:
    publisher: str
    token: str = field(repr=False)


class Credentials:
    """Tokens by registry URL in the file at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, Credential]:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise LockfileError(self.path, f"cannot be read: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as file:
            if os.fstat(file.fileno()).st_mode & 0o077:
                raise LockfileError(self.path, "others can read it; run chmod 600 on it")
            text = file.read(1024 * 1024)
        try:
            raw = json.loads(text)["registries"]
            return {url: Credential(str(v["publisher"]), str(v["token"])) for url, v in raw.items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise LockfileError(self.path, f"is not a credentials file ({exc})") from None

    def get(self, url: str) -> Credential | None:
        return self._read().get(url)

    def put(self, url: str, credential: Credential) -> None:
        stored = {**self._read(), url: credential}
        body = {u: {"publisher": c.publisher, "token": c.token} for u, c in stored.items()}
        write_json_atomic(self.path, {"registries": body}, mode=0o600)


class KeyRing:
    """Signing keys under ``folder`` (``$SKILLYARD_HOME/keys``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, name: str) -> Path:
        if not _KEY_NAME.match(name):
            raise KeyFormatError(f"{name!r} is not a key name (letters, digits, . _ -)")
        return self.folder / f"{name}{_SUFFIX}"

    def generate(self, name: str) -> SigningKey:
        """A new key ``name``; ``FileExistsError`` if one exists (keys are never replaced)."""
        path = self.path(name)
        if path.exists():
            raise FileExistsError(f"{path} exists; a key is never overwritten")
        return load_or_create_key(path)

    def load(self, name: str) -> SigningKey:
        """Key ``name``; raises ``FileNotFoundError`` or :class:`KeyFormatError`."""
        path = self.path(name)
        if not path.is_file():
            raise FileNotFoundError(
                f"no signing key {name!r} at {path}: run skillyard skill keys generate"
            )
        return load_or_create_key(path)

    def names(self) -> list[str]:
        try:
            entries = sorted(self.folder.iterdir())
        except FileNotFoundError:
            return []
        return [
            p.name.removesuffix(_SUFFIX)
            for p in entries
            if p.name.endswith(_SUFFIX) and stat.S_ISREG(p.lstat().st_mode)
        ]
