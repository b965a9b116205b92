"""Files the assistant sent: found in the outbox, served over HTTP to their session's owner.

Theory of operation
-------------------
The brain's ``send_file`` tool copies a file into the outbox
(``<data_dir>/outbox/``: ``<file id>`` holds the bytes, ``<file id>.json``
``{"session", "name", "media_type", "size"}``, written last) and the session
gets a ``chat.file`` event naming the id.  :class:`FileStore` is the
gateway's read side: it finds a file only by an id of the shape the brain
makes (letters, digits, ``-`` and ``_``), so no request can name a path, and
only for the session recorded beside it, so one session's id is nothing in
another.  The chat channels upload from it; :func:`file_routes` serves it to
protocol clients:

``GET /files/{session}/{file_id}`` with ``Authorization: Bearer <token>``.
The session must be the caller's (as for ``sessions.history``); anything
else — a wrong token, another principal's session, an id of another session,
an unknown id — is 401 or 404 and reveals nothing.  The bytes always come as
an attachment (``Content-Disposition: attachment``), with their media type
only when it is one a browser will not run (images, PDF, audio, video, plain
text, CSV, JSON), else ``application/octet-stream``, and under a
``sandbox`` Content-Security-Policy: a file a user or a model made is never
rendered as a page of ours.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.events import SessionKey
from gateway.store import GatewayStore

__all__ = ["FileStore", "StoredFile", "file_routes", "safe_media_type"]

_FILE_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
_MAX_META_BYTES = 4096
# Types a browser shows or plays but never runs; anything else is served as bytes.
_SAFE_TYPES = frozenset(
    {"application/pdf", "application/json", "text/plain", "text/csv"}
    | {"image/png", "image/jpeg", "image/gif", "image/webp"}
    | {"audio/mpeg", "audio/ogg", "audio/wav", "video/mp4", "video/webm"}
)
_OCTETS = "application/octet-stream"
_FILE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A sent file as its session may fetch it; ``path`` holds exactly ``size`` bytes."""

    path: Path
    name: str
    media_type: str
    size: int


class FileStore:
    """The outbox, read-only; ``directory`` need not exist yet."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def find(self, session: str, file_id: str) -> StoredFile | None:
        """The file ``file_id`` of ``session``; None for an id of another shape or
        session, or one that is unknown or unfinished."""
        if not _FILE_ID.fullmatch(file_id):
            return None
        meta = self._meta(file_id)
        if meta is None or meta.get("session") != session:
            return None
        name, media_type, size = meta.get("name"), meta.get("media_type"), meta.get("size")
        if not isinstance(name, str) or not isinstance(media_type, str):
            return None
        path = self._directory / file_id
        if not isinstance(size, int) or not path.is_file() or path.stat().st_size != size:
            return None
        return StoredFile(path, name, media_type, size)

    def _meta(self, file_id: str) -> dict[str, object] | None:
        try:
            with open(self._directory / f"{file_id}.json", "rb") as handle:
                data = json.loads(handle.read(_MAX_META_BYTES))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


def safe_media_type(media_type: str) -> str:
    """``media_type`` if a browser will not run it, else ``application/octet-stream``."""
    plain = media_type.split(";")[0].strip().lower()
    if plain not in _SAFE_TYPES:
        return _OCTETS
    return "text/plain; charset=utf-8" if plain == "text/plain" else plain


def file_routes(
    store: FileStore,
    sessions: GatewayStore,
    principal_for: Callable[[str | None], str | None],
) -> Sequence[BaseRoute]:
    """``GET /files/{session}/{file_id}``; ``principal_for`` checks a presented token."""

    async def download(request: Request) -> Response:
        principal = principal_for(_bearer(request))
        if principal is None:
            return JSONResponse(
                {"error": "unauthorized", "message": "send 'Authorization: Bearer <token>'"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="skillyard"'},
            )
        session, file_id = request.path_params["session"], request.path_params["file_id"]
        found = _owned(sessions, principal, session) and store.find(session, file_id)
        if not found:
            return JSONResponse({"error": "not_found", "message": "no such file"}, 404)
        return FileResponse(
            found.path,
            media_type=safe_media_type(found.media_type),
            filename=found.name,
            content_disposition_type="attachment",
            headers=_FILE_HEADERS,
        )

    # ``path``: a session key may hold a "/" (it is not escaped in the key).
    return [Route("/files/{session:path}/{file_id}", download, methods=["GET", "HEAD"])]


def _owned(sessions: GatewayStore, principal: str, session: str) -> bool:
    try:
        key = str(SessionKey.parse(session))
    except ValueError:
        return False
    record = sessions.get_session(key)
    return record is not None and record.principal == principal and key == session


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
