"""Downloading a message's files from the Bot API: ``getFile``, then the file URL.

Where files land, the size cap and private writing are ``channels.files``;
here is what is Telegram's: the Bot API declares a file's size twice (in the
message and in ``getFile``), both checked before downloading, and serves bots
files of at most 20 MB.  Stickers are reported, not downloaded: a sticker is
an emotion, not a document to read.
"""

from __future__ import annotations

from telegram import Bot

from channels.errors import ChannelRequestError
from channels.files import AttachmentFolder
from channels.telegram.errors import CHANNEL, translated
from gateway.events import Attachment, AttachmentKind, InboundMessage

__all__ = ["AttachmentFetcher"]

_DOWNLOAD_READ_TIMEOUT_S = 60.0


class AttachmentFetcher:
    """Fetches files with ``bot``; the caller keeps ``bot`` initialised meanwhile."""

    def __init__(self, bot: Bot, folder: AttachmentFolder, *, token: str) -> None:
        self._bot = bot
        self._folder = folder
        self._token = token

    async def fetch(self, message: InboundMessage) -> InboundMessage:
        """``message`` with ``local_path`` set on every attachment that could be fetched."""
        return await self._folder.fetch(message, self._download, wanted=_wanted)

    async def _download(self, item: Attachment) -> bytes:
        with translated("getFile", token=self._token):
            file = await self._bot.get_file(item.ref)
            self._folder.cap.check(file.file_size, "declared by getFile")
            # PTB reads a file_path that exists on this disk instead of downloading it
            # (its local mode); a URL under our file base is the only thing we accept.
            if not (file.file_path or "").startswith(self._bot.base_file_url + "/"):
                raise ChannelRequestError("getFile gave no downloadable file_path", channel=CHANNEL)
            return bytes(await file.download_as_bytearray(read_timeout=_DOWNLOAD_READ_TIMEOUT_S))


def _wanted(item: Attachment) -> bool:
    return item.kind is not AttachmentKind.STICKER
