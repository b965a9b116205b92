"""http_request against two loopback servers: one allowlisted, one not."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from brain.errors import ConfigError
from brain.models.base import ToolCall
from brain.settings import ToolSettings
from brain.steps import ToolOutcome
from brain.tools import CallContext, Risk, ToolRegistry
from brain.tools.http_tool import Allowlist, HttpTool
from tests.fakes._server import LoopbackServer

CONTEXT = CallContext(user="web:alice", session="web:default:c1")


class Site(LoopbackServer):
    """A small site that records what it was asked."""

    def __init__(self) -> None:
        super().__init__()
        self.hits: list[tuple[str, str, dict[str, str], bytes]] = []
        self.release = asyncio.Event()
        self.elsewhere = ""

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/{path:path}", self._any, methods=["GET", "POST", "PUT", "DELETE", "HEAD"])
            ]
        )

    async def _any(self, request: Request) -> Response:
        path = request.url.path
        self.hits.append((request.method, path, dict(request.headers), await request.body()))
        if path == "/hello":
            return PlainTextResponse("hello from the allowed site")
        if path == "/echo":
            return JSONResponse({"method": request.method, "body": (await request.body()).decode()})
        if path == "/big":
            return PlainTextResponse("x" * 50_000)
        if path == "/binary":
            return Response(b"\x00\x01" * 10, media_type="application/octet-stream")
        if path == "/redirect-in":
            return RedirectResponse("/hello", status_code=302)
        if path == "/redirect-out":
            return RedirectResponse(self.elsewhere, status_code=302)
        if path == "/post-redirect":
            return RedirectResponse("/echo", status_code=303)
        if path == "/loop":
            return RedirectResponse("/loop", status_code=302)
        if path == "/slow":
            await self.release.wait()
            return PlainTextResponse("too late")
        return PlainTextResponse("not here", status_code=404)

    async def stop(self) -> None:
        self.release.set()
        await super().stop()


@pytest.fixture
async def allowed() -> AsyncIterator[Site]:
    site = Site()
    await site.start()
    yield site
    await site.stop()


@pytest.fixture
async def other() -> AsyncIterator[Site]:
    site = Site()
    await site.start()
    yield site
    await site.stop()


def netloc(site: Site) -> str:
    return site.origin.removeprefix("http://")


@pytest.fixture
def registry(allowed: Site, other: Site) -> ToolRegistry:
    allowed.elsewhere = other.origin + "/hello"
    tool = HttpTool(Allowlist([netloc(allowed)]), timeout_s=2, max_response_bytes=1_000)
    return ToolRegistry([tool.tool()])


async def request(registry: ToolRegistry, url: str, **args: Any) -> ToolOutcome:
    return await registry.execute(ToolCall("h1", "http_request", {"url": url, **args}), CONTEXT)


def kind(outcome: ToolOutcome) -> str:
    assert not outcome.ok, outcome
    return str(json.loads(outcome.content)["kind"])


async def test_an_allowlisted_host_answers(registry: ToolRegistry, allowed: Site) -> None:
    outcome = await request(registry, allowed.origin + "/hello")
    assert outcome.ok
    assert outcome.content.startswith("HTTP 200 OK\ncontent-type: text/plain")
    assert outcome.content.endswith("\n\nhello from the allowed site")


async def test_a_host_off_the_allowlist_is_never_contacted(
    registry: ToolRegistry, other: Site
) -> None:
    outcome = await request(registry, other.origin + "/hello")
    assert kind(outcome) == "host_not_allowed"
    assert netloc(other) in (outcome.error or "")
    assert other.hits == []


async def test_the_same_address_under_another_name_is_not_allowed(
    registry: ToolRegistry, allowed: Site
) -> None:
    port = netloc(allowed).split(":")[1]
    assert kind(await request(registry, f"http://localhost:{port}/hello")) == "host_not_allowed"
    assert allowed.hits == []


async def test_redirects_are_followed_only_on_the_allowlist(
    registry: ToolRegistry, allowed: Site, other: Site
) -> None:
    inside = await request(registry, allowed.origin + "/redirect-in")
    assert inside.ok and "hello from the allowed site" in inside.content
    outside = await request(
        registry, allowed.origin + "/redirect-out", headers={"Authorization": "Bearer t"}
    )
    assert kind(outside) == "host_not_allowed"
    assert other.hits == []
    assert kind(await request(registry, allowed.origin + "/loop")) == "failed"


async def test_post_then_303_becomes_a_get(registry: ToolRegistry, allowed: Site) -> None:
    outcome = await request(registry, allowed.origin + "/post-redirect", method="POST", body="hi")
    assert outcome.ok
    assert json.loads(outcome.content.split("\n\n", 1)[1]) == {"method": "GET", "body": ""}


async def test_methods_and_bodies(registry: ToolRegistry, allowed: Site) -> None:
    outcome = await request(registry, allowed.origin + "/echo", method="PUT", body="payload")
    assert json.loads(outcome.content.split("\n\n", 1)[1]) == {"method": "PUT", "body": "payload"}


async def test_the_body_is_capped(registry: ToolRegistry, allowed: Site) -> None:
    outcome = await request(registry, allowed.origin + "/big")
    assert outcome.ok
    assert outcome.content.endswith("x" * 1_000 + "\n[body cut at 1000 bytes]")


async def test_binary_bodies_are_described(registry: ToolRegistry, allowed: Site) -> None:
    outcome = await request(registry, allowed.origin + "/binary")
    assert outcome.content.endswith("[binary body of 20 bytes]")


async def test_a_slow_server_times_out(allowed: Site) -> None:
    quick = ToolRegistry([HttpTool(Allowlist([netloc(allowed)]), timeout_s=0.2).tool()])
    assert kind(await request(quick, allowed.origin + "/slow")) == "timeout"


@pytest.mark.parametrize(
    ("url", "args", "expected"),
    [
        ("ftp://127.0.0.1/x", {}, "invalid_arguments"),
        ("not a url", {}, "invalid_arguments"),
        ("http://[::1", {}, "invalid_arguments"),
        ("{origin}/hello", {"headers": {"Host": "evil.example"}}, "invalid_arguments"),
        ("{origin}/hello", {"method": "TRACE"}, "invalid_arguments"),
        ("{origin}/hello", {"headers": {"X-Bad": "a\r\nInjected: 1"}}, "failed"),
    ],
)
async def test_bad_requests_are_refused(
    registry: ToolRegistry, allowed: Site, url: str, args: dict[str, Any], expected: str
) -> None:
    outcome = await request(registry, url.format(origin=allowed.origin), **args)
    assert kind(outcome) == expected
    assert all("Injected" not in headers for _m, _p, headers, _b in allowed.hits)


def test_allowlist_entries() -> None:
    allow = Allowlist(["api.example.org", "*.example.net", "127.0.0.1:8080", "[::1]:9000"])
    admitted = [
        "https://api.example.org/v1",
        "http://API.example.org:8443/",
        "https://a.b.example.net/",
        "http://127.0.0.1:8080/",
        "http://[::1]:9000/",
    ]
    refused = [
        "https://example.net/",
        "https://evil-example.net/",
        "https://api.example.org.evil.com/",
        "http://127.0.0.1:8081/",
        "http://127.0.0.1/",
        "http://api.example.org@evil.com/",
        "file:///etc/passwd",
    ]
    assert [allow.admits(httpx.URL(u)) for u in admitted] == [True] * len(admitted)
    assert [allow.admits(httpx.URL(u)) for u in refused] == [False] * len(refused)


@pytest.mark.parametrize("entry", ["http://x.org", "x.org/path", "*", "Upper.org", "a b"])
def test_bad_allowlist_entries_name_the_setting(entry: str) -> None:
    with pytest.raises(ConfigError, match=r"tools\.http_allowlist"):
        ToolSettings(http_allowlist=(entry,))


@pytest.mark.parametrize(
    ("args", "risk"),
    [
        ({"url": "https://api.example.org/x"}, Risk.READ),
        ({"url": "https://api.example.org/x", "method": "HEAD"}, Risk.READ),
        ({"url": "https://api.example.org/x", "method": "POST"}, Risk.WRITE),
        ({"url": "https://api.example.org/x", "method": "DELETE"}, Risk.DESTRUCTIVE),
        ({"url": "https://elsewhere.org/x"}, Risk.NETWORK),
        ({"url": "https://elsewhere.org/x", "method": "DELETE"}, Risk.DESTRUCTIVE),
        ({"url": "::not a url::"}, Risk.NETWORK),
        ({}, Risk.NETWORK),
    ],
)
def test_risk(args: dict[str, Any], risk: Risk) -> None:
    registry = ToolRegistry([HttpTool(Allowlist(["api.example.org"])).tool()])
    assert registry.risk_of(ToolCall("h1", "http_request", args)) is risk
