"""GET /files/{session}/{file_id}: the owner's session's files only, always as an attachment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette

from brain.models.base import ToolCall
from brain.tools import CallContext, ToolRegistry, workspace_dir
from brain.tools.send_file import SendFileTool, outbox_dir
from gateway.auth import AccessToken
from gateway.files import FileStore, file_routes, safe_media_type
from gateway.store import GatewayStore

TOKEN = "files-test-token-0123456789"
MINE = "web:owner:main"
OTHER = "web:owner:other"
CHANNEL = "telegram:7:42"  # a channel's session: not the web owner's


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def client(data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    store = GatewayStore.open(data_dir / "state.db")
    store.ensure_session(MINE, "owner", 0.0)
    store.ensure_session(OTHER, "owner", 0.0)
    store.ensure_session(CHANNEL, "telegram:7", 0.0)
    token = AccessToken(TOKEN, "env")
    routes = file_routes(FileStore(outbox_dir(data_dir)), store, token.principal_for)
    transport = httpx.ASGITransport(app=Starlette(routes=list(routes)))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as test_client:
            yield test_client
    finally:
        store.close()


async def sent(data_dir: Path, session: str, name: str, content: bytes) -> str:
    """Send ``name`` the way the brain does; the file id."""
    (workspace_dir(data_dir, session) / name).write_bytes(content)
    registry = ToolRegistry([SendFileTool(data_dir).tool()])
    context = CallContext(user="owner", session=session)
    outcome = await registry.execute(ToolCall("c", "send_file", {"path": name}), context)
    assert outcome.ok, outcome
    return outcome.files[0].file_id


def url(session: str, file_id: str) -> str:
    return f"/files/{quote(session, safe='')}/{file_id}"


AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_the_owner_downloads_a_file_as_an_attachment(
    client: httpx.AsyncClient, data_dir: Path
) -> None:
    file_id = await sent(data_dir, MINE, "naïve report.csv", b"a,b\n1,2\n")
    response = await client.get(url(MINE, file_id), headers=AUTH)
    assert response.status_code == 200
    assert response.content == b"a,b\n1,2\n"
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=utf-8''na%C3%AFve%20report.csv" in disposition
    assert "sandbox" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "private, no-store"


async def test_html_and_scripts_are_never_served_as_themselves(
    client: httpx.AsyncClient, data_dir: Path
) -> None:
    for name in ("page.html", "image.svg", "code.js"):
        file_id = await sent(data_dir, MINE, name, b"<script>alert(1)</script>")
        response = await client.get(url(MINE, file_id), headers=AUTH)
        assert response.headers["content-type"] == "application/octet-stream", name
        assert response.headers["content-disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": TOKEN}],
)
async def test_without_the_token_nothing_is_served(
    client: httpx.AsyncClient, data_dir: Path, headers: dict[str, str]
) -> None:
    file_id = await sent(data_dir, MINE, "a.txt", b"secret")
    response = await client.get(url(MINE, file_id), headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert b"secret" not in response.content


async def test_another_sessions_file_and_others_sessions_are_not_found(
    client: httpx.AsyncClient, data_dir: Path
) -> None:
    mine = await sent(data_dir, MINE, "a.txt", b"mine")
    theirs = await sent(data_dir, CHANNEL, "b.txt", b"theirs")
    assert (
        await client.get(url(OTHER, mine), headers=AUTH)
    ).status_code == 404  # my id, other session
    assert (
        await client.get(url(CHANNEL, theirs), headers=AUTH)
    ).status_code == 404  # not my session
    assert (await client.get(url("web:owner:nope", mine), headers=AUTH)).status_code == 404
    assert (await client.get(url("not a key", mine), headers=AUTH)).status_code == 404
    assert (await client.get(url(MINE, "A" * 24), headers=AUTH)).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/files/web%3Aowner%3Amain/..%2F..%2Fstate.db",
        "/files/web:owner:main/../../state.db",
        "/files/web:owner:main/%2e%2e",
        "/files/..%2Fstate.db/xxxxxxxxxxxxxxxxxxxx",
        "/files/web:owner:main/state.db",
    ],
)
async def test_traversal_reaches_nothing(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers=AUTH)
    assert response.status_code == 404
    assert b"SQLite" not in response.content


async def test_an_unfinished_or_tampered_file_is_not_served(
    client: httpx.AsyncClient, data_dir: Path
) -> None:
    unfinished = await sent(data_dir, MINE, "a.txt", b"12345")
    (outbox_dir(data_dir) / f"{unfinished}.json").unlink()  # its metadata is written last
    tampered = await sent(data_dir, MINE, "b.txt", b"12345")
    (outbox_dir(data_dir) / tampered).write_bytes(b"123456789")
    assert (await client.get(url(MINE, unfinished), headers=AUTH)).status_code == 404
    assert (await client.get(url(MINE, tampered), headers=AUTH)).status_code == 404


def test_only_inert_media_types_are_kept() -> None:
    assert safe_media_type("image/png") == "image/png"
    assert safe_media_type("Text/Plain; charset=latin-1") == "text/plain; charset=utf-8"
    for risky in ("text/html", "image/svg+xml", "application/xhtml+xml", "text/javascript", ""):
        assert safe_media_type(risky) == "application/octet-stream"
