"""``skillyard chat``: talk to a running server from a terminal, over protocol v1.

Lines typed are sent with ``chat.send``; the reply streams as it arrives; tool
activity and errors are shown on their own lines.  If the connection drops,
the client reconnects with backoff and resubscribes from the last ``seq`` it
saw, so nothing is shown twice or lost; a line typed while disconnected is
sent after reconnecting with the same idempotency key.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from gateway.backoff import Backoff
from gateway.client import ConnectionLost, GatewayClient, RequestFailed

__all__ = ["ChatPrinter", "run_chat"]

_NO_RETRY_CLOSE_CODES = frozenset({4001, 4002})


@dataclass(slots=True)
class ChatPrinter:
    """Renders session events as terminal text; remembers the last ``seq`` shown."""

    out: TextIO
    color: bool
    last_seq: int = 0
    _ended: dict[str, asyncio.Event] = field(default_factory=dict)
    _lost: ConnectionLost | None = None

    def run_ended(self, run_id: str) -> asyncio.Event:
        return self._ended.setdefault(run_id, asyncio.Event())

    async def wait(self, run_id: str) -> None:
        """Until ``run_id`` has ended; raise :class:`ConnectionLost` if the link drops."""
        await self.run_ended(run_id).wait()
        if self._lost is not None:
            raise self._lost

    def connection_lost(self, lost: ConnectionLost) -> None:
        self._lost = lost
        for event in self._ended.values():
            event.set()

    def connected(self) -> None:
        self._lost = None
        self._ended = {k: v for k, v in self._ended.items() if v.is_set()}

    def _dim(self, text: str) -> str:
        return f"\x1b[2m{text}\x1b[0m" if self.color else text

    def show(self, frame: dict[str, Any]) -> None:
        seq = frame.get("seq")
        if isinstance(seq, int):
            if seq <= self.last_seq:
                return
            self.last_seq = seq
        payload = frame["payload"]
        handler = _RENDERERS.get(frame["event"])
        if handler is not None:
            handler(self, payload)
        self.out.flush()

    def _delta(self, payload: dict[str, Any]) -> None:
        self.out.write(payload["text"])

    def _final(self, payload: dict[str, Any]) -> None:
        self.run_ended(payload["run_id"]).set()
        if payload.get("status") == "stopped":
            self.out.write(self._dim(" [stopped]"))
        self.out.write("\n")

    def _tool(self, payload: dict[str, Any]) -> None:
        detail = f": {payload['detail']}" if payload.get("detail") else ""
        self.out.write(self._dim(f"\n[{payload['tool']} {payload['phase']}{detail}]\n"))

    def _file(self, payload: dict[str, Any]) -> None:
        caption = f": {payload['caption']}" if payload.get("caption") else ""
        where = f"GET /files/<session>/{payload['file_id']}"
        self.out.write(f"\n[file {payload['name']} ({payload['size']} bytes){caption}; {where}]\n")

    def _error(self, payload: dict[str, Any]) -> None:
        self.run_ended(payload["run_id"]).set()
        self.out.write(f"\n! {payload['code']}: {payload['message']}\n")

    def _approval(self, payload: dict[str, Any]) -> None:
        self.out.write(
            f"\n? {payload['summary']} -- type /approve or /deny ({payload['request_id']})\n"
        )


_RENDERERS: dict[str, Callable[[ChatPrinter, dict[str, Any]], None]] = {
    "chat.delta": ChatPrinter._delta,
    "chat.final": ChatPrinter._final,
    "chat.tool": ChatPrinter._tool,
    "chat.file": ChatPrinter._file,
    "chat.error": ChatPrinter._error,
    "approval.requested": ChatPrinter._approval,
}


async def _stdin_lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


@dataclass(slots=True)
class _Outgoing:
    """A typed line and its idempotency key, kept until the server confirms it."""

    text: str
    key: str = field(default_factory=lambda: uuid.uuid4().hex)


async def run_chat(url: str, token: str, session: str | None, out: TextIO = sys.stdout) -> int:
    """Chat until end of input or ``/quit``; returns the process exit code."""
    printer = ChatPrinter(out, color=out.isatty())
    lines = await _stdin_lines()
    outbox: list[_Outgoing] = []
    backoff = Backoff(start=0.5, maximum=15.0)
    while True:
        try:
            async with GatewayClient.connect(url, token, session=session) as client:
                backoff.reset()
                session = client.session
                printer.connected()
                out.write(f"connected to {url} (session {session}); /quit to leave\n")
                out.flush()
                return await _talk(client, lines, printer, outbox)
        except RequestFailed as failure:
            out.write(f"! {failure}\n")
            return 2
        except ConnectionLost as lost:
            if lost.code in _NO_RETRY_CLOSE_CODES:
                out.write(f"! {lost}\n")
                return 2
        except OSError as exc:
            out.write(f"! cannot reach {url}: {exc}\n")
        delay = backoff.next_delay()
        out.write(f"reconnecting in {delay:.1f} s...\n")
        out.flush()
        await asyncio.sleep(delay)


async def _talk(
    client: GatewayClient,
    lines: asyncio.StreamReader,
    printer: ChatPrinter,
    outbox: list[_Outgoing],
) -> int:
    shower = asyncio.create_task(_show_events(client, printer))
    try:
        await client.request(
            "sessions.subscribe", {"session": client.session, "after_seq": printer.last_seq}
        )
        while True:
            if not outbox:
                raw = await lines.readline()
                text = raw.decode("utf-8", "replace").strip()
                if not raw or text in {"/quit", "/exit"}:
                    return 0
                if not text:
                    continue
                outbox.append(_Outgoing(text))
            params = {
                "session": client.session,
                "text": outbox[0].text,
                "idempotency_key": outbox[0].key,
            }
            result = await client.request("chat.send", params)
            outbox.pop(0)
            await printer.wait(str(result["run_id"]))
    finally:
        shower.cancel()
        await asyncio.gather(shower, return_exceptions=True)


async def _show_events(client: GatewayClient, printer: ChatPrinter) -> None:
    try:
        async for frame in client.events():
            printer.show(frame)
    except ConnectionLost as lost:
        printer.connection_lost(lost)
