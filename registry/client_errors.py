"""What the client side of the registry raises: talking to it, verifying, installing.

Tree (all under :class:`registry.errors.RegistryError`)::

    ClientError                 root of the client side; the message is complete on its own
    ├── RemoteError             the registry answered with an error: ``status``, ``code``
    │   │                       (the API's stable word), its ``message`` and ``details``
    │   ├── AuthRequired        401/403: log in, or use a token that covers the namespace
    │   └── RateLimited         429 even after waiting ``Retry-After`` as often as allowed
    ├── BadReference            not ``owner/name[@range]`` (or ``@version`` where one is needed)
    ├── Unreachable             no answer at all (refused, timed out, DNS): ``url`` named
    ├── BadAnswer               an answer that breaks the API's OpenAPI document
    ├── VerificationError       what the registry served does not check out: ``check`` names
    │                           the check (content hash, publisher signature, registry
    │                           signature, registry key, log inclusion, log consistency);
    │                           nothing is installed, retrying the same registry cannot help
    ├── Declined                not installed by choice: the user said no, or the verdict
    │                           is ``block``
    ├── LockfileError           the lockfile (or another client file) is unreadable or
    │                           invalid; ``path`` names it
    └── EnvError                a skill's own Python environment could not be built

What the caller should do: fix the request or log in (``RemoteError``), try
later (``Unreachable``, ``RateLimited``), stop trusting that registry
(``VerificationError``, ``BadAnswer``), or repair the local state
(``LockfileError``, ``EnvError``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from registry.errors import RegistryError

__all__ = [
    "AuthRequired",
    "BadAnswer",
    "BadReference",
    "ClientError",
    "Declined",
    "EnvError",
    "LockfileError",
    "RateLimited",
    "RemoteError",
    "Unreachable",
    "VerificationError",
]


class ClientError(RegistryError):
    """Root of the client side's errors."""


class RemoteError(ClientError):
    """The registry refused a request; the message is the server's own."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Sequence[Mapping[str, object]] = (),
    ) -> None:
        super().__init__(f"{message} ({status} {code})")
        self.status = status
        self.code = code
        self.message = message
        self.details = tuple(details)


class AuthRequired(RemoteError):
    """No token, an invalid one, or one for another namespace."""


class RateLimited(RemoteError):
    """Still rate limited after the allowed retries; ``retry_after_s`` is the last wait asked."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(429, "rate_limited", message)
        self.retry_after_s = retry_after_s


class BadReference(ClientError, ValueError):
    """A skill reference the user typed that is not ``owner/name[@range]``."""


class Unreachable(ClientError):
    """The registry at ``url`` did not answer."""

    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"cannot reach the registry at {url}: {problem}")
        self.url = url
        self.problem = problem


class BadAnswer(ClientError):
    """An answer that does not follow the API document (a broken or hostile server)."""


class VerificationError(ClientError):
    """``skill`` failed ``check``; nothing of it was installed."""

    def __init__(self, skill: str, check: str, problem: str) -> None:
        super().__init__(f"{skill}: {check} check failed: {problem}")
        self.skill = skill
        self.check = check
        self.problem = problem


class Declined(ClientError):
    """Not installed: the user declined, or the scanner's verdict forbids it."""


class LockfileError(ClientError):
    """A client file at ``path`` that cannot be read or is not what it should be."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class EnvError(ClientError):
    """The per-skill Python environment for ``skill`` could not be built."""

    def __init__(self, skill: str, problem: str) -> None:
        super().__init__(f"{skill}: cannot build its Python environment: {problem}")
        self.skill = skill
        self.problem = problem
