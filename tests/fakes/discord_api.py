"""A loopback fake of Discord (REST API, gateway WebSocket, attachment CDN) for the real discord.py.

Runs aiohttp on 127.0.0.1, port 0, in the test's event loop::

    async with FakeDiscord() as fake:
        alice = fake.user(42, "alice")
        dm = fake.dm_channel(alice)
        message = await fake.post(dm, alice, "/calculator 6*7")   # MESSAGE_CREATE
        (call,) = await fake.wait_for("create_message")
        fake.bot_texts(dm["id"])                                   # what the bot shows there

Point discord.py at it with ``discord.http.Route.BASE = fake.api_base_url`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)``
(the adapter's settings ``api_base_url`` / ``gateway_url``).

What it implements, as Discord does (notes/channel-testing.md §3):

* REST under ``/api/v10``: ``GET /users/@me``, ``GET /oauth2/applications/@me``,
  ``GET /channels/{id}``, ``POST /channels/{id}/typing`` (204),
  ``POST /channels/{id}/messages``, ``PATCH /channels/{id}/messages/{id}``,
  ``POST /interactions/{id}/{token}/callback``; every JSON answer carries
  ``Content-Type: application/json`` exactly (discord.py compares with ``==``).
* Uploads: ``POST /channels/{id}/messages`` as ``multipart/form-data``
  (``payload_json`` plus ``files[n]`` parts), as discord.py sends a
  ``discord.File``; recorded in :attr:`uploads`.
* The attachment CDN: ``GET /cdn/attachments/{channel}/{attachment}/{filename}``.
* The gateway at ``/gateway``: HELLO, heartbeat ACKs, IDENTIFY → READY (with
  ``resume_gateway_url`` pointing here) → one GUILD_CREATE per guild, RESUME →
  the events missed since the client's ``seq``, then RESUMED.  Frames are plain
  text (discord.py only decompresses binary frames).

Discord's rules are enforced so that the adapter's mistakes show: a wrong
token → 401 (REST) or close code 4004 (gateway); a privileged intent the
application may not use → close code 4014; content over 2000 characters →
400 ``50035 Invalid Form Body``; an empty message → 400 ``50006``; a reply to
an unknown message (unless ``fail_if_not_exists`` is false) → 400 ``50035``;
editing someone else's message → 403 ``50005``; button ``custom_id`` over 100
characters → 400 ``50035``; an interaction answered twice → 400 ``40060``, or
later than 3 s → 404 ``10062``; a file over 10 MiB → 413 ``40005``; a file
part the payload's ``attachments`` does not list → 400 ``50035``.

Every call is recorded (:attr:`calls`); ``wait_for`` waits for calls,
``fail_next`` makes the next call(s) of a route fail (a 429 carries ``Via``
and a JSON body with ``retry_after``, so discord.py waits it out by itself;
``via=False`` looks like a Cloudflare ban, which discord.py raises at once).
``drop_connection`` closes the gateway socket; with ``hold_resume`` the
fake keeps the client's RESUME waiting until :meth:`release_resume`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import WSMsgType, web

from tests.fakes._multipart import FilePart

__all__ = [
    "BOT_ID",
    "MESSAGE_CONTENT_INTENT",
    "TOKEN",
    "Call",
    "FakeDiscord",
    "Upload",
    "created_at",
    "snowflake",
]

BOT_ID = 1_200_000_000_000_000_001
APPLICATION_ID = BOT_ID
TOKEN = "MTIwMDAwMDAwMDAwMDAwMDAwMQ.fake.discord-bot-token_0123456789"
MAX_CONTENT = 2000
MAX_CUSTOM_ID = 100
MAX_UPLOAD = 10 * 1024 * 1024  # Discord: 10 MiB per file without server boosts
_FILES = "__files__"  # where _body puts the uploaded parts (not a Discord field)
INTERACTION_DEADLINE_S = 3.0
MESSAGE_CONTENT_INTENT = 1 << 15
HEARTBEAT_INTERVAL_MS = 41_250
_TIMESTAMP = "2024-01-01T00:00:00.000000+00:00"
_JSON = "application/json"
_DISCORD_EPOCH_MS = 1_420_070_400_000
_RECHECK_S = 0.02
_sequence = itertools.count()
_Handler = Callable[..., Awaitable[Any]]
_AioHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def snowflake() -> str:
    """A fresh id, as Discord makes them (milliseconds since its epoch, shifted by 22,
    plus a counter) and sends them: as a string."""
    now_ms = int(time.time() * 1000) - _DISCORD_EPOCH_MS
    return str((now_ms << 22) | (next(_sequence) & 0x3FFFFF))


def created_at(snowflake_id: str) -> str:
    """The ISO time a snowflake was made, as Discord writes ``timestamp``."""
    ms = (int(snowflake_id) >> 22) + _DISCORD_EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()


@dataclass
class Call:
    """One REST or gateway call as the fake saw it."""

    route: str
    path: str
    body: Any
    at: float
    failed: int | None = None  # the error status the fake answered with


@dataclass
class Upload:
    """A file the bot attached to a message it created."""

    channel_id: str
    message_id: str
    filename: str | None
    content: bytes
    content_text: str  # the message's content (a caption)
    reference: dict[str, Any] | None


@dataclass
class _Failure:
    status: int
    code: int
    message: str
    retry_after: float | None
    via: bool
    skip: int


@dataclass
class _Session:
    id: str
    seq: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)
    socket: web.WebSocketResponse | None = None


@dataclass
class _BotMessage:
    message: dict[str, Any]
    history: list[str] = field(default_factory=list)  # every content it showed, in order


@dataclass
class _Press:
    token: str
    at: float
    answered: bool = False


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


class FakeDiscord:
    def __init__(self, token: str = TOKEN, *, message_content_allowed: bool = True) -> None:
        self.token = token
        self.message_content_allowed = message_content_allowed
        self.bot = _user(str(BOT_ID), "skillyard", bot=True)
        self.calls: list[Call] = []
        self.uploads: list[Upload] = []
        self.sessions: dict[str, _Session] = {}
        self._guilds: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._bot_messages: dict[tuple[str, str], _BotMessage] = {}
        self._presses: dict[str, _Press] = {}
        self._files: dict[str, bytes] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._resume_gate = asyncio.Event()
        self._resume_gate.set()
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._socket: socket.socket | None = None

    # -- the server ----------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/cdn/attachments/{channel}/{file}/{name}", self._cdn)
        api = "/api/v10"
        endpoints: list[tuple[str, str, str, _Handler]] = [
            ("GET", "/users/@me", "get_me", self._get_me),
            ("GET", "/oauth2/applications/@me", "application_info", self._application_info),
            ("GET", "/channels/{channel_id}", "get_channel", self._get_channel),
            ("POST", "/channels/{channel_id}/typing", "typing", self._typing),
            ("POST", "/channels/{channel_id}/messages", "create_message", self._create_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", "edit_message", self._edit),
            (
                "POST",
                "/interactions/{interaction_id}/{token}/callback",
                "interaction_callback",
                self._callback,
            ),
        ]
        for method, path, route, handler in endpoints:
            app.router.add_route(method, api + path, self._endpoint(route, handler))
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._socket, self._runner = sock, web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._resume_gate.set()
        for session in self.sessions.values():
            if session.socket is not None:
                await session.socket.close()
        assert self._runner is not None
        await self._runner.cleanup()

    @property
    def origin(self) -> str:
        assert self._socket is not None, "use the fake as an async context manager"
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def api_base_url(self) -> str:
        return f"{self.origin}/api/v10"

    @property
    def gateway_url(self) -> str:
        return self.origin.replace("http://", "ws://") + "/gateway"

    # -- building what users do ----------------------------------------------

    def user(self, user_id: int | str, username: str, *, bot: bool = False) -> dict[str, Any]:
        return _user(str(user_id), username, bot=bot)

    def guild(
        self, name: str = "Book club", *, guild_id: str | None = None, announced: bool = True
    ) -> dict[str, Any]:
        """A guild the bot is in, announced with GUILD_CREATE on IDENTIFY (or, with
        ``announced=False``, never: as during a Discord outage of that guild)."""
        gid = guild_id or snowflake()
        everyone: dict[str, Any] = {
            "id": gid,
            "name": "@everyone",
            "permissions": "1071698660929",
            "position": 0,
        }
        bot_role: dict[str, Any] = {
            "id": snowflake(),
            "name": "skillyard",
            "permissions": "0",
            "position": 1,
        }
        bot_role |= {"managed": True, "tags": {"bot_id": self.bot["id"]}}
        guild: dict[str, Any] = {
            "id": gid,
            "name": name,
            "owner_id": snowflake(),
            "roles": [everyone, bot_role],
        }
        guild |= {"channels": [], "threads": [], "members": [], "member_count": 2}
        guild["announced"] = announced
        self._guilds[gid] = guild
        self._add_member(guild, self.bot, roles=[bot_role["id"]])
        return guild

    def bot_role(self, guild: Mapping[str, Any]) -> str:
        """The id of the role Discord made for the bot in ``guild``."""
        return str(next(r["id"] for r in guild["roles"] if r.get("managed")))

    def text_channel(self, guild: Mapping[str, Any], name: str = "general") -> dict[str, Any]:
        channel = {"id": snowflake(), "type": 0, "guild_id": guild["id"], "name": name}
        channel |= {"position": len(guild["channels"]), "permission_overwrites": []}
        self._guilds[guild["id"]]["channels"].append(channel)
        self._channels[channel["id"]] = channel
        return channel

    def thread(
        self, parent: Mapping[str, Any], name: str = "a thread", *, announced: bool = True
    ) -> dict[str, Any]:
        """A public thread in ``parent``; ``announced=False`` leaves it out of GUILD_CREATE
        (the client then has to ask ``GET /channels/{id}`` what it is)."""
        thread = {"id": snowflake(), "type": 11, "guild_id": parent["guild_id"], "name": name}
        thread |= {"parent_id": parent["id"], "owner_id": snowflake(), "message_count": 0}
        thread |= {"member_count": 1, "rate_limit_per_user": 0, "flags": 0}
        metadata = {"archived": False, "auto_archive_duration": 1440, "locked": False}
        thread["thread_metadata"] = metadata | {"archive_timestamp": _TIMESTAMP}
        if announced:
            self._guilds[parent["guild_id"]]["threads"].append(thread)
        self._channels[thread["id"]] = thread
        return thread

    def dm_channel(self, user: Mapping[str, Any]) -> dict[str, Any]:
        channel: dict[str, Any] = {
            "id": snowflake(),
            "type": 1,
            "recipients": [dict(user)],
            "last_message_id": None,
        }
        self._channels[channel["id"]] = channel
        return channel

    def attachment(
        self,
        channel: Mapping[str, Any],
        content: bytes,
        filename: str,
        *,
        content_type: str | None = None,
        declared_size: int | None = None,
    ) -> dict[str, Any]:
        """A file a user uploaded, served by the fake CDN."""
        file_id = snowflake()
        # Discord serves a sanitised name in the URL; the payload keeps the name given.
        served = quote(re.sub(r"[^A-Za-z0-9._-]", "_", filename))
        url = f"{self.origin}/cdn/attachments/{channel['id']}/{file_id}/{served}"
        self._files[file_id] = content
        size = len(content) if declared_size is None else declared_size
        item = {"id": file_id, "filename": filename, "size": size, "url": url, "proxy_url": url}
        if content_type:
            item["content_type"] = content_type
        return item

    def message(
        self,
        channel: Mapping[str, Any],
        author: Mapping[str, Any],
        content: str = "",
        *,
        reply_to: Mapping[str, Any] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A MESSAGE_CREATE payload for a user's message (recorded, so the bot can reply)."""
        message = _message(channel, author, content, attachments=attachments or [])
        message["mentions"] = [self._mentioned(uid) for uid in _mention_ids(content)]
        message["mention_roles"] = _role_ids(content)
        if reply_to is not None:
            message |= {"type": 19, "referenced_message": dict(reply_to)}
            message["message_reference"] = _reference(reply_to)
        guild_id = channel.get("guild_id")
        if guild_id is not None:
            message["member"] = {"roles": [], "joined_at": _TIMESTAMP, "deaf": False, "mute": False}
        message |= fields
        self._messages[(message["channel_id"], message["id"])] = message
        return message

    async def post(
        self,
        channel: Mapping[str, Any],
        author: Mapping[str, Any],
        content: str = "",
        **options: Any,
    ) -> dict[str, Any]:
        """A user posts a message: build it and dispatch MESSAGE_CREATE."""
        message = self.message(channel, author, content, **options)
        await self.dispatch("MESSAGE_CREATE", message)
        return message

    async def press(
        self, user: Mapping[str, Any], message: Mapping[str, Any], custom_id: str
    ) -> dict[str, Any]:
        """A user presses the button ``custom_id`` under ``message`` (one of the bot's)."""
        interaction = self.interaction(user, message, custom_id)
        await self.dispatch("INTERACTION_CREATE", interaction)
        return interaction

    def interaction(
        self, user: Mapping[str, Any], message: Mapping[str, Any], custom_id: str
    ) -> dict[str, Any]:
        """An INTERACTION_CREATE payload for a button press (recorded for the callback)."""
        channel = self._channels[message["channel_id"]]
        interaction_id, token = snowflake(), f"itoken-{snowflake()}"
        self._presses[interaction_id] = _Press(token, time.monotonic())
        data: dict[str, Any] = {"id": interaction_id, "application_id": str(APPLICATION_ID)}
        data |= {"type": 3, "token": token, "version": 1, "message": dict(message)}
        data |= {"data": {"custom_id": custom_id, "component_type": 2}}
        data |= {"channel_id": channel["id"], "channel": _partial_channel(channel)}
        data |= {"app_permissions": "0", "locale": "en-US", "attachment_size_limit": 10485760}
        data |= {"entitlements": [], "authorizing_integration_owners": {}}
        if channel.get("guild_id") is not None:
            data |= {"guild_id": channel["guild_id"], "context": 0, "guild_locale": "en-US"}
            data["member"] = {"user": dict(user), "roles": [], "joined_at": _TIMESTAMP}
            data["member"] |= {"deaf": False, "mute": False, "permissions": "0", "flags": 0}
        else:
            data |= {"user": dict(user), "context": 1}
        return data

    # -- the gateway ---------------------------------------------------------

    async def dispatch(self, event: str, data: Mapping[str, Any]) -> None:
        """Send a DISPATCH to every session (kept for RESUME while one is disconnected)."""
        assert self.sessions, "no client has identified yet"
        for session in self.sessions.values():
            session.seq += 1
            frame = {"op": 0, "t": event, "s": session.seq, "d": dict(data)}
            session.log.append(frame)
            if session.socket is not None and not session.socket.closed:
                await session.socket.send_str(json.dumps(frame))

    async def drop_connection(self, *, code: int = 4000, hold_resume: bool = False) -> None:
        """Close every gateway socket with ``code`` (4000: resumable, as after a Discord
        restart); ``hold_resume`` keeps the clients' RESUME waiting until released."""
        if hold_resume:
            self._resume_gate.clear()
        for session in self.sessions.values():
            if session.socket is not None:
                live, session.socket = session.socket, None
                await live.close(code=code)

    def release_resume(self) -> None:
        self._resume_gate.set()

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._record("gateway_connect", request.path_qs, dict(request.query))
        await ws.send_str(
            json.dumps({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}})
        )
        async for frame in ws:
            if frame.type is not WSMsgType.TEXT:
                break
            await self._gateway_frame(ws, json.loads(frame.data))
        return ws

    async def _gateway_frame(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        if op == 1:
            await ws.send_str(json.dumps({"op": 11}))
        elif op == 2:
            self._record("identify", "/gateway", frame["d"])
            await self._identify(ws, frame["d"])
        elif op == 6:
            self._record("resume", "/gateway", frame["d"])
            await self._resume(ws, frame["d"])

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        if data.get("intents", 0) & MESSAGE_CONTENT_INTENT and not self.message_content_allowed:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        session = _Session(f"session-{snowflake()}")
        self.sessions = {session.id: session}  # a new IDENTIFY replaces the old session
        ready = {"v": 10, "user": self.bot, "session_id": session.id, "shard": [0, 1]}
        ready |= {"resume_gateway_url": self.gateway_url, "private_channels": []}
        announced = [g for g in self._guilds.values() if g["announced"]]
        ready |= {"guilds": [{"id": g["id"], "unavailable": True} for g in announced]}
        ready["application"] = {"id": str(APPLICATION_ID), "flags": 0}
        session.socket = ws
        await self.dispatch("READY", ready)
        for guild in announced:
            await self.dispatch("GUILD_CREATE", _guild_create(guild))

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        await self._resume_gate.wait()
        session = self.sessions.get(data.get("session_id", ""))
        if data.get("token") != self.token or session is None:
            await ws.send_str(json.dumps({"op": 9, "d": False}))  # INVALID_SESSION
            return
        seen = int(data.get("seq") or 0)
        for frame in session.log:
            if frame["s"] > seen:
                await ws.send_str(json.dumps(frame))
        session.socket = ws
        await self.dispatch("RESUMED", {})

    # -- REST ----------------------------------------------------------------

    def _endpoint(self, route: str, handler: _Handler) -> _AioHandler:
        """An aiohttp handler that checks the token, records the call and plays failures."""
        # Discord: interaction callbacks are authorised by the interaction token in the path.
        needs_token = route != "interaction_callback"

        async def handle(request: web.Request) -> web.StreamResponse:
            body = await _body(request)
            call = self._record(route, request.path, body)
            try:
                if needs_token and request.headers.get("Authorization") != f"Bot {self.token}":
                    raise ApiError(401, 0, "401: Unauthorized")
                self._fail_if_planned(route)
                result = await handler(body, **request.match_info)
            except ApiError as error:
                call.failed = error.status
                return _error(error)
            self._changed.set()
            return web.Response(status=204) if result is None else _json(result)

        return handle

    async def _get_me(self, body: Any) -> Any:
        return self.bot

    async def _application_info(self, body: Any) -> Any:
        owner = _user(snowflake(), "owner")
        info: dict[str, Any] = {"id": str(APPLICATION_ID), "name": "skillyard"}
        info |= {"description": "", "icon": None}
        info |= {"bot_public": True, "bot_require_code_grant": False, "owner": owner}
        return info | {"verify_key": "00" * 32, "flags": 0, "team": None, "summary": ""}

    async def _get_channel(self, body: Any, channel_id: str) -> Any:
        return self._channel(channel_id)

    async def _typing(self, body: Any, channel_id: str) -> Any:
        self._channel(channel_id)
        return None

    async def _create_message(self, body: Any, channel_id: str) -> Any:
        channel = self._channel(channel_id)
        content = body.get("content") or ""
        parts: list[FilePart] = body.get(_FILES, [])
        _check_content(content, body.get("components"), has_files=bool(parts))
        attachments = [self._attachment(channel_id, body, n, p) for n, p in enumerate(parts)]
        message = _message(channel, self.bot, content, attachments=attachments)
        reference = body.get("message_reference")
        if reference is not None:
            replied = self._replied(channel_id, reference)
            if replied is not None:
                message |= {"type": 19, "referenced_message": replied}
                message["message_reference"] = _reference(replied)
        message["components"] = body.get("components") or []
        for part in parts:
            upload = Upload(channel_id, message["id"], part.filename, part.content, content,
                            body.get("message_reference"))  # fmt: skip
            self.uploads.append(upload)
        self._messages[(channel_id, message["id"])] = message
        self._bot_messages[(channel_id, message["id"])] = _BotMessage(message, [content])
        return message

    def _attachment(
        self, channel_id: str, body: Mapping[str, Any], index: int, part: FilePart
    ) -> dict[str, Any]:
        listed = [a for a in body.get("attachments", []) if str(a.get("id")) == str(index)]
        if not listed:
            errors = _form_error("attachments", "ATTACHMENT_NOT_FOUND", "Unknown attachment")
            raise ApiError(400, 50035, "Invalid Form Body", errors=errors)
        if len(part.content) > MAX_UPLOAD:
            raise ApiError(413, 40005, "Request entity too large")
        attachment_id = snowflake()
        self._files[attachment_id] = part.content
        name = listed[0].get("filename") or part.filename or "file"
        url = f"{self.origin}/cdn/attachments/{channel_id}/{attachment_id}/{quote(name)}"
        return {"id": attachment_id, "filename": name, "size": len(part.content),
                "url": url, "proxy_url": url, "content_type": part.content_type}  # fmt: skip

    async def _edit(self, body: Any, channel_id: str, message_id: str) -> Any:
        self._channel(channel_id)
        if (channel_id, message_id) not in self._messages:
            raise ApiError(404, 10008, "Unknown Message")
        sent = self._bot_messages.get((channel_id, message_id))
        if sent is None:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        content = body.get("content", sent.message["content"])
        # Discord: fields left out of an edit stay as they were; [] removes the components.
        components = body.get("components", sent.message["components"])
        _check_content(content, components)
        edited = {"content": content, "components": components, "edited_timestamp": _TIMESTAMP}
        sent.message = sent.message | edited
        sent.history.append(content)
        self._messages[(channel_id, message_id)] = sent.message
        return sent.message

    async def _callback(self, body: Any, interaction_id: str, token: str) -> Any:
        press = self._presses.get(interaction_id)
        late = press is not None and time.monotonic() - press.at > INTERACTION_DEADLINE_S
        if press is None or press.token != token or late:
            raise ApiError(404, 10062, "Unknown interaction")
        if press.answered:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        press.answered = True
        interaction = {"id": interaction_id, "type": 3, "activity_instance_id": None}
        interaction |= {"response_message_loading": False, "response_message_ephemeral": False}
        return {"interaction": interaction}

    async def _cdn(self, request: web.Request) -> web.StreamResponse:
        self._record("cdn", request.path, None)
        content = self._files.get(request.match_info["file"])
        if content is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=content, content_type="application/octet-stream")

    # -- scripting and observing ---------------------------------------------

    def fail_next(
        self,
        route: str,
        status: int = 429,
        *,
        code: int = 0,
        message: str | None = None,
        retry_after: float = 0.25,
        via: bool = True,
        after: int = 0,
    ) -> None:
        """Answer the next call of ``route`` (after ``after`` good ones) with an error."""
        text = message or ("You are being rate limited." if status == 429 else f"{status}: error")
        failure = _Failure(status, code, text, retry_after, via, after)
        self._failures.setdefault(route, []).append(failure)

    def calls_of(self, route: str) -> list[Call]:
        return [c for c in self.calls if c.route == route]

    async def wait_for(
        self,
        route: str,
        count: int = 1,
        *,
        where: Callable[[Call], bool] | None = None,
        patience_s: float = 10.0,
    ) -> list[Call]:
        """The first ``count`` successful calls of ``route`` (matching ``where``)."""

        def matching() -> list[Call]:
            found = [c for c in self.calls_of(route) if c.failed is None]
            return [c for c in found if where is None or where(c)]

        await self.wait_until(lambda: len(matching()) >= count, what=route, patience_s=patience_s)
        return matching()[:count]

    async def wait_until(
        self, condition: Callable[[], bool], *, what: str, patience_s: float = 10.0
    ) -> None:
        """Until ``condition()`` holds: checked after every call the fake sees, and
        every few milliseconds for conditions on the other side (the gateway's state)."""
        try:
            async with asyncio.timeout(patience_s):
                while not condition():
                    self._changed.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), _RECHECK_S)
        except TimeoutError:
            raise AssertionError(f"gave up waiting for {what}; calls: {self.calls}") from None

    def bot_messages(self, channel_id: str) -> list[dict[str, Any]]:
        """The bot's messages in a channel as they are now, oldest first."""
        return [m.message for (cid, _), m in self._bot_messages.items() if cid == channel_id]

    def bot_texts(self, channel_id: str) -> list[str]:
        return [str(m["content"]) for m in self.bot_messages(channel_id)]

    def shown_history(self, channel_id: str, message_id: str) -> list[str]:
        """Every content one bot message showed, in order (first send, then edits)."""
        return list(self._bot_messages[(channel_id, message_id)].history)

    # -- internals -----------------------------------------------------------

    def _record(self, route: str, path: str, body: Any) -> Call:
        call = Call(route, path, body, time.monotonic())
        self.calls.append(call)
        self._changed.set()
        return call

    def _fail_if_planned(self, route: str) -> None:
        planned = self._failures.get(route)
        if not planned:
            return
        if planned[0].skip > 0:
            planned[0].skip -= 1
            return
        failure = planned.pop(0)
        extra: dict[str, Any] = {}
        if failure.status == 429:
            extra = {"retry_after": failure.retry_after, "global": False, "via": failure.via}
        raise ApiError(failure.status, failure.code, failure.message, **extra)

    def _channel(self, channel_id: str) -> dict[str, Any]:
        channel = self._channels.get(channel_id)
        if channel is None:
            raise ApiError(404, 10003, "Unknown Channel")
        return channel

    def _replied(self, channel_id: str, reference: Mapping[str, Any]) -> dict[str, Any] | None:
        replied = self._messages.get((channel_id, str(reference.get("message_id"))))
        if replied is None and reference.get("fail_if_not_exists", True):
            raise ApiError(
                400,
                50035,
                "Invalid Form Body",
                errors=_form_error(
                    "message_reference", "REPLIES_UNKNOWN_MESSAGE", "Unknown message"
                ),
            )
        return replied

    def _mentioned(self, user_id: str) -> dict[str, Any]:
        if user_id == self.bot["id"]:
            return dict(self.bot)
        return _user(user_id, f"user{user_id[-4:]}")

    def _add_member(
        self, guild: dict[str, Any], user: Mapping[str, Any], *, roles: list[str]
    ) -> None:
        member = {"user": dict(user), "roles": roles, "joined_at": _TIMESTAMP}
        guild["members"].append(member | {"deaf": False, "mute": False, "flags": 0})


# -- payload builders ---------------------------------------------------------


def _user(user_id: str, username: str, *, bot: bool = False) -> dict[str, Any]:
    user = {"id": user_id, "username": username, "discriminator": "0", "avatar": None}
    user["global_name"] = None if bot else username.title()
    return user | ({"bot": True} if bot else {})


def _message(
    channel: Mapping[str, Any],
    author: Mapping[str, Any],
    content: str,
    *,
    attachments: list[dict[str, Any]],
) -> dict[str, Any]:
    message: dict[str, Any] = {"id": snowflake(), "channel_id": channel["id"]}
    message |= {"author": dict(author), "content": content}
    message["timestamp"] = created_at(message["id"])
    message |= {"edited_timestamp": None, "tts": False, "mention_everyone": False}
    message |= {"mentions": [], "mention_roles": [], "attachments": attachments, "embeds": []}
    message |= {"pinned": False, "type": 0, "flags": 0, "components": []}
    if channel.get("guild_id") is not None:
        message["guild_id"] = channel["guild_id"]
    return message


def _reference(message: Mapping[str, Any]) -> dict[str, Any]:
    reference = {"type": 0, "message_id": message["id"], "channel_id": message["channel_id"]}
    if message.get("guild_id") is not None:
        reference["guild_id"] = message["guild_id"]
    return reference


def _partial_channel(channel: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("id", "type", "guild_id", "name", "parent_id", "thread_metadata", "recipients")
    partial = {k: channel[k] for k in keys if k in channel}
    return partial | {"permissions": "0", "flags": 0}


def _guild_create(guild: Mapping[str, Any]) -> dict[str, Any]:
    full = {k: v for k, v in guild.items() if k != "announced"}
    full |= {"unavailable": False, "large": False, "features": [], "emojis": [], "stickers": []}
    full |= {"stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": []}
    full |= {"voice_states": [], "presences": [], "joined_at": _TIMESTAMP}
    return full


def _mention_ids(content: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"<@!?([0-9]{15,21})>", content)))


def _role_ids(content: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"<@&([0-9]{15,21})>", content)))


def _check_content(content: str, components: Any, *, has_files: bool = False) -> None:
    if len(content) > MAX_CONTENT:
        errors = _form_error(
            "content", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length."
        )
        raise ApiError(400, 50035, "Invalid Form Body", errors=errors)
    if not content and not components and not has_files:
        raise ApiError(400, 50006, "Cannot send an empty message")
    for row in components or []:
        for button in row.get("components", []):
            if len(str(button.get("custom_id", ""))) > MAX_CUSTOM_ID:
                errors = _form_error("components", "BASE_TYPE_MAX_LENGTH", "custom_id too long")
                raise ApiError(400, 50035, "Invalid Form Body", errors=errors)


def _form_error(field_name: str, code: str, message: str) -> dict[str, Any]:
    return {field_name: {"_errors": [{"code": code, "message": message}]}}


async def _body(request: web.Request) -> Any:
    if request.method == "GET" or not request.can_read_body:
        return None
    if request.content_type == "multipart/form-data":
        form = await request.post()
        payload = json.loads(str(form.get("payload_json", "{}")))
        files = [
            FilePart(value.filename, value.content_type, value.file.read())
            for key, value in form.items()
            if key.startswith("files[") and isinstance(value, web.FileField)
        ]
        return payload | ({_FILES: files} if files else {})
    return json.loads(await request.text())


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # discord.py's json_or_text() compares the header with == (notes §3.3 1).
    all_headers = {"Content-Type": _JSON, **(headers or {})}
    return web.Response(status=status, body=json.dumps(data).encode(), headers=all_headers)


def _error(error: ApiError) -> web.Response:
    body: dict[str, Any] = {"message": error.message, "code": error.code}
    headers: dict[str, str] = {}
    if error.status == 429:
        via = error.extra.pop("via")
        retry_after = error.extra["retry_after"]
        headers = {"Retry-After": str(max(1, round(retry_after))), "X-RateLimit-Scope": "user"}
        if via:  # what Discord's edge adds; without it discord.py suspects a Cloudflare ban
            headers["Via"] = "1.1 google"
        body = {"message": error.message, **error.extra}
    else:
        body |= error.extra
    return _json(body, error.status, headers)
