"""The HTTP API's behaviour at its edges: auth, limits, content types, errors, headers."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from registry.archive import pack
from registry.hashing import hash_folder
from registry.server import ApiSettings, RateSettings, create_app
from registry.signing import PublishStatement, SigningKey
from registry.store import Registry
from registry.store.testing import make_publisher, write_skill

ADMIN = "admin-token-0123456789"


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    opened = Registry.open(tmp_path / "registry")
    yield opened
    opened.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def serve(registry: Registry, clock: Clock, rate: RateSettings) -> TestClient:
    settings = ApiSettings(rate=rate, max_archive_bytes=64 * 1024)
    app = create_app(
        registry, is_admin=lambda token: token == ADMIN, settings=settings, clock=clock
    )
    return TestClient(app)


@pytest.fixture
def client(registry: Registry, clock: Clock) -> Iterator[TestClient]:
    with serve(registry, clock, RateSettings(rate_per_s=1.0, burst=1000.0)) as test_client:
        yield test_client


@pytest.fixture
def limited(registry: Registry, clock: Clock) -> Iterator[TestClient]:
    with serve(registry, clock, RateSettings(rate_per_s=1.0, burst=10.0)) as test_client:
        yield test_client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def publish_headers(
    token: str, key: SigningKey, folder: Path, version: str = "1.0.0", owner: str = "alice"
) -> dict[str, str]:
    statement = PublishStatement(f"{owner}/{folder.name}", version, hash_folder(folder))
    return {
        **auth(token),
        "Content-Type": "application/gzip",
        "X-Skillyard-Key-Id": key.key_id,
        "X-Skillyard-Signature": base64.b64encode(key.sign(statement.encode())).decode(),
    }


def test_errors_are_json_with_a_code_and_a_message(client: TestClient) -> None:
    answer = client.get("/api/v1/skills/alice/nothing-here")
    assert answer.status_code == 404
    assert answer.json() == {
        "error": {"code": "not_found", "message": "no skill alice/nothing-here"}
    }
    assert client.get("/api/v1/skills/Alice/x").json()["error"]["code"] == "bad_request"
    assert client.get("/api/v1/no/such/route").json()["error"]["code"] == "not_found"


def test_guarded_operations_need_credentials_and_the_right_ones(
    client: TestClient, registry: Registry
) -> None:
    token, _, _ = make_publisher(registry, "alice")
    make_publisher(registry, "bob")
    anonymous = client.post("/api/v1/publishers", json={"name": "carol"})
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith(
        "Bearer"
    )
    assert (
        client.post(
            "/api/v1/publishers", json={"name": "carol"}, headers=auth(token.secret)
        ).status_code
        == 403
    )
    assert (
        client.get("/api/v1/publishers/bob/tokens", headers=auth(token.secret)).status_code == 403
    )
    assert (
        client.get("/api/v1/publishers/alice/tokens", headers=auth(token.secret)).status_code == 200
    )
    assert (
        client.get("/api/v1/whoami", headers=auth("syr_0000000000000000_" + "A" * 43)).status_code
        == 401
    )
    assert client.get("/api/v1/whoami", headers={"Authorization": "Basic xyz"}).status_code == 401
    assert client.get("/api/v1/whoami", headers=auth(ADMIN)).json() == {
        "admin": True,
        "publisher": None,
    }


def test_token_secrets_are_shown_once(client: TestClient, registry: Registry) -> None:
    make_publisher(registry, "alice")
    created = client.post(
        "/api/v1/publishers/alice/tokens",
        json={"label": "ci", "expires_in_days": 7},
        headers=auth(ADMIN),
    )
    assert created.status_code == 201 and created.json()["token"].startswith("syr_")
    listed = client.get("/api/v1/publishers/alice/tokens", headers=auth(ADMIN)).json()["tokens"]
    assert all("token" not in item for item in listed) and len(listed) == 2
    token_id = created.json()["token_id"]
    revoked = client.delete(f"/api/v1/publishers/alice/tokens/{token_id}", headers=auth(ADMIN))
    assert revoked.json()["revoked_at"] is not None
    assert client.get("/api/v1/whoami", headers=auth(created.json()["token"])).status_code == 401


def test_requests_are_rate_limited_with_retry_after(limited: TestClient, clock: Clock) -> None:
    client = limited
    for _ in range(10):
        assert client.get("/api/v1/registry/key").status_code == 200
    limited = client.get("/api/v1/registry/key")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert limited.json()["error"]["code"] == "rate_limited"
    clock.now += 1.0
    assert client.get("/api/v1/registry/key").status_code == 200


def test_failed_logins_are_rate_limited_by_address(limited: TestClient) -> None:
    client = limited
    codes = [
        client.get("/api/v1/whoami", headers=auth("wrong-token")).status_code for _ in range(3)
    ]
    assert codes == [401, 401, 429]  # each failure costs a write's worth


def test_a_publish_is_checked_before_its_body_is_read(
    client: TestClient, registry: Registry, tmp_path: Path
) -> None:
    token, key, _ = make_publisher(registry, "alice")
    folder = write_skill(tmp_path, "pdf-notes")
    headers = publish_headers(token.secret, key, folder)
    url = "/api/v1/skills/alice/pdf-notes/versions/1.0.0"
    assert (
        client.put(
            url, content=pack(folder), headers={**headers, "Content-Type": "application/zip"}
        ).status_code
        == 415
    )
    too_big = client.put(url, content=b"\x1f\x8b" + b"\x00" * 70_000, headers=headers)
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "payload_too_large"
    bad_signature = {**headers, "X-Skillyard-Signature": "A" * 86 + "=="}
    refused = client.put(url, content=pack(folder), headers=bad_signature)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "bad_signature"
    garbage = client.put(url, content=b"garbage", headers=headers)
    assert garbage.status_code == 422 and garbage.json()["error"]["code"] == "invalid_package"
    created = client.put(url, content=pack(folder), headers=headers)
    assert created.status_code == 201 and created.json()["created"] is True
    other = write_skill(tmp_path / "other", "pdf-notes", body="# Other\n\nChanged.\n")
    conflict = client.put(
        url, content=pack(other), headers=publish_headers(token.secret, key, other)
    )
    assert conflict.status_code == 409


def test_validation_failures_list_every_problem(
    client: TestClient, registry: Registry, tmp_path: Path
) -> None:
    token, key, _ = make_publisher(registry, "alice")
    url = "/api/v1/skills/alice/pdf-notes/versions/1.0.0"
    cases = (("", None, "description-empty"), ("Notes.", "2.0.0", "version-mismatch"))
    for description, version, code in cases:
        folder = write_skill(tmp_path / code, "pdf-notes", description=description, version=version)
        headers = publish_headers(token.secret, key, folder)
        answer = client.put(url, content=pack(folder), headers=headers)
        assert answer.status_code == 422
        error = answer.json()["error"]
        assert error["code"] == "validation_failed"
        assert code in {detail["code"] for detail in error["details"]}


def test_files_are_served_as_inert_downloads(
    client: TestClient, registry: Registry, tmp_path: Path
) -> None:
    token, key, _ = make_publisher(registry, "alice")
    folder = write_skill(
        tmp_path, "pdf-notes", extra={"assets/page.html": "<script>alert(1)</script>"}
    )
    client.put(
        "/api/v1/skills/alice/pdf-notes/versions/1.0.0",
        content=pack(folder),
        headers=publish_headers(token.secret, key, folder),
    )
    base = "/api/v1/skills/alice/pdf-notes/versions/1.0.0"
    listed = client.get(f"{base}/files").json()["files"]
    assert [f["path"] for f in listed] == ["SKILL.md", "assets/page.html"]
    served = client.get(f"{base}/files/assets/page.html")
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"] == "attachment"
    assert "sandbox" in served.headers["content-security-policy"]
    assert client.get(f"{base}/files/nope.txt").status_code == 404
    assert client.get(f"{base}/files/..%2F..%2Fetc%2Fpasswd").status_code in {400, 404}


def test_yank_and_unyank_over_http(client: TestClient, registry: Registry, tmp_path: Path) -> None:
    token, key, _ = make_publisher(registry, "alice")
    folder = write_skill(tmp_path, "pdf-notes")
    client.put(
        "/api/v1/skills/alice/pdf-notes/versions/1.0.0",
        content=pack(folder),
        headers=publish_headers(token.secret, key, folder),
    )
    base = "/api/v1/skills/alice/pdf-notes"
    yanked = client.post(
        f"{base}/versions/1.0.0/yank", json={"reason": "bad release"}, headers=auth(token.secret)
    )
    assert yanked.json()["yanked"] is True and yanked.json()["yank_reason"] == "bad release"
    assert client.get(f"{base}/resolve", params={"range": "latest"}).status_code == 404
    assert client.get(f"{base}/resolve", params={"range": "1.0.0"}).json()["yanked"] is True
    assert (
        client.post(
            f"{base}/versions/1.0.0/yank",
            content=b"x",
            headers={**auth(token.secret), "Content-Type": "text/plain"},
        ).status_code
        == 415
    )
    client.post(f"{base}/versions/1.0.0/unyank", headers=auth(token.secret))
    assert client.get(f"{base}/resolve").json()["version"] == "1.0.0"


def test_methods_are_listed_exactly(client: TestClient) -> None:
    options = client.options("/api/v1/skills/alice/x/versions/1.0.0")
    assert options.status_code == 204
    assert options.headers["Allow"] == "GET, PUT, DELETE, HEAD, OPTIONS"
    refused = client.patch("/api/v1/skills/alice/x/versions/1.0.0")
    assert refused.status_code == 405 and "PUT" in refused.headers["Allow"]


def test_the_document_is_served_and_lists_every_route(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    operations = {op["operationId"] for item in document["paths"].values() for op in item.values()}
    from registry.server.api import HANDLERS

    assert operations == set(HANDLERS)


def test_the_token_bucket_refills_and_forgets_the_oldest_clients() -> None:
    from registry.server.ratelimit import RateLimiter

    clock = Clock()
    limiter = RateLimiter(RateSettings(rate_per_s=2.0, burst=4.0, max_clients=2), clock)
    assert [limiter.take("a", 1.0) for _ in range(4)] == [0.0] * 4
    assert limiter.take("a", 1.0) == pytest.approx(0.5)
    assert limiter.retry_after(0.5) == "1"
    clock.now += 0.5
    assert limiter.take("a", 1.0) == 0.0
    assert limiter.take("a", 10.0) == pytest.approx(
        2.0
    )  # a cost over the burst waits for a full one
    limiter.take("b", 1.0)
    limiter.take("c", 1.0)  # "a" is evicted: it starts full again
    assert limiter.take("a", 4.0) == 0.0
