"""Fixture skills written into tmp dirs, and helpers to drive a ``Brain`` like the gateway does."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from brain import Brain, BrainSettings
from gateway.events import (
    ApprovalRequested,
    Conversation,
    ConversationKind,
    FinalReply,
    InboundMessage,
    ReplyEvent,
    Sender,
    TextDelta,
    TurnRequest,
)

CALC_SCRIPT = """
import ast, json, operator, sys

OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
       ast.Div: operator.truediv, ast.USub: operator.neg}

def ev(node):
    if isinstance(node, ast.Expression):
        return ev(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.BinOp):
        return OPS[type(node.op)](ev(node.left), ev(node.right))
    if isinstance(node, ast.UnaryOp):
        return OPS[type(node.op)](ev(node.operand))
    raise ValueError("unsupported expression")

request = json.load(sys.stdin)
try:
    value = ev(ast.parse(request["input"]["expression"], mode="eval"))
except (ValueError, KeyError, SyntaxError, ZeroDivisionError) as exc:
    print(json.dumps({"error": {"message": f"cannot evaluate: {exc}"}}))
else:
    value = int(value) if float(value).is_integer() else value
    print(json.dumps({"output": {"value": value, "text": str(value)}}))
"""

CALC_YAML = """
version: 1.0.0
command: {tool: evaluate, argument: expression}
tools:
  - name: evaluate
    description: Evaluate an arithmetic expression such as 2*(3+4) and calculate the result.
    entrypoint: scripts/evaluate.py
    timeout: 10
    input:
      type: object
      properties: {expression: {type: string}}
      required: [expression]
      additionalProperties: false
    output:
      type: object
      properties: {value: {type: number}, text: {type: string}}
"""

COUNTER_SCRIPT = """
import json, os, sys
request = json.load(sys.stdin)
path = os.path.join(request["context"]["data_dir"], "count")
count = int(open(path).read()) + 1 if os.path.exists(path) else 1
with open(path, "w") as f:
    f.write(str(count))
print(json.dumps({"output": {"count": count}}))
"""

COUNTER_YAML = """
version: 0.1.0
permissions: {filesystem: [data]}
tools:
  - name: bump
    description: Increment a persistent counter for the user.
    entrypoint: scripts/bump.py
    input: {type: object, properties: {}}
    output: {type: object, properties: {count: {type: integer}}}
"""

SHOUT_SCRIPT = """
import json, sys
text = json.load(sys.stdin)["input"]["text"]
print(json.dumps({"output": {"loud": text.upper()}}))
"""

SHOUT_YAML = """
version: 0.1.0
command: {tool: upper, argument: text}
tools:
  - name: upper
    description: Upper-case a text.
    entrypoint: scripts/upper.py
    input: {type: object, properties: {text: {type: string}}, required: [text]}
    output: {type: object, properties: {loud: {type: string}}}
"""


def write_skill(
    root: Path, name: str, description: str, sidecar: str | None, scripts: dict[str, str]
) -> Path:
    folder = root / name
    (folder / "scripts").mkdir(parents=True)
    (folder / "SKILL.md").write_text(
        f"---\nname: {name}\ndescription: {description}\n---\n\n# {name}\n", encoding="utf-8"
    )
    if sidecar is not None:
        (folder / "skill.yaml").write_text(textwrap.dedent(sidecar), encoding="utf-8")
    for file, text in scripts.items():
        (folder / "scripts" / file).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


@pytest.fixture
def skill_dir(tmp_path: Path) -> Path:
    root = tmp_path / "skills"
    write_skill(root, "calc", "Arithmetic calculator.", CALC_YAML, {"evaluate.py": CALC_SCRIPT})
    write_skill(root, "counter", "A per-user counter.", COUNTER_YAML, {"bump.py": COUNTER_SCRIPT})
    write_skill(root, "guide", "Instructions only, no tools.", None, {})
    write_skill(root, "shout", "Upper-cases text.", SHOUT_YAML, {"upper.py": SHOUT_SCRIPT})
    return root


def settings_for(
    tmp_path: Path, skill_dir: Path | None = None, **overrides: object
) -> BrainSettings:
    fields: dict[str, object] = {
        "model": "scripted:echo",
        "data_dir": tmp_path / "data",
        "skill_dirs": (skill_dir,) if skill_dir else (),
    }
    fields.update(overrides)
    return BrainSettings(**fields)  # type: ignore[arg-type]


@pytest.fixture
async def echo_brain(tmp_path: Path, skill_dir: Path) -> AsyncIterator[Brain]:
    brain = await Brain.open(settings_for(tmp_path, skill_dir))
    yield brain
    await brain.aclose()


_counter = 0


def turn(text: str, *, conversation: str = "conv-1", user: str = "web:alice") -> TurnRequest:
    global _counter
    _counter += 1
    message = InboundMessage(
        id=f"m{_counter}",
        channel="web",
        account="default",
        conversation=Conversation("c1", ConversationKind.DM),
        sender=Sender(user.split(":", 1)[-1]),
        text=text,
        sent_at=1_700_000_000.0,
    )
    return TurnRequest(
        run_id=f"run-{_counter}",
        session="web:default:c1",
        conversation_id=conversation,
        user=user,
        messages=(message,),
    )


async def run(brain: Brain, text: str, **kwargs: str) -> list[ReplyEvent]:
    """All events of one turn; approvals are not expected."""
    events: list[ReplyEvent] = []
    async for event in brain.run_turn(turn(text, **kwargs)):
        assert not isinstance(event, ApprovalRequested), "use run_with_approvals"
        events.append(event)
    return events


def final_text(events: list[ReplyEvent]) -> str:
    """The final reply, after checking that it equals the streamed deltas."""
    final = events[-1]
    assert isinstance(final, FinalReply), final
    assert final.text == "".join(e.text for e in events if isinstance(e, TextDelta))
    return final.text
