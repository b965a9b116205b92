"""The local provider's pure parts (no llama.cpp needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from brain.errors import LocalModelMissingError
from brain.models import Message, Role, ToolCall, ToolDef
from brain.models.local import (
    _grammar_friendly,
    check_local_model,
    default_model_path,
    fit_history,
    local_messages,
)

SYS = Message(Role.SYSTEM, "s" * 10)


def test_fit_history_keeps_recent_whole_turns() -> None:
    call = ToolCall("c", "t", {})
    history = (
        SYS,
        Message(Role.USER, "u" * 10),
        Message(Role.ASSISTANT, "", (call,)),
        Message(Role.TOOL, "r" * 10, tool_call_id="c"),
        Message(Role.ASSISTANT, "a" * 10),
        Message(Role.USER, "v" * 10),
    )
    assert fit_history(history, 1000) == history
    # The budget reaches back to the tool call, but a window must start at a user message.
    assert fit_history(history, 45) == (SYS, history[-1])
    assert fit_history(history, 0) == (SYS, history[-1])
    assert fit_history((Message(Role.USER, "x"),), 0) == (Message(Role.USER, "x"),)


def test_tool_traffic_is_written_for_chatml() -> None:
    call = ToolCall("c", "weather__now", {"city": "Paris"})
    messages = local_messages(
        (Message(Role.ASSISTANT, "", (call,)), Message(Role.TOOL, '{"t": 1}', tool_call_id="c"))
    )
    calls = '[{"name": "weather__now", "arguments": {"city": "Paris"}}]'
    assert messages == [
        {"role": "assistant", "content": f"<tool_call>{calls}</tool_call>"},
        {"role": "user", "content": '<tool_response>\n{"t": 1}\n</tool_response>'},
    ]


def test_grammar_friendly_schema_only_tightens_plain_strings() -> None:
    tool = ToolDef(
        "t",
        "d",
        {
            "type": "object",
            "properties": {
                "free": {"type": "string"},
                "zone": {"type": "string", "enum": ["UTC"]},
                "n": {"type": "number"},
            },
        },
    )
    schema = _grammar_friendly(tool)["function"]["parameters"]
    assert schema["properties"]["free"]["pattern"] == '^[^{}\\n"\\\\]*$'
    assert "pattern" not in schema["properties"]["zone"]
    assert schema["properties"]["n"] == {"type": "number"}
    assert schema["additionalProperties"] is False
    assert "additionalProperties" not in tool.parameters  # the skill's schema is untouched


def test_check_local_model(tmp_path: Path) -> None:
    with pytest.raises(LocalModelMissingError, match="not installed"):
        check_local_model(None)
    with pytest.raises(LocalModelMissingError, match="not found"):
        check_local_model(tmp_path / "m.gguf")
    path = default_model_path()
    if path is not None and path.is_file():
        assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
