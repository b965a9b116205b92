"""``http_request``: HTTP(S) to the hosts an administrator allowlisted, and nowhere else.

Every URL is checked before it is requested, including each redirect
target: redirects are followed by hand (at most five), so a trusted host
cannot bounce the call to an untrusted one.  The client ignores proxy and
certificate variables of the environment (``trust_env=False``: nothing
reads the environment deep in the code), a call may not set ``Host`` or the
framing headers, credentials are dropped when a redirect changes host, each
operation has a timeout and so does the whole exchange, and at most
``max_response_bytes`` of a body are read.

Risk by argument inspection: ``GET``/``HEAD`` to an allowlisted host is
``read``, ``POST``/``PUT``/``PATCH`` ``write``, ``DELETE`` ``destructive``,
and any host off the allowlist ``network`` (the call is refused anyway).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from brain.tools.core import CallContext, ErrorKind, Risk, Tool, ToolFailed, ToolReply

__all__ = ["Allowlist", "HttpTool"]

_METHOD_RISK = {
    "GET": Risk.READ, "HEAD": Risk.READ,
    "POST": Risk.WRITE, "PUT": Risk.WRITE, "PATCH": Risk.WRITE,
    "DELETE": Risk.DESTRUCTIVE,
}  # fmt: skip
_DEFAULT_PORTS = {"http": 80, "https": 443}
_FORBIDDEN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_CREDENTIALS = ("authorization", "cookie", "proxy-authorization")
_MAX_REDIRECTS = 5
_TEXT_TYPES = ("text/", "json", "xml", "javascript", "x-www-form-urlencoded", "yaml")
_DOC = (
    "Make an HTTP request to an allowed host and get the status, main headers and body. "
    "Allowed hosts: {hosts}."
)


@dataclass(frozen=True, slots=True)
class _Entry:
    host: str
    port: int | None
    subdomains: bool

    def admits(self, host: str, port: int) -> bool:
        if self.port is not None and port != self.port:
            return False
        if self.subdomains:
            return host.endswith("." + self.host)
        return host == self.host


class Allowlist:
    """Parsed ``tools.http_allowlist`` entries (already checked by ``ToolSettings``)."""

    def __init__(self, entries: Sequence[str]) -> None:
        self.entries = tuple(entries)
        self._parsed = tuple(_parse(entry) for entry in entries)

    def admits(self, url: httpx.URL) -> bool:
        if url.scheme not in _DEFAULT_PORTS or not url.host:
            return False
        port = url.port or _DEFAULT_PORTS[url.scheme]
        host = url.host.lower().rstrip(".")
        return any(entry.admits(host, port) for entry in self._parsed)


def _parse(entry: str) -> _Entry:
    subdomains = entry.startswith("*.")
    rest = entry.removeprefix("*.")
    if rest.startswith("["):  # [v6]:port
        host, _, tail = rest[1:].partition("]")
        port = tail.removeprefix(":") or None
    else:
        host, _, port = rest.partition(":")
    return _Entry(host.lower(), int(port) if port else None, subdomains)


class HttpTool:
    """``http_request`` limited to ``allowlist``; ``transport`` is for tests only."""

    def __init__(
        self,
        allowlist: Allowlist,
        *,
        timeout_s: float = 10.0,
        max_response_bytes: int = 1 << 20,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._allow = allowlist
        self._timeout = timeout_s
        self._max = max_response_bytes
        self._transport = transport

    def tool(self) -> Tool:
        header = {"type": "string", "maxLength": 8192}
        parameters = {
            "type": "object",
            "properties": {
                "url": {"type": "string", "minLength": 1, "maxLength": 8192},
                "method": {"enum": list(_METHOD_RISK)},
                "headers": {"type": "object", "additionalProperties": header, "maxProperties": 50},
                "body": {"type": "string", "maxLength": 1 << 20},
            },
            "required": ["url"],
            "additionalProperties": False,
        }
        doc = _DOC.format(hosts=", ".join(self._allow.entries) or "none")
        return Tool("http_request", doc, parameters, Risk.READ, self._request, self._inspect)

    def _inspect(self, arguments: Mapping[str, Any]) -> Risk:
        method = _METHOD_RISK.get(str(arguments.get("method", "GET")), Risk.DESTRUCTIVE)
        try:
            allowed = self._allow.admits(httpx.URL(str(arguments.get("url", ""))))
        except (httpx.InvalidURL, ValueError):
            allowed = False
        return max(method, Risk.READ if allowed else Risk.NETWORK)

    async def _request(self, args: Mapping[str, Any], context: CallContext) -> ToolReply:
        headers = _headers(args.get("headers", {}))
        method, body = args.get("method", "GET"), args.get("body")
        url = _url(args["url"])
        try:
            async with asyncio.timeout(self._timeout), self._client() as client:
                return await self._exchange(client, method, url, headers, body)
        except TimeoutError:
            raise ToolFailed(ErrorKind.TIMEOUT, f"no answer within {self._timeout:g} s") from None
        except httpx.TimeoutException as exc:
            raise ToolFailed(ErrorKind.TIMEOUT, f"timed out: {exc}") from exc
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, ValueError) as exc:
            raise ToolFailed(ErrorKind.FAILED, f"the request failed: {exc}") from exc

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=httpx.Timeout(self._timeout),
            follow_redirects=False,
            trust_env=False,
            transport=self._transport,
        )

    async def _exchange(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: httpx.URL,
        headers: dict[str, str],
        body: str | None,
    ) -> ToolReply:
        for _hop in range(_MAX_REDIRECTS + 1):
            self._check(url)
            request = client.build_request(method, url, headers=headers, content=body)
            response = await client.send(request, stream=True)
            try:
                target = _redirect(response)
                if target is None:
                    return _render(response, *await _read(response, self._max))
            finally:
                await response.aclose()
            if target.host != url.host:
                headers = {k: v for k, v in headers.items() if k.lower() not in _CREDENTIALS}
            if response.status_code == 303 or (method == "POST" and response.status_code < 303):
                method, body = "GET", None  # what browsers do (RFC 9110 §15.4)
            url = target
        raise ToolFailed(ErrorKind.FAILED, f"more than {_MAX_REDIRECTS} redirects")

    def _check(self, url: httpx.URL) -> None:
        if not self._allow.admits(url):
            hosts = ", ".join(self._allow.entries) or "none"
            message = f"{url.scheme}://{url.netloc.decode()} is not an allowed host ({hosts})"
            raise ToolFailed(ErrorKind.HOST_NOT_ALLOWED, message)


def _url(text: str) -> httpx.URL:
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError) as exc:
        raise ToolFailed(ErrorKind.INVALID_ARGUMENTS, f"not a valid URL: {exc}") from exc
    if url.scheme not in _DEFAULT_PORTS:
        raise ToolFailed(ErrorKind.INVALID_ARGUMENTS, "the URL must start with http:// or https://")
    return url


def _headers(given: Mapping[str, str]) -> dict[str, str]:
    bad = sorted(name for name in given if name.lower() in _FORBIDDEN_HEADERS)
    if bad:
        message = f"these headers are set by the client, not by a call: {', '.join(bad)}"
        raise ToolFailed(ErrorKind.INVALID_ARGUMENTS, message)
    return dict(given)


def _redirect(response: httpx.Response) -> httpx.URL | None:
    location = response.headers.get("location")
    if not response.is_redirect or location is None:
        return None
    return response.url.join(location)


async def _read(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            return bytes(body[:limit]), True
    return bytes(body), False


def _decode(body: bytes, encoding: str | None) -> str:
    try:
        return body.decode(encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", errors="replace")


def _render(response: httpx.Response, body: bytes, truncated: bool) -> ToolReply:
    kind = response.headers.get("content-type", "")
    lines = [f"HTTP {response.status_code} {response.reason_phrase}".rstrip()]
    lines += [f"{name}: {response.headers[name]}" for name in ("content-type", "location")
              if name in response.headers]  # fmt: skip
    if any(marker in kind.lower() for marker in _TEXT_TYPES) or not kind:
        text = _decode(body, response.encoding)
    else:
        text = f"[binary body of {len(body)} bytes]"
    if truncated:
        text += f"\n[body cut at {len(body)} bytes]"
    return ToolReply("\n".join(lines) + "\n\n" + text)
