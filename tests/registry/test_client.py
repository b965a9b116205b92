"""The registry client against the real registry server on a free port.

It talks HTTP to the real application under uvicorn; a fake clock drives the
server's rate limiter so 429 handling is tested without sleeping; hostile or
broken answers come from ``httpx.MockTransport``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from registry.archive import unpack
from registry.client import ClientSettings, RegistryClient, SkillRef, api_url
from registry.client_errors import (
    AuthRequired,
    BadAnswer,
    BadReference,
    RateLimited,
    RemoteError,
    Unreachable,
)
from registry.hashing import content_hash
from registry.server import RateSettings
from registry.store import Registry
from tests.registry.test_client_fixtures import Publisher, live_registry, new_publisher


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Registry]]:
    with live_registry(tmp_path / "registry") as pair:
        yield pair


@pytest.fixture
def alice(served: tuple[str, Registry], tmp_path: Path) -> Publisher:
    publisher = new_publisher(served[1], "alice")
    publisher.publish(tmp_path, "weather", "1.0.0")
    publisher.publish(tmp_path, "weather", "1.1.0", hosts=("api.weather.example",))
    return publisher


def client_for(url: str, token: str | None = None) -> RegistryClient:
    return RegistryClient(ClientSettings(url, token=token))


def test_search_detail_resolve_and_download(served: tuple[str, Registry], alice: Publisher) -> None:
    with client_for(served[0]) as client:
        page = client.search("weather")
        skill = client.skill("alice", "weather")
        release = client.resolve(SkillRef.parse("alice/weather@^1.0"))
        pinned = client.resolve(SkillRef.parse("alice/weather@1.0.0"))
        archive = client.download(release)
    assert [hit.skill for hit in page.hits] == ["alice/weather"]
    assert [v.version for v in skill.versions] == ["1.1.0", "1.0.0"]
    assert release.version == "1.1.0" and pinned.version == "1.0.0"
    assert release.permissions.network == ("api.weather.example",)
    assert content_hash(unpack(archive)) == release.content_hash
    assert release.publisher.key_id == alice.key.key_id


def test_download_reports_progress(served: tuple[str, Registry], alice: Publisher) -> None:
    seen: list[tuple[int, int | None]] = []
    with client_for(served[0]) as client:
        release = client.version("alice", "weather", "1.0.0")
        archive = client.download(release, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (len(archive), len(archive))


def test_errors_carry_the_servers_code_and_message(served: tuple[str, Registry]) -> None:
    with client_for(served[0]) as client, pytest.raises(RemoteError) as caught:
        client.skill("nobody", "nothing")
    assert caught.value.status == 404
    assert caught.value.code == "not_found"
    assert "nobody/nothing" in caught.value.message


def test_writes_without_a_token_need_authentication(
    served: tuple[str, Registry], alice: Publisher
) -> None:
    with client_for(served[0]) as client, pytest.raises(AuthRequired) as caught:
        client.yank("alice", "weather", "1.0.0", "broken")
    assert caught.value.status == 401


def test_a_token_acts_for_its_namespace_only(
    served: tuple[str, Registry], alice: Publisher
) -> None:
    bob = new_publisher(served[1], "bob")
    with client_for(served[0], bob.token) as client, pytest.raises(AuthRequired) as caught:
        client.yank("alice", "weather", "1.0.0")
    assert caught.value.status == 403 and "bob" in caught.value.message


def test_a_refused_publish_lists_every_problem(
    served: tuple[str, Registry], alice: Publisher
) -> None:
    with client_for(served[0], alice.token) as client, pytest.raises(RemoteError) as caught:
        client.publish(
            SkillRef("alice", "weather"),
            "2.0.0",
            b"not a gzip",
            key_id=alice.key.key_id,
            signature=b"\0" * 64,
        )
    assert caught.value.status == 422 and caught.value.code == "invalid_package"


def test_rate_limits_are_waited_out_with_retry_after(tmp_path: Path) -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    rate = RateSettings(rate_per_s=1.0, burst=5.0)
    with live_registry(tmp_path / "r", clock=lambda: now[0], rate=rate) as (url, _):
        client = RegistryClient(ClientSettings(url), sleep=sleep)
        with client:
            for _ in range(8):
                client.search("anything")
    assert waits and all(wait >= 1 and wait == int(wait) for wait in waits)


def test_rate_limits_give_up_after_the_allowed_retries(tmp_path: Path) -> None:
    rate = RateSettings(rate_per_s=0.01, burst=5.0)
    with live_registry(tmp_path / "r", clock=lambda: 0.0, rate=rate) as (url, _):
        settings = ClientSettings(url, max_retries=2, max_wait_s=1000)
        with RegistryClient(settings, sleep=lambda _s: None) as client:
            for _ in range(5):  # the burst: five reads
                client.search("x")
            with pytest.raises(RateLimited) as caught:
                client.search("x")
    assert caught.value.retry_after_s >= 1


def test_an_absent_registry_is_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with client_for(f"http://127.0.0.1:{port}") as client, pytest.raises(Unreachable) as caught:
        client.search()
    assert str(port) in str(caught.value)


def mock_client(handler: httpx.MockTransport) -> RegistryClient:
    return RegistryClient(ClientSettings("http://registry.test"), transport=handler)


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'{"total": 1, "limit": 20, "offset": 0}',
        b'{"total": -1, "limit": 20, "offset": 0, "results": []}',
        b'{"total": 0, "limit": 20, "offset": 0, "results": [], "extra": 1}',
        b"not json at all",
        b'{"total": 1, "limit": 1, "offset": 0, "results": [{"skill": 7}]}',
    ],
)
def test_answers_that_break_the_document_are_refused(body: bytes) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    with mock_client(transport) as client, pytest.raises(BadAnswer):
        client.search()


def test_redirects_are_not_followed_so_the_token_stays_home() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "http://evil.test/steal"})

    settings = ClientSettings("http://registry.test", token="secret-token")
    client = RegistryClient(settings, transport=httpx.MockTransport(handler))
    with client, pytest.raises(BadAnswer):
        client.search()
    assert [r.url.host for r in seen] == ["registry.test"]


def test_an_oversized_download_is_cut_off(served: tuple[str, Registry], alice: Publisher) -> None:
    settings = ClientSettings(served[0], max_download_bytes=100)
    with RegistryClient(settings) as client:
        release = client.version("alice", "weather", "1.0.0")
        with pytest.raises(BadAnswer, match="at most 100"):
            client.download(release)


def test_error_answers_that_are_not_json_keep_the_status_line() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(502, content=b"<html>"))
    with mock_client(transport) as client, pytest.raises(RemoteError) as caught:
        client.search()
    assert caught.value.status == 502 and caught.value.code == "http_502"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://127.0.0.1:8700", "http://127.0.0.1:8700/api/v1"),
        ("https://r.example/api/v1/", "https://r.example/api/v1"),
        ("https://r.example/mirror", "https://r.example/mirror/api/v1"),
    ],
)
def test_api_url(text: str, expected: str) -> None:
    assert api_url(text) == expected


@pytest.mark.parametrize("text", ["ftp://x", "registry.example", "", "http://"])
def test_api_url_refuses_what_is_not_http(text: str) -> None:
    with pytest.raises(BadReference):
        api_url(text)


def test_skill_references() -> None:
    assert SkillRef.parse("alice/weather") == SkillRef("alice", "weather", "latest")
    assert SkillRef.parse(" alice/weather@^1.2 ").range == "^1.2"
    assert str(SkillRef.parse("alice/weather@1.0.0")) == "alice/weather@1.0.0"


@pytest.mark.parametrize(
    "text",
    [
        "weather",
        "alice/",
        "/weather",
        "Alice/weather",
        "alice/we ather",
        "a/b/c",
        "../x/y",
        "alice/wea\nther",
        "alice/wéather",
        "alice/weather\x00",
        "alice/weather\n@1.0",
        "alice/" + "x" * 5000 + "!",
    ],
)
def test_bad_skill_references_are_refused(text: str) -> None:
    with pytest.raises(BadReference):
        SkillRef.parse(text)


def test_an_undocumented_success_status_is_refused() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(202, json={"results": []}))
    with mock_client(transport) as client, pytest.raises(BadAnswer, match="undocumented status"):
        client.search()
