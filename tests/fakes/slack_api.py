"""A loopback fake of the Slack Web API and Socket Mode, for driving the real slack-bolt.

Runs aiohttp on 127.0.0.1, port 0, in the test's event loop::

    async with FakeSlack() as fake:
        alice = fake.user("U0ALICE01", "alice")
        dm = fake.dm(alice)
        envelope = await fake.push(fake.event(fake.message(dm, alice, "hello")))
        await fake.wait_ack(envelope)              # Socket Mode: the app acknowledged it
        fake.bot_texts(dm)                         # what the bot shows there now

Point slack-sdk at it with ``AsyncWebClient(base_url=fake.api_base_url + "/")``
(the adapter's setting ``api_base_url``).  ``apps.connections.open`` answers
with the fake's own ``ws://`` Socket Mode endpoint.

What it implements, as Slack does (notes/channel-testing.md §2):
``auth.test``, ``apps.connections.open``, ``chat.postMessage`` (JSON body),
``chat.update``, ``files.info``, the file download ``GET /files-pri/…``, the
upload flow of ``files_upload_v2`` (``files.getUploadURLExternal``, a raw POST
of the bytes to the URL it gave, ``files.completeUploadExternal``; finished
uploads are in :attr:`uploads`) and a Socket Mode WebSocket that sends
``hello``, pushes envelopes and records their acknowledgements
(``{"envelope_id": …}``).  Parameters are read from the query string, a form
or a JSON body, as slack-sdk sends each method differently.

The platform's rules are enforced so that the adapter's mistakes show: a wrong
or missing token → ``invalid_auth`` (an app token where a bot token belongs →
``not_allowed_token_type``); an unknown channel → ``channel_not_found``; a
``thread_ts`` that is no message of the channel → ``thread_not_found``; a
message without text and blocks → ``no_text``; Block Kit beyond its limits
(50 blocks, 3000-character sections, ``action_id`` ≤ 255) → ``invalid_blocks``;
``chat.update`` of a message that is not the bot's → ``cant_update_message``;
a file download without the bot token → Slack's sign-in page (HTML, 200);
an upload of other than the announced length, or completed before its bytes
came or twice → ``file_upload_failed`` / ``invalid_file_id`` (not Slack's
exact words: it answers vaguely).
API errors come as HTTP 200 with ``{"ok": false, "error": …}``, rate limits
as HTTP 429 with ``Retry-After``.

Every call is recorded (:attr:`calls`); ``wait_for`` waits for calls,
``fail_next`` makes the next call(s) of a method fail, ``post`` delivers an
event over HTTP signed the way Slack signs (the exact bytes it posts).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
import httpx
from aiohttp import web

__all__ = [
    "APP_TOKEN",
    "BOT_ID",
    "BOT_TOKEN",
    "BOT_USER_ID",
    "SIGNING_SECRET",
    "TEAM_ID",
    "Call",
    "FakeSlack",
    "Upload",
    "sign",
]

TEAM_ID = "T0TEST001"
APP_ID = "A0APP0001"
BOT_USER_ID = "U0BOT0001"
BOT_ID = "B0BOT0001"
BOT_TOKEN = "xoxb-1000000001-2000000001-fakebottokenfakebottoken"
APP_TOKEN = "xapp-1-A0APP0001-3000000001-fakeapptokenfakeapptoken"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
MAX_TEXT = 40_000  # Slack truncates longer text (and warns)
_START_TS = 1_700_000_000
_SIGN_IN_PAGE = b"<!DOCTYPE html><html><body>Sign in to Slack</body></html>"


def sign(
    body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """The headers Slack sends with ``body``: ``v0=HMAC-SHA256("v0:<ts>:<body>")``."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


@dataclass
class Call:
    """One Web API call as the fake saw it."""

    method: str
    params: dict[str, Any]
    token: str
    at: float
    failed: int | str | None = None  # the HTTP status or API error the fake answered with


@dataclass
class Upload:
    """A file the bot uploaded and shared (``files.completeUploadExternal``)."""

    file_id: str
    filename: str
    title: str | None
    content: bytes
    channel: str
    thread_ts: str | None
    initial_comment: str | None


@dataclass
class _Pending:
    """An upload URL handed out: what was announced, and the bytes once posted."""

    filename: str
    length: int
    content: bytes | None = None


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: float | None
    skip: int


@dataclass
class _Posted:
    """A message in a channel; ``history`` is every text it showed (bot messages)."""

    message: dict[str, Any]
    history: list[str] = field(default_factory=list)


class ApiError(Exception):
    def __init__(self, error: str, status: int = 200, retry_after: float | None = None) -> None:
        super().__init__(error)
        self.error, self.status, self.retry_after = error, status, retry_after


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.acks: dict[str, dict[str, Any]] = {}  # envelope id -> what the app sent back
        self.sockets_opened = 0
        self.files_readable = True  # False: as if the app lacked the files:read scope
        self._channels: dict[str, dict[str, Any]] = {}
        self._messages: dict[str, dict[str, _Posted]] = {}  # channel -> ts -> message
        self._files: dict[str, tuple[dict[str, Any], bytes]] = {}
        self._pending: dict[str, _Pending] = {}  # upload file id -> the upload
        self.uploads: list[Upload] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._socket: socket.socket | None = None

    # -- lifecycle ---------------------------------------------------------------

    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/files-pri/{key}/{name}", self._download)
        app.router.add_post("/upload/v1/{file_id}", self._receive_upload)
        app.router.add_get("/link/", self._socket_mode)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._socket = sock
        await web.SockSite(self._runner, sock).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.drop_sockets()
        assert self._runner is not None
        await self._runner.cleanup()

    @property
    def origin(self) -> str:
        assert self._socket is not None, "use the fake as an async context manager"
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def api_base_url(self) -> str:
        return f"{self.origin}/api"

    # -- the workspace -----------------------------------------------------------

    def user(self, user_id: str, name: str) -> dict[str, Any]:
        return {"id": user_id, "name": name, "real_name": name.title()}

    def dm(self, user: Mapping[str, Any]) -> str:
        channel_id = "D" + user["id"][1:]
        self._channels[channel_id] = {"id": channel_id, "type": "im", "user": user["id"]}
        return channel_id

    def channel(self, channel_id: str = "C0GENERAL", name: str = "general") -> str:
        self._channels[channel_id] = {"id": channel_id, "type": "channel", "name": name}
        return channel_id

    def file(self, name: str, content: bytes, mimetype: str) -> dict[str, Any]:
        """A file in the workspace, downloadable with the bot token."""
        file_id = f"F0FILE{next(self._ids):04d}"
        url = f"{self.origin}/files-pri/{TEAM_ID}-{file_id}/{name}"
        details = {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": name.rpartition(".")[2],
            "size": len(content),
            "mode": "hosted",
            "url_private": url,
            "url_private_download": url + "?download=1",
        }
        self._files[file_id] = (details, content)
        return details

    # -- what people do ----------------------------------------------------------

    def message(
        self,
        channel: str,
        user: Mapping[str, Any],
        text: str,
        *,
        thread_ts: str | None = None,
        files: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        """A ``message`` event as Slack sends it (the message is now in the channel)."""
        ts = self._next_ts()
        kind = self._channel(channel)["type"]
        event: dict[str, Any] = {
            "type": "message",
            "channel": channel,
            "channel_type": "im" if kind == "im" else "channel",
            "user": user["id"],
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "team": TEAM_ID,
            "client_msg_id": f"c0ffee00-0000-4000-8000-{next(self._ids):012d}",
            "user_profile": {"name": user["name"], "real_name": user["real_name"]},
        }
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
            event["parent_user_id"] = self._messages[channel][thread_ts].message.get("user")
        if files:
            event["subtype"] = "file_share"
            event["files"] = [dict(f) for f in files]
        self._store(channel, {k: v for k, v in event.items() if k != "channel_type"})
        return event

    def mention(self, message: Mapping[str, Any]) -> dict[str, Any]:
        """The ``app_mention`` Slack sends for the same message (no ``channel_type``)."""
        keep = ("user", "text", "ts", "channel", "event_ts", "team", "client_msg_id")
        twin = {"type": "app_mention", **{k: message[k] for k in keep}}
        for optional in ("thread_ts", "files"):
            if optional in message:
                twin[optional] = message[optional]
        return twin

    def event(self, event: Mapping[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        """The ``event_callback`` body around ``event`` (an HTTP body or an envelope's payload)."""
        return {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id or f"Ev0{next(self._ids):08d}",
            "event_time": int(float(event.get("event_ts", _START_TS))),
            "authorizations": [
                {"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}
                | {"enterprise_id": None, "is_enterprise_install": False}
            ],
            "is_ext_shared_channel": False,
        }

    def press(
        self, user: Mapping[str, Any], bot_message: Mapping[str, Any], action_id: str
    ) -> dict[str, Any]:
        """The ``block_actions`` payload of pressing button ``action_id`` of ``bot_message``."""
        channel = bot_message["channel"]
        (button,) = [
            element
            for block in bot_message.get("blocks", ())
            if block["type"] == "actions"
            for element in block["elements"]
            if element["action_id"] == action_id
        ]
        container = {"type": "message", "message_ts": bot_message["ts"], "channel_id": channel}
        if "thread_ts" in bot_message:
            container["thread_ts"] = bot_message["thread_ts"]
        return {
            "type": "block_actions",
            "user": {"id": user["id"], "username": user["name"], "name": user["name"]}
            | {"team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "container": container | {"is_ephemeral": False},
            "trigger_id": f"{next(self._ids)}.{TEAM_ID}.trigger",
            "team": {"id": TEAM_ID, "domain": "skillyard-test"},
            "channel": {"id": channel, "name": self._channel(channel).get("name", "directmessage")},
            "message": {k: v for k, v in bot_message.items() if k != "channel"},
            "state": {"values": {}},
            "response_url": f"{self.origin}/actions/{next(self._ids)}",
            "actions": [
                {"type": "button", "block_id": "skillyard_approval", "action_ts": self._next_ts()}
                | {k: button[k] for k in ("action_id", "text", "value")}
            ],
        }

    # -- Socket Mode -------------------------------------------------------------

    async def push(
        self, payload: Mapping[str, Any], *, kind: str | None = None, retry_attempt: int = 0
    ) -> str:
        """Send ``payload`` in an envelope over the newest socket; its envelope id."""
        kind = kind or ("interactive" if payload.get("type") == "block_actions" else "events_api")
        envelope_id = f"env-{next(self._ids):06d}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": retry_attempt,
            "retry_reason": "timeout" if retry_attempt else "",
        }
        open_sockets = [ws for ws in self._sockets if not ws.closed]
        assert open_sockets, "no Socket Mode connection is open"
        await open_sockets[-1].send_str(json.dumps(envelope))
        return envelope_id

    async def wait_ack(self, envelope_id: str) -> dict[str, Any]:
        await self.wait_until(lambda: envelope_id in self.acks, what=f"the ack of {envelope_id}")
        return self.acks[envelope_id]

    async def refresh(self) -> None:
        """Ask the app to reconnect, as Slack does every few hours (``disconnect``)."""
        open_sockets = [ws for ws in self._sockets if not ws.closed]
        assert open_sockets, "no Socket Mode connection is open"
        message = {"type": "disconnect", "reason": "refresh_requested"}
        await open_sockets[-1].send_str(json.dumps(message | {"debug_info": {"host": "fake"}}))

    async def drop_sockets(self) -> None:
        """Close every Socket Mode connection, as a network failure would."""
        for ws in list(self._sockets):
            await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY)

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sockets_opened += 1
        self._sockets.append(ws)
        self._touch()
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": APP_ID}}
        await ws.send_str(json.dumps(hello | {"debug_info": {"host": "fake"}}))
        async for frame in ws:
            if frame.type is aiohttp.WSMsgType.TEXT:
                ack = json.loads(frame.data)
                self.acks[ack["envelope_id"]] = ack
                self._touch()
        self._sockets.remove(ws)
        self._touch()
        return ws

    # -- HTTP events -------------------------------------------------------------

    async def post(
        self,
        url: str,
        payload: Mapping[str, Any],
        *,
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
        retry_num: int | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> httpx.Response:
        """Deliver ``payload`` to ``url`` as Slack does: JSON for events, a form
        for interactions, signed over the exact bytes posted; ``transport``
        serves an app in memory (``httpx.ASGITransport``)."""
        if payload.get("type") == "block_actions":
            body = urlencode({"payload": json.dumps(payload)}).encode()
            content_type = "application/x-www-form-urlencoded"
        else:
            body, content_type = json.dumps(payload).encode(), "application/json"
        headers = sign(body, secret=secret, timestamp=timestamp) | {"Content-Type": content_type}
        if retry_num is not None:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "timeout"}
        async with httpx.AsyncClient(timeout=10, transport=transport) as client:
            return await client.post(url, content=body, headers=headers)

    # -- failing on purpose ------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        *,
        error: str | None = None,
        retry_after: float | None = None,
        after: int = 0,
    ) -> None:
        """Make a call of ``method`` fail, after ``after`` calls that succeed.

        429 is a rate limit (``Retry-After``, default 1 s); 200 an API error
        (``error``); 5xx a server error."""
        default = {429: "ratelimited", 200: "internal_error"}.get(status, "fatal_error")
        failure = _Failure(status, error or default, retry_after, after)
        self._failures.setdefault(method, []).append(failure)

    # -- what the bot did --------------------------------------------------------

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def bot_messages(self, channel: str) -> list[dict[str, Any]]:
        """The bot's messages in ``channel`` (as they show now), in the order posted."""
        return [
            p.message | {"channel": channel}
            for p in self._messages.get(channel, {}).values()
            if p.message.get("bot_id") == BOT_ID
        ]

    def bot_texts(self, channel: str) -> list[str]:
        return [m["text"] for m in self.bot_messages(channel)]

    def shown_history(self, channel: str, ts: str) -> list[str]:
        """Every text a bot message showed, from the first post to the last edit."""
        return list(self._messages[channel][ts].history)

    async def wait_for(
        self, method: str, count: int = 1, *, where: Callable[[Call], bool] | None = None
    ) -> list[Call]:
        def matching() -> list[Call]:
            return [c for c in self.calls_of(method) if where is None or where(c)]

        await self.wait_until(lambda: len(matching()) >= count, what=f"{count} x {method}")
        return matching()

    async def wait_until(self, predicate: Callable[[], bool], *, what: str) -> None:
        try:
            async with asyncio.timeout(15):
                while not predicate():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"the fake never saw {what}") from None

    # -- the Web API -------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        call = Call(method, await _params(request), token, time.monotonic())
        self.calls.append(call)
        try:
            self._fail_if_asked(method)
            result = self._answer(method, call.params, token)
        except ApiError as exc:
            call.failed = exc.status if exc.status != 200 else exc.error
            headers = {"Retry-After": f"{exc.retry_after:g}"} if exc.retry_after else {}
            body = {"ok": False, "error": exc.error}
            return web.json_response(body, status=exc.status, headers=headers)
        finally:
            self._touch()
        return web.json_response({"ok": True, **result})

    def _fail_if_asked(self, method: str) -> None:
        failures = self._failures.get(method)
        if not failures:
            return
        if failures[0].skip > 0:
            failures[0].skip -= 1
            return
        failure = failures.pop(0)
        retry_after = failure.retry_after
        if failure.status == 429 and retry_after is None:
            retry_after = 1
        raise ApiError(failure.error, failure.status, retry_after)

    def _answer(self, method: str, params: dict[str, Any], token: str) -> dict[str, Any]:
        if method == "apps.connections.open":
            return self._connections_open(token)
        _require(token == BOT_TOKEN, _token_error(token))
        handlers = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "files.info": self._files_info,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }
        handler = handlers.get(method)
        if handler is None:
            raise ApiError("unknown_method")
        return handler(params)

    def _connections_open(self, token: str) -> dict[str, Any]:
        _require(token == APP_TOKEN, _token_error(token))
        ticket = f"ticket-{next(self._ids)}"
        return {"url": f"{self.origin.replace('http://', 'ws://')}/link/?ticket={ticket}"}

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://skillyard-test.slack.com/",
            "team": "Skillyard Test",
            "user": "skillyard",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        self._channel(channel)
        text, blocks = params.get("text"), params.get("blocks")
        _require(bool(text) or bool(blocks), "no_text")
        _check_blocks(blocks)
        thread_ts = params.get("thread_ts")
        if thread_ts is not None:
            _require(thread_ts in self._messages.get(channel, {}), "thread_not_found")
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "text": str(text or "")[:MAX_TEXT],
            "ts": self._next_ts(),
            "team": TEAM_ID,
        }
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        if blocks:
            message["blocks"] = blocks
        self._store(channel, message).history.append(message["text"])
        answer = {"channel": channel, "ts": message["ts"], "message": message}
        return answer | ({"warning": "message_truncated"} if len(str(text)) > MAX_TEXT else {})

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        self._channel(channel)
        posted = self._messages.get(channel, {}).get(ts)
        _require(posted is not None, "message_not_found")
        assert posted is not None
        _require(posted.message.get("bot_id") == BOT_ID, "cant_update_message")
        text = params.get("text")
        _require(bool(text) or bool(params.get("blocks")), "no_text")
        _check_blocks(params.get("blocks"))
        posted.message["text"] = str(text or "")[:MAX_TEXT]
        posted.message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        blocks = params.get("blocks")
        if blocks in ([], "[]"):  # Slack: an empty array removes the message's blocks
            posted.message.pop("blocks", None)
        elif blocks is not None:  # absent: the blocks stay as they were
            posted.message["blocks"] = blocks
        posted.history.append(posted.message["text"])
        return {"channel": channel, "ts": ts, "text": posted.message["text"]}

    def _files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        found = self._files.get(str(params.get("file", "")))
        _require(found is not None, "file_not_found")
        assert found is not None
        return {"file": found[0]}

    def _upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        filename, length = params.get("filename"), str(params.get("length", ""))
        _require(bool(filename) and length.isdigit() and int(length) > 0, "invalid_arguments")
        file_id = f"F0UP{next(self._ids):06d}"
        self._pending[file_id] = _Pending(str(filename), int(length))
        return {"upload_url": f"{self.origin}/upload/v1/{file_id}", "file_id": file_id}

    async def _receive_upload(self, request: web.Request) -> web.Response:
        """The upload URL: Slack takes the raw bytes (or a form with a ``file`` part)."""
        pending = self._pending.get(request.match_info["file_id"])
        content = await request.read()
        self.calls.append(Call("upload", {"bytes": len(content)}, "", time.monotonic()))
        self._touch()
        if pending is None or len(content) != pending.length:
            return web.Response(status=400, text="file_upload_failed")
        pending.content = content
        return web.Response(text=f"OK - {len(content)}")

    def _complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files")
        listed = json.loads(files) if isinstance(files, str) else files
        _require(isinstance(listed, list) and bool(listed), "invalid_arguments")
        channel, thread_ts = str(params.get("channel_id", "")), params.get("thread_ts")
        self._channel(channel)
        if thread_ts is not None:
            _require(thread_ts in self._messages.get(channel, {}), "thread_not_found")
        shared = []
        for item in listed:
            pending = self._pending.pop(str(item.get("id")), None)
            _require(pending is not None and pending.content is not None, "invalid_file_id")
            assert pending is not None and pending.content is not None
            comment = params.get("initial_comment")
            upload = Upload(
                str(item["id"]), pending.filename, item.get("title"), pending.content,
                channel, thread_ts, comment,
            )  # fmt: skip
            self.uploads.append(upload)
            title = upload.title or upload.filename
            shared.append({"id": upload.file_id, "name": upload.filename, "title": title})
        return {"files": shared}

    async def _download(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        file_id = request.match_info["key"].partition("-")[2]
        found = self._files.get(file_id)
        self.calls.append(Call("file download", {"file": file_id}, token, time.monotonic()))
        self._touch()
        if token != BOT_TOKEN or not self.files_readable:  # Slack's sign-in page, with 200
            return web.Response(body=_SIGN_IN_PAGE, content_type="text/html")
        if found is None:
            return web.Response(status=404, text="not found")
        details, content = found
        return web.Response(body=content, content_type=details["mimetype"])

    # -- internals ---------------------------------------------------------------

    def _channel(self, channel: str) -> dict[str, Any]:
        found = self._channels.get(channel)
        if found is None:
            raise ApiError("channel_not_found")
        return found

    def _store(self, channel: str, message: dict[str, Any]) -> _Posted:
        posted = _Posted(message)
        self._messages.setdefault(channel, {})[message["ts"]] = posted
        return posted

    def _next_ts(self) -> str:
        n = next(self._ids)
        return f"{_START_TS + n}.{n:06d}"

    def _touch(self) -> None:
        self._changed.set()


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
    elif request.can_read_body:
        params.update(await request.post())
    return params


def _token_error(token: str) -> str:
    """Slack's answer to a wrong token: the other kind of ours is the wrong type."""
    return "not_allowed_token_type" if token in (BOT_TOKEN, APP_TOKEN) else "invalid_auth"


def _require(condition: bool, error: str) -> None:
    if not condition:
        raise ApiError(error)


def _check_blocks(blocks: object) -> None:
    """Block Kit limits: 50 blocks, section text 3000, action ids ≤ 255 and unique."""
    if blocks is None:
        return
    if isinstance(blocks, str):  # slack-sdk may send blocks JSON-encoded
        blocks = json.loads(blocks)
    _require(isinstance(blocks, list) and len(blocks) <= 50, "invalid_blocks")
    assert isinstance(blocks, list)
    for block in blocks:
        if block.get("type") == "section":
            _require(len(block["text"]["text"]) <= 3000, "invalid_blocks")
        if block.get("type") == "actions":
            ids = [element["action_id"] for element in block["elements"]]
            _require(len(set(ids)) == len(ids), "invalid_blocks")
            _require(all(len(i) <= 255 for i in ids), "invalid_blocks")
