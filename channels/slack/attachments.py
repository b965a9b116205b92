"""Downloading a message's files (``url_private_download``) with the bot token.

Where files land, the size cap and private writing are ``channels.files``;
here is what is Slack's.  Slack serves a file only with ``Authorization:
Bearer <bot token>``, so the token goes with the request; it is sent only to
the API's own origin and the file host's (``SlackSettings.file_origins``),
never to whatever URL a payload names, and redirects are not followed (they
could lead elsewhere).  Without the ``files:read`` scope Slack answers with
its sign-in page instead of the file; that is reported as such.
"""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from channels.errors import ChannelRequestError
from channels.files import AttachmentFolder, download_capped, origin_of
from channels.slack.errors import CHANNEL, translated
from gateway.events import Attachment, InboundMessage

__all__ = ["AttachmentFetcher"]

_DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=120, sock_connect=15)


class AttachmentFetcher:
    """Fetches files with the bot token; ``session`` gives the open HTTP session."""

    def __init__(
        self,
        client: AsyncWebClient,
        session: Callable[[], aiohttp.ClientSession],
        folder: AttachmentFolder,
        *,
        token: str,
        origins: frozenset[str],
    ) -> None:
        self._client = client
        self._session = session
        self._folder = folder
        self._token = token
        self._origins = origins

    async def fetch(self, message: InboundMessage) -> InboundMessage:
        """``message`` with ``local_path`` set on every attachment that could be fetched."""
        return await self._folder.fetch(message, self._download)

    async def _download(self, item: Attachment) -> bytes:
        url = item.ref
        if not url.startswith(("https://", "http://")):
            url = await self._url_of(item.ref)
        if origin_of(url) not in self._origins:
            raise ChannelRequestError(
                f"the file is on {origin_of(url)}, not on Slack's file host: not sent the token",
                channel=CHANNEL,
            )
        headers = {"Authorization": f"Bearer {self._token}"}
        with translated("file download"):
            return await download_capped(
                self._session(),
                url,
                self._folder.cap,
                client_timeout=_DOWNLOAD_TIMEOUT,
                headers=headers,
                accept=lambda response: _not_a_sign_in_page(response, item.mime_type),
            )

    async def _url_of(self, file_id: str) -> str:
        """Slack Connect files come as ``file_access: check_file_info``: ask for the URL."""
        with translated("files.info"):
            response = await self._client.files_info(file=file_id)
        found = response.get("file")
        details = found if isinstance(found, dict) else {}
        self._folder.cap.check(details.get("size"), "declared by files.info")
        url = details.get("url_private_download") or details.get("url_private")
        if not isinstance(url, str):
            raise ChannelRequestError(f"files.info gave no URL for {file_id}", channel=CHANNEL)
        return url


def _not_a_sign_in_page(response: aiohttp.ClientResponse, mime_type: str | None) -> None:
    if response.content_type == "text/html" and mime_type != "text/html":
        raise ChannelRequestError(
            "Slack answered with a web page instead of the file "
            "(does the app have the files:read scope?)",
            channel=CHANNEL,
        )
