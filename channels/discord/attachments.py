"""Downloading a message's attachments from Discord's CDN.

Where files land, the size cap and private writing are ``channels.files``;
here is what is Discord's: only URLs on Discord's CDN origins (or the
configured API's, for a proxy or a test fake) are fetched, without following
redirects, and without any credential (attachment URLs are signed).
"""

from __future__ import annotations

import aiohttp

from channels.discord.errors import CHANNEL, translated
from channels.errors import ChannelRequestError
from channels.files import AttachmentFolder, download_capped, origin_of
from gateway.events import Attachment, InboundMessage

__all__ = ["AttachmentFetcher"]

_TIMEOUT = aiohttp.ClientTimeout(total=120, sock_connect=10)


class AttachmentFetcher:
    """Fetches attachments over a session the caller keeps open meanwhile."""

    def __init__(self, folder: AttachmentFolder, *, origins: frozenset[str]) -> None:
        self._folder = folder
        self._origins = origins

    async def fetch(
        self, message: InboundMessage, session: aiohttp.ClientSession
    ) -> InboundMessage:
        """``message`` with ``local_path`` set on every attachment that could be fetched."""

        async def download(item: Attachment) -> bytes:
            if origin_of(item.ref) not in self._origins:
                raise ChannelRequestError(
                    f"not fetching an attachment from {origin_of(item.ref)}", channel=CHANNEL
                )
            with translated("attachment download"):
                return await download_capped(
                    session, item.ref, self._folder.cap, client_timeout=_TIMEOUT
                )

        return await self._folder.fetch(message, download)
