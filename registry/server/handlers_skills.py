"""Handlers for skills and versions: search, detail, resolve, publish, files, download, yank."""

from __future__ import annotations

import asyncio
import hashlib

from starlette.responses import JSONResponse, Response

from registry.server.context import Call, Context, media_type, read_body, read_json
from registry.server.errors import ApiError
from registry.server.views import files_view, scan_view, skill_view, summary_view, version_view
from registry.signing import b64decode
from registry.store.publish import PublishRequest
from registry.store.records import SearchQuery, Sort, VersionRecord

__all__ = ["SKILL_HANDLERS"]

_IMMUTABLE = "public, max-age=31536000, immutable"
# A file from a package is data, never a page: no sniffing, no scripts, no inline display.
_FILE_HEADERS = {
    "Content-Disposition": "attachment",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "X-Content-Type-Options": "nosniff",
}


def _version(ctx: Context, record: VersionRecord, status: int = 200) -> JSONResponse:
    return JSONResponse(
        version_view(record, ctx.registry.publisher_key(record.publisher_key_id)), status
    )


def _skill_args(call: Call) -> tuple[str, str]:
    return call.params["owner"], call.params["name"]


def _version_args(call: Call) -> tuple[str, str, str]:
    return call.params["owner"], call.params["name"], call.params["version"]


async def search(ctx: Context, call: Call) -> Response:
    p = call.params
    query = SearchQuery(
        text=p["q"] or "",
        owner=p["owner"],
        verdict=p["verdict"],
        has_tools=p["has_tools"],
        sort=Sort(p["sort"]),
        limit=p["limit"],
        offset=p["offset"],
    )
    page = ctx.registry.search(query)
    results = [summary_view(hit) for hit in page.hits]
    body = {"total": page.total, "limit": query.limit, "offset": query.offset, "results": results}
    return JSONResponse(body)


async def get_skill(ctx: Context, call: Call) -> Response:
    return JSONResponse(skill_view(ctx.registry.skill(*_skill_args(call), call.principal)))


async def release(ctx: Context, call: Call) -> Response:
    call.require(admin=True)
    return JSONResponse(skill_view(ctx.registry.release(*_skill_args(call), call.principal)))


async def resolve(ctx: Context, call: Call) -> Response:
    owner, name = _skill_args(call)
    record = ctx.registry.resolve(owner, name, call.params["range"], call.principal)
    return _version(ctx, record)


async def get_version(ctx: Context, call: Call) -> Response:
    return _version(ctx, ctx.registry.version(*_version_args(call), call.principal))


async def publish(ctx: Context, call: Call) -> Response:
    owner, name, version = _version_args(call)
    call.require(owner)
    if media_type(call.request) != "application/gzip":
        raise ApiError(415, "unsupported_media_type", "send the package as application/gzip")
    signature = b64decode(
        call.params["x-skillyard-signature"], what="X-Skillyard-Signature", length=64
    )
    archive = await read_body(call.request, ctx.settings.max_archive_bytes)
    request = PublishRequest(
        owner, name, version, archive, call.params["x-skillyard-key-id"], signature
    )
    async with ctx.publish_slots:
        result = await asyncio.to_thread(ctx.registry.publish, request, call.principal)
    view = version_view(result.record, ctx.registry.publisher_key(result.record.publisher_key_id))
    body = {"created": result.created, "version": view, "warnings": list(result.warnings)}
    return JSONResponse(body, 201 if result.created else 200)


async def delete(ctx: Context, call: Call) -> Response:
    call.require(admin=True)
    return _version(ctx, ctx.registry.delete(*_version_args(call), call.principal))


async def list_files(ctx: Context, call: Call) -> Response:
    record, files = ctx.registry.files(*_version_args(call), call.principal)
    return JSONResponse(files_view(record, files))


async def get_file(ctx: Context, call: Call) -> Response:
    path = call.params["path"]
    data = await asyncio.to_thread(
        ctx.registry.read_file, *_version_args(call), path, call.principal
    )
    headers = {**_FILE_HEADERS, "X-Skillyard-File-Sha256": hashlib.sha256(data).hexdigest()}
    return Response(data, media_type="application/octet-stream", headers=headers)


async def download(ctx: Context, call: Call) -> Response:
    record, data = await asyncio.to_thread(
        ctx.registry.archive, *_version_args(call), call.principal
    )
    headers = {
        "X-Skillyard-Content-Hash": record.content_hash,
        "X-Skillyard-Archive-Sha256": record.archive_sha256,
        "X-Skillyard-Log-Index": str(record.log_index),
        "ETag": f'"{record.archive_sha256}"',
        "Cache-Control": _IMMUTABLE,
        "Content-Disposition": f'attachment; filename="{record.name}-{record.version}.tar.gz"',
    }
    return Response(data, media_type="application/gzip", headers=headers)


async def yank(ctx: Context, call: Call) -> Response:
    owner = call.params["owner"]
    call.require(owner)
    body = await read_json(call, ctx.settings.max_json_bytes, optional=True)
    reason = str((body or {}).get("reason", ""))
    record = ctx.registry.yank(*_version_args(call), reason, call.principal)
    return _version(ctx, record)


async def unyank(ctx: Context, call: Call) -> Response:
    call.require(call.params["owner"])
    record = ctx.registry.yank(*_version_args(call), "", call.principal, yanked=False)
    return _version(ctx, record)


async def scan_report(ctx: Context, call: Call) -> Response:
    record = ctx.registry.version(*_version_args(call), call.principal)
    return JSONResponse(scan_view(record, record.scan))


SKILL_HANDLERS = {
    "searchSkills": search,
    "getSkill": get_skill,
    "releaseSkill": release,
    "resolveVersion": resolve,
    "getVersion": get_version,
    "publishVersion": publish,
    "deleteVersion": delete,
    "listFiles": list_files,
    "getFile": get_file,
    "downloadVersion": download,
    "yankVersion": yank,
    "unyankVersion": unyank,
    "getScanReport": scan_report,
}
