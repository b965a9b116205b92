"""Assemble streamed OpenAI-style tool-call deltas into canonical ``ToolCall`` values.

OpenAI (and llama.cpp's OpenAI-shaped stream) send a tool call in pieces: the
first delta for an ``index`` carries ``id`` and ``function.name``, later ones
carry fragments of ``function.arguments`` (a JSON text split anywhere).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from brain.errors import ModelResponseError
from brain.models.base import ToolCall

__all__ = ["ToolCallAssembler", "parse_arguments"]


@dataclass(slots=True)
class _Partial:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class ToolCallAssembler:
    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._parts: dict[int, _Partial] = {}

    def add(self, index: int, call_id: str | None, name: str | None, arguments: str | None) -> None:
        part = self._parts.setdefault(index, _Partial())
        if call_id:
            part.id = call_id
        # OpenAI sends the name once; llama.cpp repeats it in every delta.
        if name and not part.name:
            part.name = name
        if arguments:
            part.arguments.append(arguments)

    def wire_calls(self) -> list[dict[str, object]]:
        """The calls as the server sent them (arguments text untouched), for replay."""
        return [
            {
                "id": part.id or f"call_{index}",
                "type": "function",
                "function": {"name": part.name, "arguments": "".join(part.arguments)},
            }
            for index, part in sorted(self._parts.items())
        ]

    def calls(self) -> tuple[ToolCall, ...]:
        """The finished calls in index order; raises ``ModelResponseError`` if one is malformed."""
        return tuple(self._finish(i, self._parts[i]) for i in sorted(self._parts))

    def _finish(self, index: int, part: _Partial) -> ToolCall:
        if not part.name:
            raise ModelResponseError(
                f"tool call #{index} has no function name", provider=self._provider
            )
        arguments = parse_arguments("".join(part.arguments), provider=self._provider)
        return ToolCall(id=part.id or f"call_{index}", name=part.name, arguments=arguments)


def parse_arguments(text: str, *, provider: str) -> dict[str, object]:
    """Parse a tool call's JSON arguments; an empty text means no arguments."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ModelResponseError(
            f"tool call arguments are not valid JSON: {exc}", provider=provider
        ) from exc
    if not isinstance(value, dict):
        raise ModelResponseError("tool call arguments must be a JSON object", provider=provider)
    return value
