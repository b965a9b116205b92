"""Handlers for publishers, their tokens and keys, the log, and the registry's own key."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from registry.server.context import Call, Context, read_json
from registry.server.views import (
    checkpoint_view,
    key_view,
    publisher_view,
    summary_view,
    token_view,
)
from registry.signing import PublicKey, b64encode
from registry.store.errors import NotFound
from registry.store.records import SearchQuery, Sort
from registry.store.settings import DAY_S

__all__ = ["LOG_HANDLERS", "PUBLISHER_HANDLERS"]


async def create_publisher(ctx: Context, call: Call) -> Response:
    call.require(admin=True)
    body = await read_json(call, ctx.settings.max_json_bytes)
    publisher = ctx.registry.publishers.create(body["name"], body.get("display_name", ""))
    return JSONResponse(publisher_view(publisher), 201)


async def get_publisher(ctx: Context, call: Call) -> Response:
    name = call.params["publisher"]
    view = publisher_view(ctx.registry.publishers.get(name))
    keys = ctx.registry.publishers.keys(name)
    page = ctx.registry.search(SearchQuery(owner=name, sort=Sort.DOWNLOADS, limit=100))
    view.update(
        keys=[key_view(key) for key in keys], skills=[summary_view(hit) for hit in page.hits]
    )
    return JSONResponse(view)


async def list_tokens(ctx: Context, call: Call) -> Response:
    name = call.params["publisher"]
    call.require(name)
    tokens = ctx.registry.publishers.tokens(name)
    return JSONResponse({"tokens": [token_view(token) for token in tokens]})


async def create_token(ctx: Context, call: Call) -> Response:
    name = call.params["publisher"]
    call.require(name)
    body = await read_json(call, ctx.settings.max_json_bytes)
    days = body.get("expires_in_days")
    ttl = ctx.registry.settings.token_ttl_s if days is None else days * DAY_S
    issued = ctx.registry.publishers.issue_token(name, body["label"], ttl)
    return JSONResponse({**token_view(issued.record), "token": issued.secret}, 201)


async def revoke_token(ctx: Context, call: Call) -> Response:
    name = call.params["publisher"]
    call.require(name)
    record = ctx.registry.publishers.revoke_token(name, call.params["token_id"])
    return JSONResponse(token_view(record))


async def list_keys(ctx: Context, call: Call) -> Response:
    keys = ctx.registry.publishers.keys(call.params["publisher"])
    return JSONResponse({"keys": [key_view(key) for key in keys]})


async def add_key(ctx: Context, call: Call) -> Response:
    name = call.params["publisher"]
    call.require(name)
    body = await read_json(call, ctx.settings.max_json_bytes)
    key = PublicKey.from_base64(body["public_key"])
    return JSONResponse(key_view(ctx.registry.publishers.add_key(name, key)), 201)


async def revoke_key(ctx: Context, call: Call) -> Response:
    name = call.params["publisher"]
    call.require(name)
    return JSONResponse(key_view(ctx.registry.publishers.revoke_key(name, call.params["key_id"])))


async def whoami(ctx: Context, call: Call) -> Response:
    principal = call.principal
    return JSONResponse({"admin": principal.admin, "publisher": principal.publisher})


PUBLISHER_HANDLERS = {
    "createPublisher": create_publisher,
    "getPublisher": get_publisher,
    "listTokens": list_tokens,
    "createToken": create_token,
    "revokeToken": revoke_token,
    "listKeys": list_keys,
    "addKey": add_key,
    "revokeKey": revoke_key,
    "whoami": whoami,
}


async def checkpoint(ctx: Context, call: Call) -> Response:
    return JSONResponse(checkpoint_view(ctx.registry.log.checkpoint(call.params["size"])))


async def log_entries(ctx: Context, call: Call) -> Response:
    log = ctx.registry.log
    entries = log.entries(call.params["start"], call.params["limit"])
    views = [
        {"index": index, "entry": entry.decode("utf-8"), "leaf_hash": b64encode(leaf)}
        for index, entry, leaf in entries
    ]
    return JSONResponse({"size": log.size(), "entries": views})


async def inclusion(ctx: Context, call: Call) -> Response:
    log = ctx.registry.log
    index, size = call.params["index"], call.params["size"]
    size = log.size() if size is None else size
    if index >= size:
        raise NotFound(f"the log of size {size} has no entry {index}")
    proof = log.inclusion(index, size)
    view = {
        "index": index,
        "size": size,
        "leaf_hash": b64encode(log.entry(index)[1]),
        "proof": [b64encode(node) for node in proof],
        "checkpoint": checkpoint_view(log.checkpoint(size)),
    }
    return JSONResponse(view)


async def consistency(ctx: Context, call: Call) -> Response:
    log = ctx.registry.log
    old, new = call.params["from"], call.params["to"]
    new = log.size() if new is None else new
    if old > new:
        raise NotFound(f"no consistency proof from size {old} to the smaller size {new}")
    proof = log.consistency(old, new)
    view = {
        "from": old,
        "to": new,
        "proof": [b64encode(node) for node in proof],
        "checkpoint": checkpoint_view(log.checkpoint(new)),
    }
    return JSONResponse(view)


async def registry_key(ctx: Context, call: Call) -> Response:
    key = ctx.registry.public_key
    view = {
        "key_id": key.key_id,
        "public_key": key.to_base64(),
        "fingerprint": key.fingerprint,
        "algorithm": "ed25519",
        "origin": ctx.registry.log.origin,
    }
    return JSONResponse(view)


LOG_HANDLERS = {
    "getCheckpoint": checkpoint,
    "getLogEntries": log_entries,
    "getInclusionProof": inclusion,
    "getConsistencyProof": consistency,
    "getRegistryKey": registry_key,
}
