"""A client for the registry's HTTP API (``/api/v1``), as ``openapi.json`` documents it.

Theory of operation
-------------------
One blocking :class:`RegistryClient` over ``httpx`` (the CLI is blocking; an
async caller runs it in a worker thread).  Every request goes through
:meth:`RegistryClient._send`:

* a 429 is waited out for its ``Retry-After`` seconds (through the injected
  ``sleep``), at most ``max_retries`` times and never longer than
  ``max_wait_s`` at once, then it is :class:`RateLimited`;
* any other error answer becomes a :class:`RemoteError` carrying the
  server's own ``code``, ``message`` and ``details`` (401/403 as
  :class:`AuthRequired`), and a missing answer an :class:`Unreachable`;
* a JSON answer is checked against the document (:func:`checked`) before
  anything reads it.

Redirects are never followed, so the token only ever goes to the URL the
caller configured.  The transport is the test seam (``httpx.MockTransport``
or a wrapper around a real one).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import quote, urlsplit

import httpx

from registry.client_errors import (
    AuthRequired,
    BadAnswer,
    BadReference,
    RateLimited,
    RemoteError,
    Unreachable,
)
from registry.client_models import (
    JSON,
    KeyInfo,
    LogProof,
    Published,
    RegistryKeyInfo,
    Release,
    ScanResult,
    SearchPage,
    SkillInfo,
    checkpoint_from,
    key_from,
    page_from,
    proof_from,
    registry_key_from,
    release_from,
    scan_from,
    skill_from,
)
from registry.client_schema import checked
from registry.signing import PublicKey, b64encode
from registry.translog import SignedCheckpoint

__all__ = ["API_PATH", "ClientSettings", "RegistryClient", "SkillRef", "api_url"]

API_PATH = "/api/v1"
_SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_CHUNK = 64 * 1024
Progress = Callable[[int, int | None], None]


def api_url(url: str) -> str:
    """``url`` as the API's base: ``http(s)://host[:port]/…/api/v1`` without a trailing slash.

    A bare server URL gets ``/api/v1`` appended.  Raises :class:`BadReference`
    for anything that is not an http(s) URL.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadReference(f"{url!r} is not an http(s) URL of a registry")
    base = url.strip().rstrip("/")
    return base if base.endswith(API_PATH) else base + API_PATH


@dataclass(frozen=True, slots=True)
class SkillRef:
    """``owner/name[@range]`` as typed by a user; ``range`` defaults to ``latest``."""

    owner: str
    name: str
    range: str = "latest"

    @property
    def skill(self) -> str:
        return f"{self.owner}/{self.name}"

    @classmethod
    def parse(cls, text: str) -> SkillRef:
        spec, _, wanted = text.strip().partition("@")
        owner, slash, name = spec.partition("/")
        if not slash or not _SLUG.fullmatch(owner) or not _SLUG.fullmatch(name):
            raise BadReference(
                f"{text!r} is not owner/name[@range] (lowercase letters, digits, hyphens)"
            )
        return cls(owner, name, wanted.strip() or "latest")

    def __str__(self) -> str:
        return self.skill if self.range == "latest" else f"{self.skill}@{self.range}"


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Where the registry is and how patient to be with it.

    ``url`` is normalised by :func:`api_url`.  ``max_download_bytes`` caps an
    archive download (the server's own cap is 8 MiB by default).
    """

    url: str
    token: str | None = field(default=None, repr=False)
    timeout_s: float = 30.0
    max_retries: int = 3
    max_wait_s: float = 60.0
    max_download_bytes: int = 32 * 1024 * 1024


def _path(*segments: str) -> str:
    return "/" + "/".join(quote(segment, safe="") for segment in segments)


class RegistryClient:
    """Use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        settings: ClientSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.url = api_url(settings.url)
        headers = {"Accept": "application/json"}
        if settings.token:
            headers["Authorization"] = f"Bearer {settings.token}"
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=settings.timeout_s,
            transport=transport,
            follow_redirects=False,
        )
        self._sleep = sleep

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- the wire ---------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The successful, fully read answer; raises the error tree's exceptions."""
        with self._stream(method, path, **kwargs) as response:
            response.read()
            return response

    def _stream(self, method: str, path: str, **kwargs: Any) -> _Answer:
        request = self._http.build_request(method, path, **kwargs)
        for attempt in range(self.settings.max_retries + 1):
            response = self._try(request)
            if response.status_code != 429:
                break
            wait = _retry_after(response)
            response.close()
            if attempt == self.settings.max_retries or wait > self.settings.max_wait_s:
                raise RateLimited(
                    f"the registry is rate limiting us; retry in {wait:g} s", retry_after_s=wait
                )
            self._sleep(wait)
        if response.is_error:
            response.read()
            response.close()
            raise _remote_error(response)
        return _Answer(response)

    def _try(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._http.send(request, stream=True)
        except httpx.TimeoutException:
            raise Unreachable(self.url, "it did not answer in time") from None
        except httpx.TransportError as exc:
            raise Unreachable(self.url, str(exc) or type(exc).__name__) from None

    def _json(self, operation: str, method: str, path: str, **kwargs: Any) -> JSON:
        response = self._send(method, path, **kwargs)
        try:
            value = response.json()
        except ValueError:
            raise BadAnswer(f"the registry's answer to {operation} is not JSON") from None
        return checked(operation, response.status_code, value)

    # -- skills -----------------------------------------------------------------------

    def search(
        self,
        text: str = "",
        *,
        owner: str | None = None,
        verdict: str | None = None,
        has_tools: bool | None = None,
        sort: str = "relevance",
        limit: int = 20,
        offset: int = 0,
    ) -> SearchPage:
        params: dict[str, str | int] = {"q": text, "sort": sort, "limit": limit, "offset": offset}
        if owner:
            params["owner"] = owner
        if verdict:
            params["verdict"] = verdict
        if has_tools is not None:
            params["has_tools"] = "true" if has_tools else "false"
        return page_from(self._json("searchSkills", "GET", "/skills", params=params))

    def skill(self, owner: str, name: str) -> SkillInfo:
        return skill_from(self._json("getSkill", "GET", _path("skills", owner, name)))

    def resolve(self, ref: SkillRef) -> Release:
        path = _path("skills", ref.owner, ref.name, "resolve")
        return release_from(self._json("resolveVersion", "GET", path, params={"range": ref.range}))

    def version(self, owner: str, name: str, version: str) -> Release:
        path = _path("skills", owner, name, "versions", version)
        return release_from(self._json("getVersion", "GET", path))

    def scan(self, owner: str, name: str, version: str) -> ScanResult:
        path = _path("skills", owner, name, "versions", version, "scan")
        return scan_from(self._json("getScanReport", "GET", path))

    def download(self, release: Release, *, progress: Progress | None = None) -> bytes:
        """The package archive of ``release``, at most ``max_download_bytes``."""
        path = _path("skills", release.owner, release.name, "versions", release.version, "download")
        cap = self.settings.max_download_bytes
        with self._stream("GET", path) as response:
            declared = response.headers.get("content-length", "")
            total = int(declared) if declared.isdigit() else None
            if total is not None and total > cap:
                raise BadAnswer(f"the archive is {total} bytes; at most {cap} are accepted")
            return _read_capped(response.iter_bytes(_CHUNK), cap, total, progress)

    def publish(
        self, ref: SkillRef, version: str, archive: bytes, *, key_id: str, signature: bytes
    ) -> Published:
        path = _path("skills", ref.owner, ref.name, "versions", version)
        headers = {
            "Content-Type": "application/gzip",
            "X-Skillyard-Key-Id": key_id,
            "X-Skillyard-Signature": b64encode(signature),
        }
        raw = self._json("publishVersion", "PUT", path, content=archive, headers=headers)
        release = release_from(raw["version"])
        return Published(raw["created"], release, tuple(raw["warnings"]))

    def yank(self, owner: str, name: str, version: str, reason: str = "") -> Release:
        path = _path("skills", owner, name, "versions", version, "yank")
        return release_from(self._json("yankVersion", "POST", path, json={"reason": reason}))

    def unyank(self, owner: str, name: str, version: str) -> Release:
        path = _path("skills", owner, name, "versions", version, "unyank")
        return release_from(self._json("unyankVersion", "POST", path))

    # -- publishers -------------------------------------------------------------------

    def create_publisher(self, name: str, display_name: str = "") -> JSON:
        body = {"name": name, **({"display_name": display_name} if display_name else {})}
        return self._json("createPublisher", "POST", "/publishers", json=body)

    def create_token(
        self, publisher: str, label: str, *, expires_in_days: int | None = None
    ) -> str:
        """A new token for ``publisher``'s namespace: the secret, shown only this once."""
        body: dict[str, Any] = {"label": label}
        if expires_in_days is not None:
            body["expires_in_days"] = expires_in_days
        raw = self._json("createToken", "POST", _path("publishers", publisher, "tokens"), json=body)
        return str(raw["token"])

    def keys(self, publisher: str) -> tuple[KeyInfo, ...]:
        raw = self._json("listKeys", "GET", _path("publishers", publisher, "keys"))
        return tuple(key_from(key) for key in raw["keys"])

    def add_key(self, publisher: str, key: PublicKey) -> KeyInfo:
        path = _path("publishers", publisher, "keys")
        return key_from(self._json("addKey", "POST", path, json={"public_key": key.to_base64()}))

    def whoami(self) -> tuple[bool, str | None]:
        """(is the admin, the publisher the token acts for)."""
        raw = self._json("whoami", "GET", "/whoami")
        return bool(raw["admin"]), raw["publisher"]

    # -- the log ----------------------------------------------------------------------

    def registry_key(self) -> RegistryKeyInfo:
        return registry_key_from(self._json("getRegistryKey", "GET", "/registry/key"))

    def checkpoint(self) -> SignedCheckpoint:
        return checkpoint_from(self._json("getCheckpoint", "GET", "/log/checkpoint"))

    def inclusion(self, index: int, size: int) -> LogProof:
        params = {"index": index, "size": size}
        return proof_from(
            self._json("getInclusionProof", "GET", "/log/proof/inclusion", params=params)
        )

    def consistency(self, old_size: int) -> LogProof:
        """A proof that today's log extends the one of ``old_size`` entries, and its checkpoint."""
        params = {"from": old_size}
        return proof_from(
            self._json("getConsistencyProof", "GET", "/log/proof/consistency", params=params)
        )


class _Answer:
    """A streamed response closed on leaving the ``with`` block."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response

    def __enter__(self) -> httpx.Response:
        return self.response

    def __exit__(self, *exc: object) -> None:
        self.response.close()


def _retry_after(response: httpx.Response) -> float:
    # RFC 9110 §10.2.3 also allows an HTTP date; our registry sends seconds, others may not.
    value = response.headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else 1.0


def _remote_error(response: httpx.Response) -> RemoteError:
    status = response.status_code
    code, message = f"http_{status}", response.reason_phrase or "error"
    details: tuple[Mapping[str, object], ...] = ()
    try:
        error = response.json().get("error", {})
        code, message = str(error["code"]), str(error["message"])
        details = tuple(d for d in error.get("details", ()) if isinstance(d, Mapping))
    except (ValueError, AttributeError, KeyError, TypeError):
        pass  # not our API's error shape: keep the HTTP status line
    kind = AuthRequired if status in (401, 403) and code != "unavailable" else RemoteError
    return kind(status, code, message, details=details)


def _read_capped(
    chunks: Iterator[bytes], cap: int, total: int | None, progress: Progress | None
) -> bytes:
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if len(data) > cap:
            raise BadAnswer(f"the archive is over {cap} bytes")
        if progress is not None:
            progress(len(data), total)
    return bytes(data)
