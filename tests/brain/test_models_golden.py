"""Golden files: the exact request JSON each provider's SDK sent for a three-step tool chain.

``tests/brain/golden/<provider>.json`` holds the three request bodies, as the
fake server received them.  A change to what goes on the wire shows up as a
diff of these files.  To accept a deliberate change, rerun with
``SKILLYARD_UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from brain.models import ModelProvider
from brain.models.anthropic_compat import AnthropicProvider
from brain.models.openai_compat import OpenAIProvider
from brain.models.presets import Overrides, resolve
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.chain import run_chain, script_chain
from tests.fakes.openai_server import FakeOpenAI

GOLDEN = Path(__file__).parent / "golden"
ENV = {"OPENAI_API_KEY": "sk-test", "ANTHROPIC_API_KEY": "ak-test", "MINIMAX_API_KEY": "mm"}


@dataclass(frozen=True)
class Case:
    name: str
    spec: str
    fake: Callable[[], FakeOpenAI | FakeAnthropic]
    reasoning: bool  # whether this provider sends reasoning back


def _openai(spec: str, url: str) -> ModelProvider:
    return OpenAIProvider(resolve(spec, ENV, Overrides(base_url=url)))


def _anthropic(spec: str, url: str) -> ModelProvider:
    return AnthropicProvider(resolve(spec, ENV, Overrides(base_url=url)))


CASES = [
    Case("openai", "openai:gpt-4.1-mini", lambda: FakeOpenAI("gpt-4.1-mini"), False),
    Case("anthropic", "anthropic:fake-claude", lambda: FakeAnthropic("fake-claude"), True),
    Case("minimax-openai", "minimax", lambda: FakeOpenAI("MiniMax-M2.7", minimax=True), True),
    Case(
        "minimax-anthropic",
        "minimax-anthropic",
        lambda: FakeAnthropic("MiniMax-M2.7", minimax=True),
        True,
    ),
    Case("ollama", "ollama:qwen3", lambda: FakeOpenAI("qwen3"), True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_three_step_tool_chain_matches_the_golden_file(case: Case) -> None:
    async with case.fake() as fake:
        opener = _anthropic if isinstance(fake, FakeAnthropic) else _openai
        provider = opener(case.spec, fake.base_url)
        script_chain(fake, reasoning=case.reasoning)
        try:
            await run_chain(provider)
        finally:
            await provider.aclose()
    sent = json.dumps(fake.requests, indent=2, ensure_ascii=False) + "\n"
    path = GOLDEN / f"{case.name}.json"
    if os.environ.get("SKILLYARD_UPDATE_GOLDEN") == "1":
        path.write_text(sent, encoding="utf-8")
    assert len(fake.requests) == 3
    assert sent == path.read_text(encoding="utf-8"), f"{path.name} differs: see its diff"
