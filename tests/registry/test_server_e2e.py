"""Publish → search → download → verify through the HTTP API alone, over real HTTP.

The registry runs under uvicorn on a free port; the test is a client that
knows only the API: it creates a publisher (as the admin), gets a token,
registers an Ed25519 key, publishes a signed package, finds it, downloads
it and then trusts nothing it was told without checking it: the content
hash is recomputed from the unpacked files, both signatures are verified
over statements the client builds itself, the entry is proven to be in the
signed log, and a later checkpoint is proven to extend the earlier one.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from registry.archive import pack, unpack
from registry.hashing import content_hash, hash_folder
from registry.server import create_app
from registry.signing import (
    PublicKey,
    PublishStatement,
    RegistryStatement,
    SignatureError,
    SigningKey,
    verify_release,
)
from registry.store import Registry
from registry.store.testing import write_skill
from registry.translog import (
    Checkpoint,
    LogMonitor,
    SignedCheckpoint,
    leaf_hash,
    verify_inclusion,
)

ADMIN = "admin-token-for-the-e2e-test"


@contextlib.asynccontextmanager
async def serving(root: Path) -> AsyncIterator[str]:
    registry = Registry.open(root)
    app = create_app(registry, is_admin=lambda token: token == ADMIN)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_config=None))
    async with asyncio.TaskGroup() as group:
        task = group.create_task(server.serve(sockets=[sock]))
        try:
            yield f"http://127.0.0.1:{port}/api/v1"
        finally:
            server.should_exit = True
            await task
            registry.close()
            sock.close()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def checkpoint_of(view: dict[str, object]) -> SignedCheckpoint:
    checkpoint = Checkpoint(
        str(view["origin"]), int(str(view["size"])), base64.b64decode(str(view["root"]))
    )
    assert checkpoint.encode().decode() == view["signed"]
    return SignedCheckpoint(
        checkpoint, str(view["key_id"]), base64.b64decode(str(view["signature"]))
    )


async def publish(
    http: httpx.AsyncClient, token: str, key: SigningKey, folder: Path, version: str
) -> httpx.Response:
    statement = PublishStatement(f"alice/{folder.name}", version, hash_folder(folder))
    return await http.put(
        f"/skills/alice/{folder.name}/versions/{version}",
        content=pack(folder),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/gzip",
            "X-Skillyard-Key-Id": key.key_id,
            "X-Skillyard-Signature": b64(key.sign(statement.encode())),
        },
    )


@pytest.mark.slow
async def test_publish_search_download_verify_over_http(tmp_path: Path) -> None:
    async with serving(tmp_path / "registry") as base, httpx.AsyncClient(base_url=base) as http:
        admin = {"Authorization": f"Bearer {ADMIN}"}
        assert (
            await http.post("/publishers", json={"name": "alice"}, headers=admin)
        ).status_code == 201
        issued = (
            await http.post("/publishers/alice/tokens", json={"label": "laptop"}, headers=admin)
        ).json()
        token = issued["token"]
        mine = {"Authorization": f"Bearer {token}"}
        assert (await http.get("/whoami", headers=mine)).json() == {
            "admin": False,
            "publisher": "alice",
        }
        key = SigningKey.generate()
        added = await http.post(
            "/publishers/alice/keys", json={"public_key": key.public_key.to_base64()}, headers=mine
        )
        assert added.status_code == 201 and added.json()["key_id"] == key.key_id

        # The client pins the registry's key on first use and keeps a log monitor.
        registry_key = PublicKey.from_base64((await http.get("/registry/key")).json()["public_key"])
        monitor = LogMonitor(registry_key)
        first = checkpoint_of((await http.get("/log/checkpoint")).json())
        monitor.observe(first, [])

        folder = write_skill(
            tmp_path / "src",
            "pdf-tables",
            description="Extract tables from PDF files. Use when a user shares a PDF.",
            tool=True,
            version="1.0.0",
        )
        published = await publish(http, token, key, folder, "1.0.0")
        assert published.status_code == 201, published.text
        assert (await publish(http, token, key, folder, "1.0.0")).status_code == 200  # a retry

        found = (await http.get("/skills", params={"q": "pdf tables"})).json()
        assert [hit["skill"] for hit in found["results"]] == ["alice/pdf-tables"]
        detail = (await http.get("/skills/alice/pdf-tables/resolve", params={"range": "^1"})).json()
        download = await http.get(f"/skills/alice/pdf-tables/versions/{detail['version']}/download")
        assert download.status_code == 200

        files = unpack(download.content)
        digest = content_hash(files)
        assert digest == detail["content_hash"] == download.headers["X-Skillyard-Content-Hash"]
        publish_statement = PublishStatement("alice/pdf-tables", "1.0.0", digest)
        signer = PublicKey.from_base64(detail["publisher_signature"]["public_key"])
        statement = RegistryStatement(
            publish_statement,
            signer.key_id,
            base64.b64decode(detail["publisher_signature"]["signature"]),
            detail["log_index"],
        )
        assert statement.encode().decode() == detail["registry_signature"]["statement"]
        verify_release(
            statement,
            publisher_key=signer,
            registry_key=registry_key,
            registry_signature=base64.b64decode(detail["registry_signature"]["signature"]),
        )
        assert signer == key.public_key  # the key alice registered

        proof = (
            await http.get("/log/proof/inclusion", params={"index": detail["log_index"]})
        ).json()
        signed = checkpoint_of(proof["checkpoint"])
        consistency = (
            await http.get(
                "/log/proof/consistency",
                params={"from": first.checkpoint.size, "to": signed.checkpoint.size},
            )
        ).json()
        monitor.observe(signed, [base64.b64decode(node) for node in consistency["proof"]])
        entries = (
            await http.get("/log/entries", params={"start": detail["log_index"], "limit": 1})
        ).json()
        entry = entries["entries"][0]["entry"].encode()
        assert json.loads(entry)["hash"] == digest
        verify_inclusion(
            leaf_hash(entry),
            detail["log_index"],
            signed.checkpoint.size,
            [base64.b64decode(node) for node in proof["proof"]],
            signed.checkpoint.root,
        )


@pytest.mark.slow
async def test_a_tampered_download_is_caught_by_the_client(tmp_path: Path) -> None:
    """The same checks refuse a package whose bytes changed after signing."""
    async with serving(tmp_path / "registry") as base, httpx.AsyncClient(base_url=base) as http:
        admin = {"Authorization": f"Bearer {ADMIN}"}
        await http.post("/publishers", json={"name": "alice"}, headers=admin)
        key = SigningKey.generate()
        await http.post(
            "/publishers/alice/keys", json={"public_key": key.public_key.to_base64()}, headers=admin
        )
        folder = write_skill(tmp_path / "src", "pdf-tables", tool=True, version="1.0.0")
        assert (await publish(http, ADMIN, key, folder, "1.0.0")).status_code == 201
        detail = (await http.get("/skills/alice/pdf-tables/versions/1.0.0")).json()
        (folder / "scripts" / "echo.py").write_text("print('other')\n")
        tampered = content_hash(unpack(pack(folder)))
        statement = RegistryStatement(
            PublishStatement("alice/pdf-tables", "1.0.0", tampered),
            key.key_id,
            base64.b64decode(detail["publisher_signature"]["signature"]),
            detail["log_index"],
        )
        registry_key = PublicKey.from_base64((await http.get("/registry/key")).json()["public_key"])
        with pytest.raises(SignatureError, match="publisher signature"):
            verify_release(
                statement,
                publisher_key=key.public_key,
                registry_key=registry_key,
                registry_signature=base64.b64decode(detail["registry_signature"]["signature"]),
            )
