"""A loopback fake of the OpenAI chat completions API, for driving the real ``openai`` SDK.

Runs Starlette on uvicorn on 127.0.0.1, port 0, in the test's event loop::

    async with FakeOpenAI() as fake:
        fake.reply("Hel", "lo")                         # streamed text, one SSE frame per part
        fake.tool_call("calculator__evaluate", '{"expr', 'ession": "2*3"}')
        fake.reply("It is 6.", reasoning=("The user", " wants 6."))
        fake.error(429, "Rate limit reached", headers={"retry-after": "7"})
        client = AsyncOpenAI(base_url=fake.base_url, api_key="test")
        ...
        fake.requests   # the JSON bodies the SDK sent, in order

Answers are consumed in order, one per request (``tests.fakes.script``); with
none left the fake answers 500.  Streams are real ``chat.completion.chunk``
SSE frames ending with ``data: [DONE]``: text deltas, ``tool_calls`` deltas
(id and name first, then argument pieces), a usage chunk when asked for.
Reasoning comes back as ``<think>…</think>`` at the start of ``content`` (the
tags split across frames, as real streams do), or, in MiniMax mode with
``reasoning_split``, as ``reasoning_details`` deltas.

``minimax=True`` also enforces what MiniMax's endpoint does not accept, with
a 400: temperature or top_p outside (0, 1], a ``tool_choice`` other than
``none``/``auto``, more than one system message or one not first, a tool
with ``strict: null``.  ``GET /v1/models`` lists the model.  With
``api_key`` set, any other bearer token gets a 401.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes._server import LoopbackServer
from tests.fakes.script import AnswerQueue, FakeError, FakeTurn

__all__ = ["FakeOpenAI"]

_CREATED = 1_700_000_000
_KINDS = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_exceeded"}


class FakeOpenAI(LoopbackServer, AnswerQueue):
    def __init__(
        self, model: str = "fake-model", *, minimax: bool = False, api_key: str | None = None
    ) -> None:
        LoopbackServer.__init__(self)
        AnswerQueue.__init__(self)
        self.model = model
        self.minimax = minimax
        self.api_key = api_key

    async def __aenter__(self) -> FakeOpenAI:
        await self.start()
        return self

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self._completions, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )

    # -- endpoints ----------------------------------------------------------

    async def _models(self, request: Request) -> Response:
        if refused := self._check_key(request):
            return refused
        model = {"id": self.model, "object": "model", "created": _CREATED, "owned_by": "fake"}
        return JSONResponse({"object": "list", "data": [model]})

    async def _completions(self, request: Request) -> Response:
        body = await request.json()
        self.record(body, request.headers)
        if refused := self._check_key(request):
            return refused
        if self.minimax and (problem := minimax_problem(body)):
            return error_response(FakeError(400, problem))
        answer = self.next_answer()
        if isinstance(answer, FakeError):
            return error_response(answer)
        if not body.get("stream"):
            return JSONResponse(self._completion(answer, body))
        return StreamingResponse(self._frames(answer, body), media_type="text/event-stream")

    def _check_key(self, request: Request) -> Response | None:
        if self.api_key is None or request.headers.get("authorization") == f"Bearer {self.api_key}":
            return None
        return error_response(FakeError(401, "Incorrect API key provided"))

    # -- streams ------------------------------------------------------------

    async def _frames(self, answer: FakeTurn, body: dict[str, Any]) -> AsyncIterator[str]:
        for chunk in self._chunks(answer, body):
            yield f"data: {json.dumps(chunk)}\n\n"
        yield "data: [DONE]\n\n"

    def _chunks(self, answer: FakeTurn, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield self._chunk({"role": "assistant", "content": ""})
        if answer.reasoning and self._split(body):
            for part in answer.reasoning:
                yield self._chunk({"reasoning_details": [reasoning_detail(part)]})
        elif answer.reasoning:
            for part in ("<th", "ink>\n", *answer.reasoning, "\n</thi", "nk>\n\n"):
                yield self._chunk({"content": part})
        for part in answer.text:
            yield self._chunk({"content": part})
        for index, call in enumerate(answer.calls):
            head = {"index": index, "id": call.call_id, "type": "function"}
            start = {**head, "function": {"name": call.name, "arguments": ""}}
            yield self._chunk({"tool_calls": [start]})
            for piece in call.argument_parts:
                yield self._chunk(
                    {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
                )
        yield self._chunk({}, "tool_calls" if answer.calls else "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            yield {**self._chunk({}), "choices": [], "usage": _usage()}

    def _split(self, body: dict[str, Any]) -> bool:
        return self.minimax and body.get("reasoning_split") is True

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-fake-{len(self.requests)}",
            "object": "chat.completion.chunk",
            "created": _CREATED,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }

    def _completion(self, answer: FakeTurn, body: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(answer.text) or None}
        if answer.reasoning and self._split(body):
            message["reasoning_details"] = [reasoning_detail("".join(answer.reasoning))]
        elif answer.reasoning:
            message["content"] = f"<think>\n{''.join(answer.reasoning)}\n</think>\n\n" + "".join(
                answer.text
            )
        if answer.calls:
            message["tool_calls"] = [
                {
                    "id": c.call_id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": "".join(c.argument_parts)},
                }
                for c in answer.calls
            ]
        return {
            "id": f"chatcmpl-fake-{len(self.requests)}",
            "object": "chat.completion",
            "created": _CREATED,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if answer.calls else "stop",
                    "logprobs": None,
                }
            ],
            "usage": _usage(),
        }


def reasoning_detail(text: str) -> dict[str, Any]:
    """One ``reasoning_details`` entry as MiniMax sends it (each delta carries new text)."""
    return {
        "type": "reasoning.text",
        "id": "reasoning-text-1",
        "format": "MiniMax-response-v1",
        "index": 0,
        "text": text,
    }


def minimax_problem(body: dict[str, Any]) -> str | None:
    """Why MiniMax's OpenAI-compatible endpoint would refuse ``body``, or None."""
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is not None and not 0 < value <= 1:
            return f"invalid params, {name} must be in (0, 1], got {value}"
    choice = body.get("tool_choice")
    if choice is not None and choice not in ("none", "auto"):
        return f"invalid params, tool_choice {choice!r} is not supported"
    roles = [m.get("role") for m in body.get("messages", [])]
    if roles.count("system") > 1 or ("system" in roles and roles[0] != "system"):
        return "invalid params, only one system message, placed first, is supported"
    for tool in body.get("tools") or ():
        if "strict" in tool.get("function", {}) and tool["function"]["strict"] is None:
            return "invalid params, strict must not be null"
    return None


def _usage() -> dict[str, int]:
    return {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}


def error_response(error: FakeError) -> JSONResponse:
    body = {
        "error": {
            "message": error.message,
            "type": _KINDS.get(error.status, "server_error"),
            "code": None,
        }
    }
    return JSONResponse(body, status_code=error.status, headers=dict(error.headers))
