"""A deterministic model for tests, benchmarks and demos; no network, no sleeps.

``scripted:echo`` answers with the last user message, streamed in a few
chunks.  ``scripted:PATH`` reads a YAML or JSON script, a list of steps::

    - tool_calls:
        - name: calculator__evaluate      # the exposed "<skill>__<tool>" name
          arguments: {expression: "2*3"}
    - reply: "It is 6."

Steps are consumed in order, separately for each conversation; a conversation
that asks for more steps than the script has fails with ``ScriptExhaustedError``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from brain.errors import BadScriptError, ScriptExhaustedError
from brain.models.base import (
    Capabilities,
    ModelChunk,
    ModelRequest,
    ModelResult,
    Role,
    TextChunk,
    ToolCall,
)
from brain.models.capabilities import Range

__all__ = ["CallTools", "Reply", "ScriptStep", "ScriptedProvider", "load_script"]

_CHUNKS = 4


@dataclass(frozen=True, slots=True)
class Reply:
    text: str


@dataclass(frozen=True, slots=True)
class CallTools:
    calls: tuple[tuple[str, Mapping[str, object]], ...]


ScriptStep = Reply | CallTools


class ScriptedProvider:
    """``script`` None means echo."""

    name = "scripted"

    def __init__(self, script: tuple[ScriptStep, ...] | None = None) -> None:
        self._script = script
        self._positions: dict[str, int] = {}
        self._calls = 0

    @property
    def capabilities(self) -> Capabilities:
        # Takes any value: scripted runs test what the brain sends, not a model's limits.
        return Capabilities(
            chooses_tools=True,
            streams=True,
            context_window=1_000_000,
            top_k=Range(0, 1_000_000),
            penalties=Range(-2.0, 2.0),
            json_mode=True,
        )

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ModelChunk, None]:
        step = self._next_step(request)
        if isinstance(step, CallTools):
            yield ModelResult(
                text="", tool_calls=self._tool_calls(step), finish_reason="tool_calls"
            )
            return
        for piece in split_text(step.text):
            yield TextChunk(piece)
        yield ModelResult(text=step.text)

    async def aclose(self) -> None:
        return None

    def _next_step(self, request: ModelRequest) -> ScriptStep:
        if self._script is None:
            return Reply(_last_user_text(request))
        position = self._positions.get(request.conversation_id, 0)
        if position >= len(self._script):
            raise ScriptExhaustedError(
                f"the script has only {len(self._script)} steps", provider=self.name
            )
        self._positions[request.conversation_id] = position + 1
        return self._script[position]

    def _tool_calls(self, step: CallTools) -> tuple[ToolCall, ...]:
        calls = []
        for name, arguments in step.calls:
            self._calls += 1
            calls.append(ToolCall(id=f"call_{self._calls}", name=name, arguments=arguments))
        return tuple(calls)


def _last_user_text(request: ModelRequest) -> str:
    for message in reversed(request.messages):
        if message.role is Role.USER:
            return message.content
    return ""


def split_text(text: str, parts: int = _CHUNKS) -> list[str]:
    """Split ``text`` at word boundaries into at most ``parts`` non-empty pieces."""
    words = re.findall(r"\s*\S+\s*", text) or ([text] if text else [])
    size = -(-len(words) // parts) if words else 1
    return ["".join(words[i : i + size]) for i in range(0, len(words), size)]


def load_script(path: Path) -> tuple[ScriptStep, ...]:
    """Read and validate a script; raises ``BadScriptError`` naming the step that is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BadScriptError("model", f"cannot read script {path}: {exc}") from exc
    if not isinstance(data, list) or not data:
        raise BadScriptError("model", f"script {path} must be a non-empty list of steps")
    return tuple(_parse_step(path, i, step) for i, step in enumerate(data))


def _parse_step(path: Path, index: int, step: object) -> ScriptStep:
    where = f"script {path}, step {index}"
    if isinstance(step, dict) and set(step) == {"reply"} and isinstance(step["reply"], str):
        return Reply(step["reply"])
    if isinstance(step, dict) and set(step) == {"tool_calls"}:
        calls = step["tool_calls"]
        if isinstance(calls, list) and calls:
            return CallTools(tuple(_parse_call(where, call) for call in calls))
    raise BadScriptError(
        "model", f"{where}: expected {{reply: text}} or {{tool_calls: [{{name, arguments}}]}}"
    )


def _parse_call(where: str, call: object) -> tuple[str, Mapping[str, object]]:
    if isinstance(call, dict) and set(call) <= {"name", "arguments"}:
        name, arguments = call.get("name"), call.get("arguments", {})
        if isinstance(name, str) and name and isinstance(arguments, dict):
            return name, arguments
    raise BadScriptError("model", f"{where}: a tool call needs a name and an arguments mapping")
