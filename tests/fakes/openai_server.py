"""A loopback fake of the OpenAI chat completions API, for driving the real ``openai`` SDK.

Runs Starlette on uvicorn on 127.0.0.1, port 0, in the test's event loop::

    async with FakeOpenAI() as fake:
        fake.reply("Hel", "lo")                         # streamed text, one SSE frame per part
        fake.tool_call("calculator__evaluate", '{"expr', 'ession": "2*3"}')
        fake.error(429, "Rate limit reached", headers={"retry-after": "7"})
        client = AsyncOpenAI(base_url=fake.base_url, api_key="test")
        ...
        fake.requests   # the JSON bodies the SDK sent, in order

Responses are consumed in order, one per request; with none left the fake
answers 500.  Streaming responses are real ``chat.completion.chunk`` SSE
frames ending with ``data: [DONE]``; non-streaming requests get a
``chat.completion`` object.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

__all__ = ["FakeOpenAI"]


@dataclass(frozen=True)
class _Text:
    parts: tuple[str, ...]


@dataclass(frozen=True)
class _ToolCall:
    name: str
    argument_parts: tuple[str, ...]
    call_id: str


@dataclass(frozen=True)
class _Error:
    status: int
    message: str
    headers: Mapping[str, str] = field(default_factory=dict)


_Response = _Text | _ToolCall | _Error


class FakeOpenAI:
    def __init__(self, model: str = "fake-model") -> None:
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._responses: deque[_Response] = deque()
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    # -- scripting ----------------------------------------------------------

    def reply(self, *parts: str) -> None:
        self._responses.append(_Text(parts))

    def tool_call(self, name: str, *argument_parts: str, call_id: str = "call_fake_1") -> None:
        self._responses.append(_ToolCall(name, argument_parts, call_id))

    def error(self, status: int, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        self._responses.append(_Error(status, message, dict(headers or {})))

    # -- lifecycle ----------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._socket is not None, "use FakeOpenAI as an async context manager"
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}/v1"

    async def __aenter__(self) -> FakeOpenAI:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)  # connections queue here until uvicorn accepts: no start-up wait
        config = uvicorn.Config(
            self._app(), lifespan="off", ws="none", http="h11", log_config=None, access_log=False
        )
        self._socket, self._server = sock, uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        assert self._task is not None
        assert self._socket is not None
        self._server.should_exit = True
        await self._task
        self._socket.close()

    # -- the app ------------------------------------------------------------

    def _app(self) -> Starlette:
        return Starlette(
            routes=[Route("/v1/chat/completions", self._completions, methods=["POST"])]
        )

    async def _completions(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        if not self._responses:
            return _error_response(_Error(500, "fake: no response scripted"))
        response = self._responses.popleft()
        if isinstance(response, _Error):
            return _error_response(response)
        if not body.get("stream"):
            return JSONResponse(self._completion(response))
        return StreamingResponse(self._frames(response), media_type="text/event-stream")

    async def _frames(self, response: _Text | _ToolCall) -> AsyncIterator[str]:
        for chunk in self._chunks(response):
            yield f"data: {json.dumps(chunk)}\n\n"
        yield "data: [DONE]\n\n"

    def _chunks(self, response: _Text | _ToolCall) -> list[dict[str, Any]]:
        first: dict[str, Any] = {"role": "assistant", "content": ""}
        if isinstance(response, _Text):
            deltas = [first, *({"content": p} for p in response.parts)]
            return [*map(self._chunk, deltas), self._chunk({}, "stop")]
        head = {"index": 0, "id": response.call_id, "type": "function"}
        start = {**head, "function": {"name": response.name, "arguments": ""}}
        pieces = [{"index": 0, "function": {"arguments": p}} for p in response.argument_parts]
        deltas = [{"role": "assistant", "content": None, "tool_calls": [start]}]
        deltas += [{"tool_calls": [p]} for p in pieces]
        return [*map(self._chunk, deltas), self._chunk({}, "tool_calls")]

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-fake-{len(self.requests)}",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }

    def _completion(self, response: _Text | _ToolCall) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": None}
        if isinstance(response, _Text):
            message["content"] = "".join(response.parts)
        else:
            arguments = "".join(response.argument_parts)
            function = {"name": response.name, "arguments": arguments}
            message["tool_calls"] = [
                {"id": response.call_id, "type": "function", "function": function}
            ]
        finish = "stop" if isinstance(response, _Text) else "tool_calls"
        return {
            "id": f"chatcmpl-fake-{len(self.requests)}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": self.model,
            "choices": [
                {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }


def _error_response(error: _Error) -> JSONResponse:
    kinds = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_exceeded"}
    body = {
        "error": {
            "message": error.message,
            "type": kinds.get(error.status, "server_error"),
            "code": None,
        }
    }
    return JSONResponse(body, status_code=error.status, headers=dict(error.headers))
