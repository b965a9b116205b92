"""The scripted provider and the model-spec factory."""

from __future__ import annotations

from pathlib import Path

import pytest

from brain.errors import (
    BadModelSpecError,
    BadScriptError,
    LocalModelMissingError,
    ScriptExhaustedError,
)
from brain.models import ModelRequest, ModelResult, TextChunk, open_provider, parse_model_spec
from brain.models.base import Message, ModelChunk, ModelProvider, Role, ToolCall
from brain.models.scripted import CallTools, Reply, ScriptedProvider, load_script, split_text
from brain.settings import BrainSettings


def request(text: str, conversation: str = "c1") -> ModelRequest:
    return ModelRequest(
        (Message(Role.SYSTEM, "sys"), Message(Role.USER, text)), conversation_id=conversation
    )


async def collect(provider: ModelProvider, req: ModelRequest) -> list[ModelChunk]:
    return [chunk async for chunk in provider.stream(req)]


async def test_echo_streams_the_user_text_in_a_few_chunks() -> None:
    chunks = await collect(ScriptedProvider(), request("one two three four five six"))
    texts = [c.text for c in chunks if isinstance(c, TextChunk)]
    assert 1 < len(texts) <= 4
    assert "".join(texts) == "one two three four five six"
    assert chunks[-1] == ModelResult("one two three four five six")


@pytest.mark.parametrize("text", ["", " ", "a", "  lead and trail  ", "x\n\ny"])
def test_split_text_is_lossless(text: str) -> None:
    assert "".join(split_text(text)) == text
    assert all(split_text(text))


def write(tmp_path: Path, text: str, name: str = "script.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def test_script_steps_are_consumed_per_conversation(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "- tool_calls:\n    - name: calculator__evaluate\n      arguments: {expression: '2*3'}\n"
        "- reply: It is 6.\n",
    )
    provider = ScriptedProvider(load_script(path))
    first = await collect(provider, request("hi", "a"))
    assert first == [
        ModelResult(
            "", (ToolCall("call_1", "calculator__evaluate", {"expression": "2*3"}),), "tool_calls"
        )
    ]
    assert (await collect(provider, request("hi", "b")))[-1].tool_calls  # type: ignore[union-attr]
    assert (await collect(provider, request("hi", "a")))[-1] == ModelResult("It is 6.")
    with pytest.raises(ScriptExhaustedError, match="only 2 steps"):
        await collect(provider, request("hi", "a"))


def test_json_scripts_work_too(tmp_path: Path) -> None:
    path = write(tmp_path, '[{"reply": "a"}, {"tool_calls": [{"name": "t__x"}]}]', "s.json")
    assert load_script(path) == (Reply("a"), CallTools((("t__x", {}),)))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{}", "non-empty list"),
        ("[]", "non-empty list"),
        ("- hello\n", "step 0"),
        ("- reply: 3\n", "step 0"),
        ("- reply: a\n  tool_calls: []\n", "step 0"),
        ("- reply: ok\n- tool_calls: []\n", "step 1"),
        ("- tool_calls: [{arguments: {}}]\n", "needs a name"),
        ("- tool_calls: [{name: x, arguments: [1]}]\n", "needs a name"),
        ("- tool_calls: [{name: x, extra: 1}]\n", "needs a name"),
        ("- reply: [unclosed\n", "cannot read"),
    ],
)
def test_bad_scripts_are_rejected_naming_the_step(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(BadScriptError, match=problem) as info:
        load_script(write(tmp_path, text))
    assert info.value.setting == "model"


def test_missing_script_file(tmp_path: Path) -> None:
    with pytest.raises(BadScriptError, match="cannot read"):
        load_script(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("spec", "kind", "argument"),
    [
        ("local", "local", ""),
        ("scripted:echo", "scripted", "echo"),
        ("openai:gpt-4o", "openai", "gpt-4o"),
    ],
)
def test_parse_model_spec(spec: str, kind: str, argument: str) -> None:
    parsed = parse_model_spec(spec)
    assert (parsed.kind, parsed.argument) == (kind, argument)


@pytest.mark.parametrize(
    "spec", ["", "gpt-4o", "openai:", "scripted:", "local:x", "anthropic", "claude:x"]
)
def test_bad_model_specs_name_the_setting(spec: str) -> None:
    with pytest.raises(BadModelSpecError, match=r"^model: expected"):
        parse_model_spec(spec)


def test_missing_local_model_file_is_a_config_error(tmp_path: Path) -> None:
    settings = BrainSettings(model="local", data_dir=tmp_path, local_model_path=tmp_path / "x.gguf")
    with pytest.raises(LocalModelMissingError, match=r"^local_model_path: model file not found"):
        open_provider(settings)
