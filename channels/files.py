"""Files that come with messages: fetched within a size cap, written privately under our names.

Theory of operation
-------------------
A normaliser reports a message's files as references (``Attachment.ref``); the
channel host asks the adapter to fetch them only once the access policy has
accepted the message (``ChannelAdapter.fetch_attachments``), so a stranger
cannot make the gateway download anything.  Each adapter knows how to get a
file's bytes from its platform; everything else is here, the same for all:

* the size cap (:class:`SizeCap`), checked against what the platform
  declares before downloading and against the bytes while they come, so an
  oversized file is never held whole in memory;
* where a file lands (:class:`AttachmentFolder`):
  ``<attachments dir>/<conversation>/<message>-<n>-<random><ext>``.  Every part
  of the path is ours — ids are used only when they are plain letters, digits
  and dashes, the extension comes from the MIME type — so a name a user chose
  can never pick where a file goes;
* writing: a new file (never an existing one) that only its owner can read;
* a file that cannot be fetched is logged and left without ``local_path``:
  the message still goes through.

Files going out (``SendFile``) are read here too (:func:`read_outbound`), so
that every adapter refuses an unreadable or changed file the same way.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import os
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from channels.base import OutboundFile
from channels.errors import ChannelError, ChannelRequestError
from gateway.events import Attachment, AttachmentKind, InboundMessage

__all__ = [
    "AttachmentFolder",
    "Download",
    "SizeCap",
    "download_capped",
    "extension_for",
    "kind_of",
    "origin_of",
    "read_outbound",
    "write_private",
]

log = logging.getLogger(__name__)

Download = Callable[[Attachment], Awaitable[bytes]]

_CHUNK = 64 * 1024
_SAFE_PART = re.compile(r"[A-Za-z0-9_-]{1,64}")
_EXTENSION = re.compile(r"\.[a-z0-9]{1,8}")
_PREFERRED = {  # mimetypes' first guess is sometimes odd (.jpe, .oga)
    "image/jpeg": ".jpg",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "video/mp4": ".mp4",
    "image/webp": ".webp",
    "text/plain": ".txt",
}


@dataclass(frozen=True, slots=True)
class SizeCap:
    """At most ``max_bytes`` per file; refusals name ``channel``."""

    max_bytes: int
    channel: str

    def check(self, size: object, what: str) -> None:
        """Raise ``ChannelRequestError`` when ``size`` (if it is a number) is over the cap;
        ``what`` says where the size comes from ("declared by getFile")."""
        if isinstance(size, int) and size > self.max_bytes:
            raise ChannelRequestError(
                f"the file is {size} bytes ({what}), over the {self.max_bytes}-byte cap",
                channel=self.channel,
            )


class AttachmentFolder:
    """Where one channel's files go; :meth:`fetch` fills in ``local_path``."""

    def __init__(self, directory: Path, cap: SizeCap) -> None:
        self._directory = directory
        self.cap = cap

    async def fetch(
        self,
        message: InboundMessage,
        download: Download,
        *,
        wanted: Callable[[Attachment], bool] = lambda item: True,
    ) -> InboundMessage:
        """``message`` with ``local_path`` set on every wanted attachment that
        ``download`` could fetch; ``download`` raises ``ChannelError`` for one it cannot."""
        if not message.attachments:
            return message
        fetched = []
        for index, item in enumerate(message.attachments, start=1):
            fetched.append(
                await self._one(message, index, item, download) if wanted(item) else item
            )
        return replace(message, attachments=tuple(fetched))

    async def _one(
        self, message: InboundMessage, index: int, item: Attachment, download: Download
    ) -> Attachment:
        try:
            self.cap.check(item.size, "declared by the message")
            data = await download(item)
            self.cap.check(len(data), "downloaded")
        except ChannelError as exc:
            log.warning(
                "%s: attachment %d of %s not downloaded: %s",
                self.cap.channel,
                index,
                message.id,
                exc,
            )
            return item
        path = self.path_for(message, index, item)
        await asyncio.to_thread(write_private, path, data)
        return replace(item, local_path=str(path), size=len(data))

    def path_for(self, message: InboundMessage, index: int, item: Attachment) -> Path:
        folder = _safe(message.conversation.id, "other")
        stem = _safe(message.id.rpartition(":")[2].replace(".", "-"), "message")
        name = f"{stem}-{index}-{secrets.token_hex(4)}{extension_for(item.mime_type)}"
        return self._directory / folder / name


_KINDS = {
    "image": AttachmentKind.IMAGE,
    "audio": AttachmentKind.AUDIO,
    "video": AttachmentKind.VIDEO,
}


def kind_of(mime_type: str | None) -> AttachmentKind:
    """An attachment's kind from its MIME type's major part (``file`` when unknown)."""
    return _KINDS.get((mime_type or "").partition("/")[0], AttachmentKind.FILE)


def _safe(part: str, fallback: str) -> str:
    return part if _SAFE_PART.fullmatch(part) else fallback


def extension_for(mime_type: str | None) -> str:
    """A file extension for ``mime_type`` (``.bin`` when unknown or odd)."""
    if not mime_type:
        return ".bin"
    mime = mime_type.split(";")[0].strip().lower()
    guess = _PREFERRED.get(mime) or mimetypes.guess_extension(mime) or ".bin"
    return guess if _EXTENSION.fullmatch(guess) else ".bin"


def write_private(path: Path, data: bytes) -> None:
    """Write a new file only its owner can read (it may hold anything a user sent);
    raises ``FileExistsError`` rather than replace a file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(path, "xb", opener=lambda name, flags: os.open(name, flags, 0o600)) as out:
        out.write(data)


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-cased."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


async def download_capped(
    session: aiohttp.ClientSession,
    url: str,
    cap: SizeCap,
    *,
    client_timeout: aiohttp.ClientTimeout,
    headers: Mapping[str, str] | None = None,
    accept: Callable[[aiohttp.ClientResponse], None] = lambda response: None,
) -> bytes:
    """GET ``url`` without following redirects (they could lead anywhere), reading
    at most the cap.  ``accept`` may refuse the response (raising ``ChannelError``)
    before the body is read; aiohttp's own errors are the caller's to translate."""
    async with session.get(
        url, headers=headers, allow_redirects=False, timeout=client_timeout
    ) as response:
        if response.status != 200:
            raise ChannelRequestError(
                f"the file host answered HTTP {response.status}", channel=cap.channel
            )
        accept(response)
        cap.check(response.content_length, "declared by the file host")
        data = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK):
            data.extend(chunk)
            cap.check(len(data), "received so far")
    return bytes(data)


async def read_outbound(file: OutboundFile, *, channel: str) -> bytes:
    """The bytes of a file to upload; ``ChannelRequestError`` when they cannot be read
    or are not the ``size`` announced (the upload would not be what the user was told)."""
    try:
        data = await asyncio.to_thread(file.path.read_bytes)
    except OSError as exc:
        raise ChannelRequestError(
            f"cannot read the file to send: {exc.strerror or exc}", channel=channel
        ) from exc
    if len(data) != file.size:
        raise ChannelRequestError(
            f"the file to send has {len(data)} bytes, not the {file.size} announced",
            channel=channel,
        )
    return data
