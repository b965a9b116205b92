"""A loopback fake of the Anthropic Messages API, for driving the real ``anthropic`` SDK.

Same style and scripting as ``FakeOpenAI`` (``tests.fakes.script``)::

    async with FakeAnthropic() as fake:
        fake.tool_call("calc__evaluate", '{"expr', 'ession": "2*3"}', reasoning=("Use calc.",))
        fake.reply("It is 6.")
        client = AsyncAnthropic(base_url=fake.base_url, api_key="test")

Streams are the real SSE event sequence: ``message_start``, then per content
block ``content_block_start`` / ``content_block_delta`` (``thinking_delta``
and ``signature_delta`` for reasoning, ``text_delta``, ``input_json_delta``
for tool input) / ``content_block_stop``, a ``ping``, ``message_delta``
(stop reason and usage) and ``message_stop``.  Errors carry Anthropic's body
(``{"type": "error", "error": {"type", "message"}}``); ``mid_stream`` errors
arrive as an ``event: error`` after ``message_start``, as overloads do.

Like the real API it refuses (400) a request whose history holds ``tool_use``
blocks without ``tools``, and an assistant tool-use message whose thinking
block (issued by this fake, with its signature) did not come back unchanged.
``minimax=True`` serves under ``/anthropic`` and adds MiniMax's rules:
temperature in (0, 1], ``tool_choice`` only auto/none; ``top_k`` is accepted
and ignored, as MiniMax documents.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes._server import LoopbackServer
from tests.fakes.script import AnswerQueue, FakeCall, FakeError, FakeTurn

__all__ = ["FakeAnthropic", "signature_of"]

_KINDS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_Event = tuple[str, dict[str, Any]]


def signature_of(thinking: str) -> str:
    """The (fake) signature this server gives a thinking text."""
    return base64.b64encode(hashlib.sha256(thinking.encode()).digest()).decode()


class FakeAnthropic(LoopbackServer, AnswerQueue):
    def __init__(
        self, model: str = "fake-claude", *, minimax: bool = False, api_key: str | None = None
    ) -> None:
        LoopbackServer.__init__(self)
        AnswerQueue.__init__(self)
        self.model = model
        self.minimax = minimax
        self.api_key = api_key
        self._thinking: dict[str, dict[str, str]] = {}  # tool_use id -> thinking block issued

    async def __aenter__(self) -> FakeAnthropic:
        await self.start()
        return self

    @property
    def base_url(self) -> str:
        return f"{self.origin}/anthropic" if self.minimax else self.origin

    def app(self) -> Starlette:
        prefix = "/anthropic" if self.minimax else ""
        return Starlette(
            routes=[
                Route(f"{prefix}/v1/messages", self._messages, methods=["POST"]),
                Route(f"{prefix}/v1/models", self._models, methods=["GET"]),
            ]
        )

    # -- endpoints ----------------------------------------------------------

    async def _models(self, request: Request) -> Response:
        if refused := self._check_key(request):
            return refused
        model = {
            "type": "model",
            "id": self.model,
            "display_name": self.model,
            "created_at": "2025-01-01T00:00:00Z",
        }
        return JSONResponse(
            {"data": [model], "has_more": False, "first_id": self.model, "last_id": self.model}
        )

    async def _messages(self, request: Request) -> Response:
        body = await request.json()
        self.record(body, request.headers)
        if refused := self._check_key(request):
            return refused
        if problem := self._problem(body):
            return error_response(FakeError(400, problem))
        answer = self.next_answer()
        if isinstance(answer, FakeError) and not answer.mid_stream:
            return error_response(answer)
        if not body.get("stream"):
            assert isinstance(answer, FakeTurn), "mid-stream errors need stream=True"
            return JSONResponse(self._message(answer))
        if isinstance(answer, FakeError):
            events = self._error_events(answer)
        else:
            events = list(self._events(answer))
        return StreamingResponse(_frames(events), media_type="text/event-stream")

    def _check_key(self, request: Request) -> Response | None:
        # Anthropic takes the key as x-api-key; SDK 2.x sends it as a bearer token.
        sent = request.headers.get("x-api-key") or request.headers.get("authorization", "")
        if self.api_key is None or sent.removeprefix("Bearer ") == self.api_key:
            return None
        return error_response(FakeError(401, "invalid x-api-key"))

    # -- what the API refuses -------------------------------------------------

    def _problem(self, body: dict[str, Any]) -> str | None:
        if not isinstance(body.get("max_tokens"), int):
            return "max_tokens: Field required"
        if self.minimax and (problem := _minimax_problem(body)):
            return problem
        for message in body.get("messages", []):
            if (problem := self._message_problem(body, message)) is not None:
                return problem
        return None

    def _message_problem(self, body: dict[str, Any], message: dict[str, Any]) -> str | None:
        content = message.get("content")
        if not isinstance(content, list):
            return None
        uses = [b for b in content if b.get("type") == "tool_use"]
        if uses and not body.get("tools"):
            return "Requests which include `tool_use` blocks must define tools."
        for use in uses:
            issued = self._thinking.get(use["id"])
            if issued is not None and issued not in content:
                return (
                    "messages: Expected `thinking` or `redacted_thinking`, but found `tool_use`."
                    " When `thinking` is enabled, a final `assistant` message must start with a"
                    " thinking block."
                )
        return None

    # -- rendering ------------------------------------------------------------

    def _issue_thinking(self, answer: FakeTurn) -> list[dict[str, Any]]:
        """The answer's thinking block (if any), remembered for its tool calls."""
        if not answer.reasoning:
            return []
        thinking = "".join(answer.reasoning)
        block = {"type": "thinking", "thinking": thinking, "signature": signature_of(thinking)}
        for call in answer.calls:
            self._thinking[call.call_id] = block
        return [block]

    def _blocks(self, answer: FakeTurn) -> list[dict[str, Any]]:
        blocks = self._issue_thinking(answer)
        if answer.text:
            blocks.append({"type": "text", "text": "".join(answer.text)})
        blocks += [_tool_use(call) for call in answer.calls]
        return blocks

    def _message(self, answer: FakeTurn) -> dict[str, Any]:
        return {
            **self._envelope(),
            "content": self._blocks(answer),
            "stop_reason": "tool_use" if answer.calls else "end_turn",
            "usage": {"input_tokens": 11, "output_tokens": 7},
        }

    def _envelope(self) -> dict[str, Any]:
        return {
            "id": f"msg_fake_{len(self.requests)}",
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 11, "output_tokens": 1},
        }

    def _events(self, answer: FakeTurn) -> Iterator[_Event]:
        self._issue_thinking(answer)
        yield "message_start", {"type": "message_start", "message": self._envelope()}
        index = 0
        if answer.reasoning:
            yield from _thinking_events(index, answer.reasoning)
            index += 1
        if answer.text:
            yield from _block_events(index, {"type": "text", "text": ""}, answer.text, "text_delta")
            index += 1
        for call in answer.calls:
            start = {"type": "tool_use", "id": call.call_id, "name": call.name, "input": {}}
            yield from _block_events(index, start, call.argument_parts, "input_json_delta")
            index += 1
        yield "ping", {"type": "ping"}
        stop = "tool_use" if answer.calls else "end_turn"
        delta = {"stop_reason": stop, "stop_sequence": None}
        yield (
            "message_delta",
            {"type": "message_delta", "delta": delta, "usage": {"output_tokens": 7}},
        )
        yield "message_stop", {"type": "message_stop"}

    def _error_events(self, error: FakeError) -> list[_Event]:
        kind = _KINDS.get(error.status, "api_error")
        return [
            ("message_start", {"type": "message_start", "message": self._envelope()}),
            ("error", {"type": "error", "error": {"type": kind, "message": error.message}}),
        ]


def _thinking_events(index: int, parts: tuple[str, ...]) -> Iterator[_Event]:
    start = {"type": "thinking", "thinking": "", "signature": ""}
    yield (
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": start},
    )
    for part in parts:
        delta = {"type": "thinking_delta", "thinking": part}
        yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
    signature = {"type": "signature_delta", "signature": signature_of("".join(parts))}
    yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": signature}
    yield "content_block_stop", {"type": "content_block_stop", "index": index}


def _block_events(
    index: int, start: dict[str, Any], parts: tuple[str, ...], kind: str
) -> Iterator[_Event]:
    yield (
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": start},
    )
    field = "text" if kind == "text_delta" else "partial_json"
    for part in parts:
        delta = {"type": kind, field: part}
        yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
    yield "content_block_stop", {"type": "content_block_stop", "index": index}


def _tool_use(call: FakeCall) -> dict[str, Any]:
    arguments = "".join(call.argument_parts)
    return {
        "type": "tool_use",
        "id": call.call_id,
        "name": call.name,
        "input": json.loads(arguments) if arguments else {},
    }


async def _frames(events: list[_Event]) -> AsyncIterator[str]:
    for name, data in events:
        yield f"event: {name}\ndata: {json.dumps(data)}\n\n"


def _minimax_problem(body: dict[str, Any]) -> str | None:
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is not None and not 0 < value <= 1:
            return f"invalid params, {name} must be in (0, 1], got {value}"
    choice = (body.get("tool_choice") or {}).get("type")
    if choice is not None and choice not in ("auto", "none"):
        return f"invalid params, tool_choice {choice!r} is not supported"
    return None


def error_response(error: FakeError) -> JSONResponse:
    body = {
        "type": "error",
        "error": {"type": _KINDS.get(error.status, "api_error"), "message": error.message},
    }
    headers = {"request-id": "req_fake", **error.headers}
    return JSONResponse(body, status_code=error.status, headers=headers)
