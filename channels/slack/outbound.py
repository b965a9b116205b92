"""Reply operations as Web API calls: ``chat.postMessage``, ``chat.update`` and file uploads.

Text arrives already in Slack mrkdwn (``channels.replies`` renders it).  A
reply goes into the thread of the message it answers (``thread_ts``: the
conversation's thread, see ``channels.slack.normalise``); a top-level DM is
answered at the top level.  Approval requests carry Block Kit buttons, with
the same text as the notification fallback; an edit drops them (``chat.update``
keeps a message's blocks unless given others, so it is given none).  Slack
has no typing indicator for bots, so there is nothing to do for
``ShowTyping`` (the adapter declares ``typing=False`` and the shared reply
logic never asks).

A file goes up with ``files_upload_v2`` (``files.getUploadURLExternal``, the
bytes POSTed to the URL it returns, ``files.completeUploadExternal``), shared
into the same channel and thread, its caption as the ``initial_comment``.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from channels.approvals import NO_BUTTONS_HINT
from channels.base import EditMessage, SendFile, SendMessage, SentMessage
from channels.errors import ChannelRequestError
from channels.files import read_outbound
from channels.slack.blocks import approval_blocks
from channels.slack.errors import CHANNEL, translated

__all__ = ["MAX_UPLOAD_BYTES", "Outbound"]

MAX_UPLOAD_BYTES = 1024 * 1024 * 1024  # Slack: a file is at most 1 GB


class Outbound:
    """Performs reply operations with ``client``; every error is a ``ChannelError``."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def send(self, op: SendMessage) -> SentMessage:
        target = op.target
        arguments: dict[str, Any] = {"channel": target.conversation_id, "text": op.text}
        if target.thread_id is not None:
            arguments["thread_ts"] = target.thread_id
        if op.buttons is not None:
            blocks = approval_blocks(op.text, op.buttons)
            if blocks is None:
                arguments["text"] = f"{op.text}\n{NO_BUTTONS_HINT}"
            else:
                arguments["blocks"] = blocks
        with translated("chat.postMessage"):
            response = await self._client.chat_postMessage(**arguments)
        ts = response.get("ts")
        if not isinstance(ts, str) or not ts:
            raise ChannelRequestError("chat.postMessage answered without a ts", channel=CHANNEL)
        return SentMessage(ts)

    async def edit(self, op: EditMessage) -> None:
        with translated("chat.update"):
            await self._client.chat_update(
                channel=op.target.conversation_id, ts=op.message_id, text=op.text, blocks=[]
            )

    async def send_file(self, op: SendFile) -> None:
        """Upload and share the file; Slack's answer names the file, not a message to edit."""
        file, target = op.file, op.target
        arguments: dict[str, Any] = {
            "channel": target.conversation_id,
            "file": await read_outbound(file, channel=CHANNEL),
            "filename": file.name,
            "title": file.name,
        }
        if target.thread_id is not None:
            arguments["thread_ts"] = target.thread_id
        if file.caption:
            arguments["initial_comment"] = file.caption
        with translated("files.upload_v2"):
            await self._client.files_upload_v2(**arguments)
