"""What a fake model server answers, in one vocabulary for every wire format.

Tests queue answers (``fake.reply(...)``, ``fake.tool_call(...)``,
``fake.respond(FakeTurn(...))``, ``fake.error(...)``); each request takes the
next one.  Each fake renders them in its own wire shapes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AnswerQueue", "FakeAnswer", "FakeCall", "FakeError", "FakeTurn"]


@dataclass(frozen=True)
class FakeCall:
    """A tool call; ``argument_parts`` are the JSON text as streamed, in pieces."""

    name: str
    argument_parts: tuple[str, ...]
    call_id: str


@dataclass(frozen=True)
class FakeTurn:
    """One assistant message: reasoning first, then text, then tool calls."""

    text: tuple[str, ...] = ()
    reasoning: tuple[str, ...] = ()
    calls: tuple[FakeCall, ...] = ()


@dataclass(frozen=True)
class FakeError:
    """An HTTP error answer, or (``mid_stream``) an error event after the stream began."""

    status: int
    message: str
    headers: Mapping[str, str] = field(default_factory=dict)
    mid_stream: bool = False


FakeAnswer = FakeTurn | FakeError


class AnswerQueue:
    """The scripting half of a fake server: queued answers and the requests seen."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._answers: deque[FakeAnswer] = deque()

    def reply(self, *parts: str, reasoning: tuple[str, ...] = ()) -> None:
        self._answers.append(FakeTurn(text=parts, reasoning=reasoning))

    def tool_call(
        self,
        name: str,
        *argument_parts: str,
        call_id: str = "call_fake_1",
        text: tuple[str, ...] = (),
        reasoning: tuple[str, ...] = (),
    ) -> None:
        call = FakeCall(name, argument_parts, call_id)
        self._answers.append(FakeTurn(text=text, reasoning=reasoning, calls=(call,)))

    def respond(self, answer: FakeAnswer) -> None:
        self._answers.append(answer)

    def error(
        self,
        status: int,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        mid_stream: bool = False,
    ) -> None:
        self._answers.append(FakeError(status, message, dict(headers or {}), mid_stream))

    def record(self, body: dict[str, Any], headers: Mapping[str, str]) -> None:
        self.requests.append(body)
        self.headers.append(dict(headers))

    def next_answer(self) -> FakeAnswer:
        """The next queued answer; a 500 when the test queued too few."""
        if not self._answers:
            return FakeError(500, "fake: no response scripted")
        return self._answers.popleft()
