"""Summarisers for compaction: the model itself, or a deterministic extractive summary.

A summariser gets the previous summary and the messages being dropped, and
returns the new summary within ``max_tokens``.  :class:`ExtractiveSummariser`
needs no model: one line per dropped turn (the user's first sentence, the
tools and their outcomes, the reply's first sentence); when the lines exceed
the budget the oldest go first, replaced by one marker line counting them.
It is what the tests and the small local model use.  :class:`ModelSummariser`
asks the provider, and falls back to the extractive summary if the model
fails or answers with nothing, so a compaction never fails for that reason.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from contextlib import aclosing
from typing import Protocol

from brain.context.history import split_turns
from brain.context.tokens import TokenCounter, approx_tokens
from brain.errors import ModelError
from brain.models.base import Message, ModelProvider, ModelRequest, ModelResult, Role

__all__ = ["ExtractiveSummariser", "ModelSummariser", "Summariser", "fit_lines"]

log = logging.getLogger(__name__)

_SNIPPET = 200
_MARKER = re.compile(r"^\[… ([0-9]+) earlier turns? elided …\]$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_PROMPT = (
    "Summarise this part of a conversation for your own later use. Keep every fact, name, "
    "number, decision, preference and open task; drop pleasantries. Plain lines, no preamble. "
    "At most {words} words."
)


class Summariser(Protocol):
    async def summarise(
        self, previous: str, dropped: Sequence[Message], *, max_tokens: int
    ) -> str: ...


class ExtractiveSummariser:
    def __init__(self, *, count: TokenCounter = approx_tokens) -> None:
        self._count = count

    async def summarise(self, previous: str, dropped: Sequence[Message], *, max_tokens: int) -> str:
        return self.summarise_now(previous, dropped, max_tokens=max_tokens)

    def summarise_now(self, previous: str, dropped: Sequence[Message], *, max_tokens: int) -> str:
        """The same, without awaiting: it is pure."""
        lines = [line for line in previous.split("\n") if line.strip()]
        lines += [_turn_line(turn) for turn in split_turns(dropped)]
        return fit_lines(lines, max_tokens, self._count)


def fit_lines(lines: Sequence[str], max_tokens: int, count: TokenCounter = approx_tokens) -> str:
    """``lines`` within ``max_tokens``: the oldest go first, counted in one marker line."""
    kept = list(lines)
    elided = 0
    if kept and (match := _MARKER.match(kept[0])):
        elided, kept = int(match.group(1)), kept[1:]

    def render() -> str:
        return "\n".join([_marker(elided), *kept] if elided else kept)

    while kept and count(render()) > max_tokens:
        kept, elided = kept[1:], elided + 1
    return render()


def _marker(count: int) -> str:
    return f"[… {count} earlier turn{'s' if count != 1 else ''} elided …]"


def _turn_line(turn: Sequence[Message]) -> str:
    parts = []
    if turn[0].role is Role.USER:
        parts.append(f"User: {_first_sentence(turn[0].content)}")
    results = {m.tool_call_id: _outcome(m.content) for m in turn if m.role is Role.TOOL}
    calls = [c for m in turn for c in m.tool_calls]
    if calls:
        parts.append(
            "Tools: " + ", ".join(f"{c.name} {results.get(c.id, 'no result')}" for c in calls)
        )
    replies = [m.content for m in turn if m.role is Role.ASSISTANT and m.content.strip()]
    if replies:
        parts.append(f"Reply: {_first_sentence(replies[-1])}")
    return "- " + (" | ".join(parts) or "(no text)")


def _first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    first = _SENTENCE_END.split(flat, maxsplit=1)[0]
    return first if len(first) <= _SNIPPET else first[: _SNIPPET - 1] + "…"


def _outcome(content: str) -> str:
    try:
        data = json.loads(content)
    except ValueError:
        return "ok"
    return "failed" if isinstance(data, dict) and set(data) == {"error"} else "ok"


class ModelSummariser:
    """Summarises with ``provider``; the caller keeps the provider open while it is used."""

    def __init__(self, provider: ModelProvider, *, count: TokenCounter = approx_tokens) -> None:
        self._provider = provider
        self._count = count
        self._fallback = ExtractiveSummariser(count=count)

    async def summarise(self, previous: str, dropped: Sequence[Message], *, max_tokens: int) -> str:
        request = ModelRequest(
            messages=(
                Message(Role.SYSTEM, _PROMPT.format(words=max(20, max_tokens * 3 // 4))),
                Message(Role.USER, _transcript(previous, dropped)),
            ),
            tool_choice="none",
            max_tokens=max_tokens,
        )
        try:
            text = await self._complete(request)
        except ModelError as exc:
            log.warning(
                "summary by %s failed (%s); using the extractive one", self._provider.name, exc
            )
            text = ""
        if not text.strip():
            return self._fallback.summarise_now(previous, dropped, max_tokens=max_tokens)
        return self._head_lines(text.strip().split("\n"), max_tokens)

    def _head_lines(self, lines: list[str], max_tokens: int) -> str:
        """A model that overruns ``max_tokens`` loses its last lines, not its first."""
        while len(lines) > 1 and self._count("\n".join(lines)) > max_tokens:
            lines = lines[:-1]
        return "\n".join(lines)

    async def _complete(self, request: ModelRequest) -> str:
        async with aclosing(self._provider.stream(request)) as chunks:
            async for chunk in chunks:
                if isinstance(chunk, ModelResult):
                    return chunk.text
        return ""


def _transcript(previous: str, dropped: Sequence[Message]) -> str:
    lines = [f"Summary so far:\n{previous}\n"] if previous.strip() else []
    for message in dropped:
        calls = "".join(
            f" [calls {c.name}({json.dumps(dict(c.arguments), default=str)[:300]})]"
            for c in message.tool_calls
        )
        lines.append(f"{message.role.value}: {message.content[:2_000]}{calls}")
    return "\n".join(lines)
