"""The access token: where it comes from, how it is checked, when binding is allowed.

The token comes from ``SKILLYARD_TOKEN``, else from ``auth.token_file``, else
it is generated once into ``<data_dir>/token`` with mode 0600.  A server bound
to a non-loopback address must have an explicitly configured token: a token
generated on the fly is only fit for a machine's own user.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import AuthError

__all__ = ["OWNER", "AccessToken", "check_bind_allowed", "is_loopback", "resolve_token"]

OWNER = "owner"
_MIN_TOKEN_CHARS = 16


@dataclass(frozen=True, slots=True)
class AccessToken:
    value: str
    source: str  # "env", "file" or "generated"

    @property
    def explicit(self) -> bool:
        return self.source != "generated"

    def principal_for(self, presented: str | None) -> str | None:
        """The principal a presented token authenticates, or None."""
        if presented is None:
            return None
        if hmac.compare_digest(presented.encode(), self.value.encode()):
            return OWNER
        return None


def resolve_token(*, env_token: str | None, token_file: Path | None, data_dir: Path) -> AccessToken:
    if env_token:
        return AccessToken(_checked(env_token, "SKILLYARD_TOKEN"), "env")
    if token_file is not None:
        return AccessToken(_read_token_file(token_file), "file")
    return AccessToken(_generated_token(data_dir / "token"), "generated")


def _checked(token: str, origin: str) -> str:
    token = token.strip()
    if len(token) < _MIN_TOKEN_CHARS:
        raise AuthError(f"{origin}: the token must be at least {_MIN_TOKEN_CHARS} characters")
    return token


def _read_token_file(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        text = path.read_text("utf-8")
    except OSError as exc:
        raise AuthError(f"{path}: cannot read the token file: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AuthError(f"{path}: the token file must not be readable by others (chmod 600)")
    return _checked(text, str(path))


def _generated_token(path: Path) -> str:
    """Read the token generated earlier, or create it atomically with mode 0600."""
    if path.exists():
        return _read_token_file(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return _read_token_file(path)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind_allowed(host: str, token: AccessToken) -> None:
    if not is_loopback(host) and not token.explicit:
        raise AuthError(
            f"refusing to listen on {host}: binding beyond loopback needs an explicit token "
            "(set SKILLYARD_TOKEN or auth.token_file)"
        )
