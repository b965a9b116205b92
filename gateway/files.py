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
an unknown id — is 401 or 404 and reveals nothing.  An id the caller's own
session was sent (its ``chat.file`` event is stored) but whose file is gone
is a 404 that says so (``"error": "expired"``).  The bytes always come as
an attachment (``Content-Disposition: attachment``), with their media type
only when it is one a browser will not run (images, PDF, audio, video, plain
text, CSV, JSON), else ``application/octet-stream``, and under a
``sandbox`` Content-Security-Policy: a file a user or a model made is never
rendered as a page of ours.

Retention: a sent file lives ``keep_s`` seconds (``files.keep_days``), counted
from when its bytes were written (their mtime).  Past that :meth:`FileStore.find`
no longer finds it, so expiry is exact; :meth:`FileStore.sweep` deletes it
from the disk, together with what an interrupted send left behind.
:func:`sweeping` sweeps at start-up and then every hour while the server runs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import stat
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.events import SessionKey
from gateway.store import GatewayStore

__all__ = [
    "DEFAULT_KEEP_S",
    "SWEEP_INTERVAL_S",
    "FileStore",
    "StoredFile",
    "file_routes",
    "safe_media_type",
    "sweeping",
]

log = logging.getLogger(__name__)

DEFAULT_KEEP_S = 7 * 86400.0  # as FileSettings.keep_days
SWEEP_INTERVAL_S = 3600.0  # only disk space waits for a sweep: find() expires files itself
_FILE_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
_OUTBOX_NAME = re.compile(r"[A-Za-z0-9_-]{16,64}(\.json)?")
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
    """The outbox: read, and swept of expired files; ``directory`` need not exist yet.

    ``clock`` is wall-clock time (it is compared with file mtimes)."""

    def __init__(
        self,
        directory: Path,
        *,
        keep_s: float = DEFAULT_KEEP_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._directory = directory
        self._keep_s = keep_s
        self._clock = clock

    @property
    def keep_s(self) -> float:
        return self._keep_s

    def find(self, session: str, file_id: str) -> StoredFile | None:
        """The file ``file_id`` of ``session``; None for an id of another shape or
        session, or one that is unknown, unfinished or expired."""
        if not _FILE_ID.fullmatch(file_id):
            return None
        meta = self._meta(file_id)
        if meta is None or meta.get("session") != session:
            return None
        name, media_type, size = meta.get("name"), meta.get("media_type"), meta.get("size")
        if not (isinstance(name, str) and isinstance(media_type, str) and isinstance(size, int)):
            return None
        path = self._directory / file_id
        try:
            info = path.stat()
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode) or info.st_size != size or self._expired(info):
            return None
        return StoredFile(path, name, media_type, size)

    def sweep(self) -> int:
        """Delete expired files, and leftovers of sends that never finished; how many
        entries were removed.  Blocking (run it in a thread); a file that cannot be
        removed is logged and left for the next sweep."""
        try:
            with os.scandir(self._directory) as listing:
                entries = list(listing)
        except FileNotFoundError:
            return 0
        except OSError as exc:
            log.warning("cannot read the outbox %s: %s", self._directory, exc.strerror or exc)
            return 0
        # Metadata first: a file without it is never served, so a sweep cut short
        # leaves nothing half there.
        entries.sort(key=lambda entry: not entry.name.endswith(".json"))
        return sum(self._remove_if_expired(entry) for entry in entries)

    def _remove_if_expired(self, entry: os.DirEntry[str]) -> bool:
        if not _OUTBOX_NAME.fullmatch(entry.name):
            return False  # not ours
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode) or not self._expired(info):
                return False
            os.unlink(entry.path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            log.warning("cannot remove %s from the outbox: %s", entry.name, exc.strerror or exc)
            return False
        return True

    def _expired(self, info: os.stat_result) -> bool:
        return info.st_mtime < self._clock() - self._keep_s

    def _meta(self, file_id: str) -> dict[str, object] | None:
        try:
            with open(self._directory / f"{file_id}.json", "rb") as handle:
                data = json.loads(handle.read(_MAX_META_BYTES))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


@asynccontextmanager
async def sweeping(
    store: FileStore,
    *,
    every_s: float = SWEEP_INTERVAL_S,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncIterator[None]:
    """Sweep ``store`` now, then every ``every_s`` seconds until the block ends."""
    await _sweep(store)
    tasks = asyncio.TaskGroup()
    await tasks.__aenter__()
    sweeper = tasks.create_task(_sweep_every(store, every_s, sleep), name="outbox-sweep")
    try:
        yield
    finally:
        sweeper.cancel()
        # Not the body's error: the group would hand it back in an ExceptionGroup.
        await tasks.__aexit__(None, None, None)


async def _sweep_every(
    store: FileStore, every_s: float, sleep: Callable[[float], Awaitable[None]]
) -> None:
    while True:
        await sleep(every_s)
        await _sweep(store)


async def _sweep(store: FileStore) -> None:
    removed = await asyncio.to_thread(store.sweep)
    if removed:
        log.info("removed %d expired file(s) from the outbox", removed)


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
        if not _owned(sessions, principal, session):
            return _not_found()
        found = store.find(session, file_id)
        if found is None:
            return _expired(store) if sessions.sent_file(session, file_id) else _not_found()
        return FileResponse(
            found.path,
            media_type=safe_media_type(found.media_type),
            filename=found.name,
            content_disposition_type="attachment",
            headers=_FILE_HEADERS,
        )

    # ``path``: a session key may hold a "/" (it is not escaped in the key).
    return [Route("/files/{session:path}/{file_id}", download, methods=["GET", "HEAD"])]


def _not_found() -> Response:
    return JSONResponse({"error": "not_found", "message": "no such file"}, 404)


def _expired(store: FileStore) -> Response:
    """A file this session was sent, no longer kept: 404, but saying why."""
    days = store.keep_s / 86400
    message = f"this file has expired: sent files are kept for {days:g} days"
    return JSONResponse({"error": "expired", "message": message}, 404)


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
