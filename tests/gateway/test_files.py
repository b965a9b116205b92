"""GET /files/{session}/{file_id}: the owner's session's files only, always as an attachment;
and the outbox's retention: files expire after ``keep_s`` and sweeps delete them."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette

from brain.models.base import ToolCall
from brain.tools import CallContext, ToolRegistry, workspace_dir
from brain.tools.send_file import SendFileTool, outbox_dir
from gateway.auth import AccessToken
from gateway.files import FileStore, file_routes, safe_media_type, sweeping
from gateway.store import GatewayStore

TOKEN = "files-test-token-0123456789"
MINE = "web:owner:main"
OTHER = "web:owner:other"
CHANNEL = "telegram:7:42"  # a channel's session: not the web owner's
DAY = 86400.0
KEEP_S = 7 * DAY


class Clock:
    """Wall-clock time (file mtimes are real), moved on by the test."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def files(data_dir: Path, clock: Clock) -> FileStore:
    return FileStore(outbox_dir(data_dir), keep_s=KEEP_S, clock=clock)


@pytest.fixture
def sessions(data_dir: Path) -> Iterator[GatewayStore]:
    store = GatewayStore.open(data_dir / "state.db")
    store.ensure_session(MINE, "owner", 0.0)
    store.ensure_session(OTHER, "owner", 0.0)
    store.ensure_session(CHANNEL, "telegram:7", 0.0)
    yield store
    store.close()


@pytest.fixture
async def client(files: FileStore, sessions: GatewayStore) -> AsyncIterator[httpx.AsyncClient]:
    token = AccessToken(TOKEN, "env")
    routes = file_routes(files, sessions, token.principal_for)
    transport = httpx.ASGITransport(app=Starlette(routes=list(routes)))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as test_client:
        yield test_client


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


# --- retention -------------------------------------------------------------------------------


def announce(sessions: GatewayStore, session: str, file_id: str) -> None:
    """Store the ``chat.file`` event the router stores when a file is sent."""
    payload = {"session": session, "run_id": "r", "file_id": file_id, "name": "a.txt"}
    sessions.append_event(session, "chat.file", payload | {"media_type": "text/plain"}, 0.0)


async def test_an_expired_file_is_a_404_that_says_so(
    client: httpx.AsyncClient, data_dir: Path, sessions: GatewayStore, clock: Clock
) -> None:
    file_id = await sent(data_dir, MINE, "a.txt", b"old news")
    announce(sessions, MINE, file_id)
    clock.ahead = KEEP_S - 60
    assert (await client.get(url(MINE, file_id), headers=AUTH)).status_code == 200

    clock.ahead = KEEP_S + 60  # not swept yet: expiry does not wait for the sweep
    response = await client.get(url(MINE, file_id), headers=AUTH)
    assert response.status_code == 404
    assert response.json() == {
        "error": "expired",
        "message": "this file has expired: sent files are kept for 7 days",
    }
    assert b"old news" not in response.content


async def test_a_swept_file_is_expired_only_to_its_own_session(
    client: httpx.AsyncClient,
    data_dir: Path,
    sessions: GatewayStore,
    files: FileStore,
    clock: Clock,
) -> None:
    file_id = await sent(data_dir, MINE, "a.txt", b"old news")
    announce(sessions, MINE, file_id)
    clock.ahead = KEEP_S + 60
    assert files.sweep() == 2
    mine = await client.get(url(MINE, file_id), headers=AUTH)
    assert mine.json()["error"] == "expired"
    other = await client.get(url(OTHER, file_id), headers=AUTH)  # says nothing about the id
    assert (other.status_code, other.json()["error"]) == (404, "not_found")
    never = await client.get(url(MINE, "B" * 24), headers=AUTH)
    assert (never.status_code, never.json()["error"]) == (404, "not_found")


def backdate(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


async def test_a_sweep_removes_expired_files_and_leftovers_only(
    data_dir: Path, files: FileStore
) -> None:
    old = await sent(data_dir, MINE, "old.txt", b"old")
    fresh = await sent(data_dir, MINE, "fresh.txt", b"fresh")
    leftover = await sent(data_dir, MINE, "cut.txt", b"cut")  # its metadata never came
    outbox = outbox_dir(data_dir)
    (outbox / f"{leftover}.json").unlink()
    foreign = outbox / "notes.txt"  # not a name the brain makes: not ours to delete
    foreign.write_text("keep me")
    for path in (outbox / old, outbox / f"{old}.json", outbox / leftover, foreign):
        backdate(path, KEEP_S + 60)

    assert files.sweep() == 3
    assert sorted(p.name for p in outbox.iterdir()) == sorted([fresh, f"{fresh}.json", "notes.txt"])
    assert files.find(MINE, fresh) is not None
    assert files.find(MINE, old) is None
    assert files.sweep() == 0


def test_sweeping_an_outbox_that_does_not_exist_yet_is_a_no_op(tmp_path: Path) -> None:
    assert FileStore(tmp_path / "nothing").sweep() == 0


async def test_sweeping_sweeps_at_start_then_after_every_interval(
    data_dir: Path, files: FileStore
) -> None:
    naps: asyncio.Queue[float] = asyncio.Queue()
    wake: asyncio.Queue[None] = asyncio.Queue()

    async def sleep(seconds: float) -> None:
        await naps.put(seconds)
        await wake.get()

    first = await sent(data_dir, MINE, "a.txt", b"a")
    backdate(outbox_dir(data_dir) / first, KEEP_S + 60)
    async with sweeping(files, every_s=600, sleep=sleep):
        assert not (outbox_dir(data_dir) / first).exists()  # swept before the block began
        assert await naps.get() == 600
        second = await sent(data_dir, MINE, "b.txt", b"b")
        backdate(outbox_dir(data_dir) / second, KEEP_S + 60)
        wake.put_nowait(None)
        assert await naps.get() == 600  # the next nap: the sweep in between is done
        assert not (outbox_dir(data_dir) / second).exists()
    assert (outbox_dir(data_dir) / f"{second}.json").exists()  # still fresh
