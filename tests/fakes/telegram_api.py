"""A loopback fake of the Telegram Bot API, for driving the real python-telegram-bot.

Runs Starlette on uvicorn on 127.0.0.1, port 0, in the test's event loop::

    async with FakeTelegram() as fake:
        alice = fake.user(42, "Alice", username="alice")
        chat = fake.private_chat(alice)
        fake.deliver(fake.text(chat, alice, "/calculator 6*7"))   # for getUpdates
        (call,) = await fake.wait_for("sendMessage")
        fake.bot_texts(chat["id"])                                 # what the bot shows there

Point PTB at it with ``base_url=fake.api_base_url + "/bot"`` and
``base_file_url=fake.file_base_url + "/bot"`` (the adapter's settings
``api_base_url`` / ``file_base_url``).

What it implements, as the Bot API does (notes/channel-testing.md §1.3):
``getMe``, ``deleteWebhook``, ``setWebhook``, ``getWebhookInfo``,
``getUpdates`` (long poll with ``offset``: updates below it are confirmed and
dropped; 409 while a webhook is set), ``sendMessage``, ``editMessageText``,
``sendChatAction``, ``answerCallbackQuery``, ``getFile`` and the file download
``GET /file/bot<token>/<file_path>``, and the uploads ``sendDocument`` and
``sendPhoto`` (multipart; recorded in :attr:`uploads`).  PTB sends parameters
as form fields with every non-string value JSON-encoded inside; they are
decoded here, but text fields are never coerced (the text ``"42"`` stays a
string).

The platform's rules are enforced so that the adapter's mistakes show:
unknown token → 401; unknown chat or message → 400; HTML that Telegram would
refuse → 400 "can't parse entities"; text over 4096 UTF-16 units after entity
parsing → 400 "message is too long"; an edit to the same text → 400 "message
is not modified"; ``callback_data`` over 64 bytes → 400; a callback query
answered twice → 400; an upload without its file part, an empty file, a file
over 50 MB (a photo over 10 MB) → 400/413; a caption over 1024 UTF-16 units → 400.

Every call is recorded (:attr:`calls`); ``wait_for`` waits for calls,
``fail_next`` makes the next call(s) of a method fail (429 with
``retry_after`` for flood control), and ``push_webhook`` POSTs an update the
way Telegram delivers to a webhook, with the secret header.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes._multipart import FilePart, parse_multipart
from tests.fakes._server import LoopbackServer

__all__ = ["BOT_ID", "BOT_USERNAME", "TOKEN", "Call", "FakeTelegram", "Upload", "utf16_len"]

BOT_ID = 7_000_000_001
BOT_USERNAME = "skillyard_test_bot"
TOKEN = f"{BOT_ID}:AAtest-token_0123456789abcdefghijkl"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64
MAX_CAPTION = 1024
MAX_UPLOAD = {"document": 50 * 1024 * 1024, "photo": 10 * 1024 * 1024}  # Bot API limits
_DATE = 1_700_000_000
_REGISTERED = object()  # push_webhook: the secret given to setWebhook

# Fields PTB sends as plain strings; everything else is JSON inside the form field.
_TEXT_FIELDS = frozenset(
    {"text", "caption", "callback_query_id", "url", "secret_token", "file_id", "parse_mode"}
    | {"action", "inline_message_id", "ip_address", "emoji", "business_connection_id"}
)
_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a"}
    | {"code", "pre", "blockquote", "tg-emoji"}
)
_HTML_TOKEN = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>|&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);|[<>&]"
)
_DEFAULT_ERRORS = {
    400: "Bad Request: failed on purpose by the test",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    409: "Conflict: terminated by other getUpdates request",
    502: "Bad Gateway",
}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Call:
    """One Bot API call as the fake saw it; ``params`` decoded."""

    method: str
    params: dict[str, Any]
    at: float
    failed: int | None = None  # the error status the fake answered with


@dataclass
class Upload:
    """A file the bot uploaded (``sendDocument`` / ``sendPhoto``) and where it went."""

    kind: str  # "document" or "photo"
    chat_id: int
    message_id: int
    filename: str | None
    content: bytes
    caption: str | None
    thread_id: int | None
    reply_to: int | None


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: float | None
    skip: int


@dataclass
class _BotMessage:
    message: dict[str, Any]
    markup: str
    history: list[str] = field(default_factory=list)  # every text it showed, in order


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: float | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


class FakeTelegram(LoopbackServer):
    def __init__(self, token: str = TOKEN, username: str = BOT_USERNAME) -> None:
        super().__init__()
        self.token = token
        self.bot = {"id": int(token.split(":")[0]), "is_bot": True, "first_name": "Skillyard"}
        self.bot["username"] = username
        self.calls: list[Call] = []
        self.uploads: list[Upload] = []
        self.webhook: dict[str, Any] | None = None
        self._updates: list[dict[str, Any]] = []
        self._update_ids = 0
        self._chats: dict[int, dict[str, Any]] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._next_message_id: dict[int, int] = {}
        self._bot_messages: dict[tuple[int, int], _BotMessage] = {}
        self._queries: dict[str, bool] = {}  # callback query id -> answered
        self._files: dict[str, dict[str, Any]] = {}
        self._contents: dict[str, bytes] = {}  # file_path -> bytes
        self._failures: dict[str, list[_Failure]] = {}
        self._changed = asyncio.Event()
        self._closing = False

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def stop(self) -> None:
        self._closing = True  # release long polls, or uvicorn waits for them
        self._changed.set()
        await super().stop()

    @property
    def api_base_url(self) -> str:
        return self.origin

    @property
    def file_base_url(self) -> str:
        return f"{self.origin}/file"

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/bot{token}/{method}", self._api, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._download, methods=["GET"]),
            ]
        )

    # -- building what users do ----------------------------------------------

    def user(
        self, user_id: int, first_name: str, *, username: str | None = None, is_bot: bool = False
    ) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
        if username:
            user["username"] = username
        return user

    def private_chat(self, user: Mapping[str, Any]) -> dict[str, Any]:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        return self._register_chat(chat)

    def group(self, chat_id: int, title: str, *, forum: bool = False) -> dict[str, Any]:
        kind = "supergroup" if forum or chat_id < -1_000_000_000_000 else "group"
        chat: dict[str, Any] = {"id": chat_id, "type": kind, "title": title}
        if forum:
            chat["is_forum"] = True
        return self._register_chat(chat)

    def message(
        self,
        chat: Mapping[str, Any],
        sender: Mapping[str, Any] | None,
        text: str | None = None,
        *,
        entities: list[dict[str, Any]] | None = None,
        reply_to: Mapping[str, Any] | None = None,
        topic: int | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A user's message (recorded, so that the bot can reply to it)."""
        chat_id = chat["id"]
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat_id),
            "date": _DATE,
            "chat": dict(chat),
        }
        if sender is not None:
            message["from"] = dict(sender)
        if text is not None:
            message["text"] = text
            found = _auto_entities(text) if entities is None else entities
            if found:
                message["entities"] = found
        if reply_to is not None:
            message["reply_to_message"] = dict(reply_to)
        if topic is not None:
            message |= {"message_thread_id": topic, "is_topic_message": True}
        message |= fields
        self._messages[(chat_id, message["message_id"])] = message
        return message

    def update(self, *, edited: bool = False, **kinds: Any) -> dict[str, Any]:
        """An update: ``(message=m)``, ``(message=m, edited=True)``, ``(callback_query=q)``."""
        self._update_ids += 1
        update: dict[str, Any] = {"update_id": self._update_ids}
        if edited:
            kinds["edited_message"] = {**kinds.pop("message"), "edit_date": _DATE + 60}
        return update | kinds

    def text(
        self, chat: Mapping[str, Any], sender: Mapping[str, Any], text: str, **options: Any
    ) -> dict[str, Any]:
        return self.update(message=self.message(chat, sender, text, **options))

    def press(
        self, sender: Mapping[str, Any], message: Mapping[str, Any], data: str
    ) -> dict[str, Any]:
        """A user pressing an inline button under ``message`` (one of the bot's)."""
        query_id = f"cq{len(self._queries) + 1}"
        self._queries[query_id] = False
        query = {"id": query_id, "from": dict(sender), "chat_instance": "ci-1", "data": data}
        return self.update(callback_query=query | {"message": dict(message)})

    def add_file(
        self,
        content: bytes,
        *,
        mime_type: str | None = None,
        file_path: str | None = None,
        file_name: str | None = None,
        declared_size: int | None = None,
    ) -> dict[str, Any]:
        """A file Telegram stores; the dict fits ``document``/``voice``/… fields."""
        number = len(self._files) + 1
        path = file_path or f"documents/file_{number}"
        info: dict[str, Any] = {"file_id": f"FILE{number}", "file_unique_id": f"U{number}"}
        info["file_size"] = len(content) if declared_size is None else declared_size
        if mime_type:
            info["mime_type"] = mime_type
        if file_name:
            info["file_name"] = file_name
        self._files[info["file_id"]] = info | {"file_path": path}
        self._contents[path] = content
        return info

    def photo(self, content: bytes) -> list[dict[str, Any]]:
        """A photo's sizes as Telegram sends them: a thumbnail, then the full size."""
        thumb = self.add_file(content[:16], file_path=f"photos/thumb_{len(self._files)}.jpg")
        full = self.add_file(content, file_path=f"photos/file_{len(self._files)}.jpg")
        return [thumb | {"width": 90, "height": 60}, full | {"width": 1280, "height": 853}]

    # -- delivering updates --------------------------------------------------

    def deliver(self, update: Mapping[str, Any]) -> None:
        """Queue an update for ``getUpdates`` (polling)."""
        self._updates.append(dict(update))
        self._changed.set()

    async def push_webhook(
        self,
        update: Mapping[str, Any],
        *,
        url: str | None = None,
        secret: str | object | None = _REGISTERED,
        body: bytes | None = None,
    ) -> httpx.Response:
        """POST ``update`` (or raw ``body``) as Telegram does to the webhook set with
        ``setWebhook``, or to ``url`` (the gateway's local address behind a public one).
        ``secret`` defaults to the registered one; None sends no secret header."""
        webhook = self.webhook or {}
        target = url or webhook.get("url")
        assert target, "no webhook was set and no url given"
        chosen = webhook.get("secret_token") if secret is _REGISTERED else secret
        headers: dict[str, str | bytes] = {"Content-Type": "application/json"}
        if isinstance(chosen, str):
            headers[SECRET_HEADER] = chosen.encode()  # bytes: any value, as a forger may send
        content = body if body is not None else json.dumps(update).encode()
        async with httpx.AsyncClient() as client:
            return await client.post(target, content=content, headers=headers)

    # -- scripting and observing ---------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        *,
        description: str | None = None,
        retry_after: float | None = None,
        after: int = 0,
    ) -> None:
        """Answer the next call of ``method`` (after ``after`` good ones) with an error."""
        text = description or _DEFAULT_ERRORS.get(status, "Internal Server Error")
        if status == 429:
            text = description or f"Too Many Requests: retry after {retry_after}"
        failure = _Failure(status, text, retry_after, after)
        self._failures.setdefault(method, []).append(failure)

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        *,
        where: Callable[[Call], bool] | None = None,
        patience_s: float = 10.0,
    ) -> list[Call]:
        """The first ``count`` successful calls of ``method`` (matching ``where``)."""

        def matching() -> list[Call]:
            return [
                c for c in self.calls_of(method) if c.failed is None and (where is None or where(c))
            ]

        await self.wait_until(
            lambda: len(matching()) >= count, patience_s=patience_s, what=f"{count} x {method}"
        )
        return matching()[:count]

    async def wait_until(
        self, condition: Callable[[], bool], *, patience_s: float = 10.0, what: str = "a condition"
    ) -> None:
        try:
            async with asyncio.timeout(patience_s):
                while not condition():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            seen = [(c.method, c.failed) for c in self.calls]
            raise AssertionError(f"waited {patience_s} s for {what}; calls: {seen}") from None

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages in a chat, as they are now, oldest first."""
        found = [m for (chat, _), m in self._bot_messages.items() if chat == chat_id]
        return [m.message for m in found]

    def bot_texts(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.bot_messages(chat_id)]

    def shown_history(self, chat_id: int, message_id: int) -> list[str]:
        """Every text one of the bot's messages showed (the send, then each edit)."""
        return list(self._bot_messages[(chat_id, message_id)].history)

    # -- the HTTP side -------------------------------------------------------

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        params = await _params(request)
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        self._changed.set()  # a long poll holds its answer; the call itself is news now
        try:
            if request.path_params["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            self._fail_if_planned(method)
            handler = self._HANDLERS.get(method)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(self, params)
        except ApiError as exc:
            call.failed = exc.status
            return _error(exc)
        finally:
            self._changed.set()
        return JSONResponse({"ok": True, "result": result})

    async def _download(self, request: Request) -> Response:
        path = request.path_params["path"]
        if request.path_params["token"] != self.token or path not in self._contents:
            return Response(status_code=404)
        return Response(self._contents[path], media_type="application/octet-stream")

    def _fail_if_planned(self, method: str) -> None:
        planned = self._failures.get(method)
        if not planned:
            return
        if planned[0].skip > 0:
            planned[0].skip -= 1
            return
        failure = planned.pop(0)
        raise ApiError(failure.status, failure.description, failure.retry_after)

    # -- methods -------------------------------------------------------------

    async def _get_me(self, params: dict[str, Any]) -> Any:
        return self.bot | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _set_webhook(self, params: dict[str, Any]) -> Any:
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if not str(params.get("url", "")).startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        self.webhook = dict(params)
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _webhook_info(self, params: dict[str, Any]) -> Any:
        url = self.webhook["url"] if self.webhook else ""
        return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}

    async def _get_updates(self, params: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset") or 0
        self._updates = [u for u in self._updates if u.get("update_id", offset) >= offset]
        timeout = float(params.get("timeout") or 0)
        if not self._updates and timeout > 0 and not self._closing:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    while not self._updates and not self._closing:
                        self._changed.clear()
                        await self._changed.wait()
        return self._updates[: int(params.get("limit") or 100)]

    async def _send_message(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params.get("chat_id"))
        shown = _visible(params.get("text"), params.get("parse_mode"))
        _check_markup(params.get("reply_markup"))
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat["id"]),
            "date": _DATE,
            "chat": chat,
            "from": self.bot,
            "text": shown,
        }
        replied = self._replied(chat["id"], params.get("reply_parameters"))
        if replied is not None:
            message["reply_to_message"] = replied
        if params.get("message_thread_id") is not None:
            message |= {"message_thread_id": params["message_thread_id"]}
            message |= {"is_topic_message": bool(chat.get("is_forum"))}
        if params.get("reply_markup") is not None:
            message["reply_markup"] = params["reply_markup"]
        key = (chat["id"], message["message_id"])
        self._messages[key] = message
        self._bot_messages[key] = _BotMessage(message, params["text"], [shown])
        return message

    async def _send_document(self, params: dict[str, Any]) -> Any:
        return self._upload("document", params)

    async def _send_photo(self, params: dict[str, Any]) -> Any:
        return self._upload("photo", params)

    def _upload(self, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        part = params.get(kind)
        if not isinstance(part, FilePart):  # a file_id or URL string is not what we test
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        if not part.content:
            raise ApiError(400, "Bad Request: file must be non-empty")
        if len(part.content) > MAX_UPLOAD[kind]:
            raise ApiError(413, "Request Entity Too Large")
        caption = params.get("caption")
        if caption is not None and utf16_len(caption) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat["id"]),
            "date": _DATE,
            "chat": chat,
            "from": self.bot,
        }
        number = len(self.uploads) + 1
        stored: dict[str, Any] = {"file_id": f"SENT{number}", "file_unique_id": f"S{number}"}
        stored["file_size"] = len(part.content)
        if kind == "photo":
            message["photo"] = [stored | {"width": 640, "height": 480}]
        else:
            message["document"] = stored | {"file_name": part.filename or "file"}
        if caption:
            message["caption"] = caption
        replied = self._replied(chat["id"], params.get("reply_parameters"))
        if replied is not None:
            message["reply_to_message"] = replied
        thread = params.get("message_thread_id")
        if thread is not None:
            message |= {"message_thread_id": thread, "is_topic_message": bool(chat.get("is_forum"))}
        self._messages[(chat["id"], message["message_id"])] = message
        reply_to = (params.get("reply_parameters") or {}).get("message_id")
        self.uploads.append(
            Upload(kind, chat["id"], message["message_id"], part.filename, part.content,
                   caption, thread, reply_to)
        )  # fmt: skip
        return message

    async def _edit_message_text(self, params: dict[str, Any]) -> Any:
        key = (self._chat(params.get("chat_id"))["id"], params.get("message_id"))
        sent = self._bot_messages.get(key)  # type: ignore[arg-type]
        if sent is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        shown = _visible(params.get("text"), params.get("parse_mode"))
        if shown == sent.message["text"] and params["text"] == sent.markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message "
                "content and reply markup are exactly the same as a current "
                "content and reply markup of the message",
            )
        sent.message = sent.message | {"text": shown, "edit_date": _DATE + 1}
        sent.message.pop("reply_markup", None)  # an edit without a keyboard removes it
        sent.markup = params["text"]
        sent.history.append(shown)
        return sent.message

    async def _send_chat_action(self, params: dict[str, Any]) -> Any:
        self._chat(params.get("chat_id"))
        if params.get("action") not in ("typing", "upload_document", "upload_photo"):
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _answer_callback_query(self, params: dict[str, Any]) -> Any:
        query = params.get("callback_query_id")
        if self._queries.get(query, True):
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._queries[query] = True
        return True

    async def _get_file(self, params: dict[str, Any]) -> Any:
        info = self._files.get(params.get("file_id", ""))
        if info is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return dict(info)

    _HANDLERS: Mapping[str, Callable[[FakeTelegram, dict[str, Any]], Any]] = {
        "getMe": _get_me,
        "setWebhook": _set_webhook,
        "deleteWebhook": _delete_webhook,
        "getWebhookInfo": _webhook_info,
        "getUpdates": _get_updates,
        "sendMessage": _send_message,
        "sendDocument": _send_document,
        "sendPhoto": _send_photo,
        "editMessageText": _edit_message_text,
        "sendChatAction": _send_chat_action,
        "answerCallbackQuery": _answer_callback_query,
        "getFile": _get_file,
    }

    # -- state ---------------------------------------------------------------

    def _register_chat(self, chat: dict[str, Any]) -> dict[str, Any]:
        self._chats[chat["id"]] = chat
        return chat

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        if not isinstance(chat_id, int) or chat_id not in self._chats:
            raise ApiError(400, "Bad Request: chat not found")
        return self._chats[chat_id]

    def _new_message_id(self, chat_id: int) -> int:
        self._next_message_id[chat_id] = self._next_message_id.get(chat_id, 1000) + 1
        return self._next_message_id[chat_id]

    def _replied(self, chat_id: int, parameters: Any) -> dict[str, Any] | None:
        if parameters is None:
            return None
        replied = self._messages.get((chat_id, parameters.get("message_id")))
        if replied is None and not parameters.get("allow_sending_without_reply"):
            raise ApiError(400, "Bad Request: message to be replied not found")
        return {k: v for k, v in (replied or {}).items() if k != "reply_to_message"} or None


async def _params(request: Request) -> dict[str, Any]:
    """PTB's form fields, non-text values JSON-decoded (text is never coerced)."""
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        return dict(json.loads(body or b"{}"))
    fields: dict[str, str | FilePart]
    if content_type.startswith("multipart/form-data"):  # PTB's way to upload files
        fields = parse_multipart(body, content_type)
    else:
        fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
    fields |= dict(request.query_params)
    return {
        key: value if key in _TEXT_FIELDS or isinstance(value, FilePart) else _json(value)
        for key, value in fields.items()
    }


def _json(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value  # a string PTB sent as is (a @channel username as chat_id)


def _error(exc: ApiError) -> Response:
    body: dict[str, Any] = {"ok": False, "error_code": exc.status, "description": exc.description}
    if exc.retry_after is not None:
        body["parameters"] = {"retry_after": exc.retry_after}
    return JSONResponse(body, status_code=exc.status)


def _visible(text: Any, parse_mode: Any) -> str:
    """The text a message shows, checked as Telegram checks it."""
    if not isinstance(text, str):
        raise ApiError(400, "Bad Request: message text is empty")
    shown = _parse_html(text) if parse_mode == "HTML" else text
    if not shown.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_len(shown) > MAX_TEXT:
        raise ApiError(400, "Bad Request: message is too long")
    return shown


def _parse_html(markup: str) -> str:
    shown: list[str] = []
    open_tags: list[str] = []
    position = 0
    for match in _HTML_TOKEN.finditer(markup):
        shown.append(markup[position : match.start()])
        position = match.end()
        token, closing, name = match.group(0), match.group(1), (match.group(2) or "").lower()
        if not name and len(token) == 1:
            raise _cannot_parse(f'Unexpected character "{token}"', markup, match.start())
        if not name:
            shown.append(html.unescape(token))
        elif name not in _TAGS:
            raise _cannot_parse(f'Unsupported start tag "{name}"', markup, match.start())
        elif not closing:
            open_tags.append(name)
        elif not open_tags or open_tags.pop() != name:
            raise _cannot_parse(f'Unexpected end tag "{name}"', markup, match.start())
    if open_tags:
        raise _cannot_parse(
            f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"', markup, len(markup)
        )
    shown.append(markup[position:])
    return "".join(shown)


def _cannot_parse(problem: str, markup: str, index: int) -> ApiError:
    offset = len(markup[:index].encode())
    return ApiError(400, f"Bad Request: can't parse entities: {problem} at byte offset {offset}")


def _check_markup(markup: Any) -> None:
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_BYTES:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


_COMMAND = re.compile(r"^/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,32}")


def _auto_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram's clients attach: a leading /command, @mentions."""
    found = []
    command = _COMMAND.match(text)
    if command:
        found.append(_entity("bot_command", text, command.start(), command.end()))
    for mention in _MENTION.finditer(text):
        if command is None or mention.start() >= command.end():
            found.append(_entity("mention", text, mention.start(), mention.end()))
    return found


def _entity(kind: str, text: str, start: int, end: int) -> dict[str, Any]:
    return {"type": kind, "offset": utf16_len(text[:start]), "length": utf16_len(text[start:end])}
