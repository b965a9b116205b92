"""Time per turn the brain spends outside the model, at 10 to 10,000 installed skills.

For each size N a temp dir gets generated skill folders (SKILL.md plus a
``skill.yaml`` declaring one tool; names and descriptions recombined from a
fixed word list), loaded by the real loader.  The loader costs tens of
milliseconds per folder here (YAML and JSON Schema checks of the sidecar),
so at most ``--load`` folders are loaded and the rest of the N skills are
copies of loaded ones with their own names and descriptions; the start-up
line then projects the load time of all N from the measured per-folder cost.

A ``Brain`` with the scripted echo model answers the same fixed messages
through ``Brain.run_turn``, as the gateway drives it.  The provider is
wrapped so the time spent inside it is measured; "outside the model" is the
turn's wall time minus that.  Reported: median and p95 ms per turn outside
the model, the time skill search takes per message (the catalog plus the
offered tools), the catalog's tokens per turn and the skill tools offered,
plus start-up: loading the folders and building the index.

Both kinds of model are measured: ``choosing`` (the echo model chooses tools:
offered the tools of the best ``discovery.tool_skills`` skills, and the
catalog goes into its context) and ``forced`` (like the embedded SmolLM2:
the best matching skill's tool is forced, no catalog).

Run: ``.venv/bin/python bench/brain_overhead.py [--sizes 10,100,1000,10000] [--turns 200]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from brain import Brain, BrainSettings
from brain.discovery import SkillIndex, open_index
from brain.discovery.catalog import entry_tokens
from brain.models import Capabilities, ModelProvider, ModelRequest
from brain.models.base import ModelChunk
from brain.models.scripted import ScriptedProvider
from brain.skills import SkillSet
from brain.transcript import Transcript
from gateway.events import (
    Conversation,
    ConversationKind,
    InboundMessage,
    Sender,
    TurnRequest,
)
from registry.model import LoadedSkill

_WORD_TEXT = """weather forecast rain city travel flight hotel booking price stock market news
recipe cooking ingredient translate language document pdf summary calendar meeting event
reminder note music playlist song video movie game score sport team job resume interview
email message contact map route distance currency exchange convert unit length mass
temperature time zone clock health fitness diet sleep budget expense invoice tax law contract
code repository bug deploy server database query chart report image photo edit design
"""
WORDS = _WORD_TEXT.split()

MESSAGES = [
    "what's the weather forecast for my city tomorrow?",
    "convert 20 euros to dollars please",
    "find me a cheap flight and a hotel for the weekend",
    "summarise this pdf document for my meeting",
    "hello there!",
    "add a reminder to my calendar for the team meeting",
    "what's a good recipe with these ingredients",
    "how is the stock market doing today",
]

TOOL_YAML = """version: 1.0.0
tools:
  - name: run
    description: {description}
    entrypoint: run.py
    timeout: 5
    input: {{type: object, properties: {{text: {{type: string}}}}}}
    output: {{type: object, properties: {{text: {{type: string}}}}}}
"""


def invent(rng: random.Random, i: int) -> tuple[str, str]:
    name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{i}"
    return name, " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20)))


def generate(root: Path, count: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    for i in range(count):
        name, description = invent(rng, i)
        folder = root / name
        folder.mkdir(parents=True)
        (folder / "SKILL.md").write_text(
            f"---\nname: {name}\ndescription: {description.capitalize()}.\n---\n\n# {name}\n",
            encoding="utf-8",
        )
        (folder / "skill.yaml").write_text(
            TOOL_YAML.format(description=json.dumps(description)), encoding="utf-8"
        )
        (folder / "run.py").write_text("", encoding="utf-8")


class Timed:
    """A provider wrapper that adds up the time spent inside ``stream``."""

    def __init__(self, inner: ModelProvider, chooses: bool) -> None:
        self._inner = inner
        self._chooses = chooses
        self.name = inner.name
        self.seconds = 0.0
        self.offered: list[int] = []

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(chooses_tools=self._chooses, streams=True, context_window=128_000)

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ModelChunk, None]:
        self.offered.append(sum("__" in t.name for t in request.tools))
        chunks = self._inner.stream(request)
        while True:
            start = time.perf_counter()
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                self.seconds += time.perf_counter() - start
                return
            self.seconds += time.perf_counter() - start
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass(frozen=True)
class Row:
    mode: str
    skills: int
    median_ms: float
    p95_ms: float
    search_ms: float
    catalog_tokens: float
    offered: float


def request(i: int, text: str) -> TurnRequest:
    message = InboundMessage(
        id=f"m{i}",
        channel="web",
        account="default",
        conversation=Conversation("bench", ConversationKind.DM),
        sender=Sender("bench"),
        text=text,
        sent_at=1_700_000_000.0,
    )
    return TurnRequest(
        run_id=f"run-{i}",
        session="web:default:bench",
        conversation_id=f"bench-{i % 4}",
        user="web:bench",
        messages=(message,),
    )


async def measure(
    mode: str, settings: BrainSettings, skills: SkillSet, index: SkillIndex, turns: int
) -> Row:
    provider = Timed(ScriptedProvider(), chooses=mode == "choosing")
    transcript = Transcript.open(settings.data_dir / f"{mode}.db")
    brain = Brain(settings, provider=provider, skills=skills, transcript=transcript, index=index)
    outside = []
    try:
        for i in range(turns):
            before = provider.seconds
            start = time.perf_counter()
            async for _ in brain.run_turn(request(i, MESSAGES[i % len(MESSAGES)])):
                pass
            outside.append((time.perf_counter() - start - (provider.seconds - before)) * 1000)
    finally:
        await brain.aclose()
    return summarise(mode, settings, skills, index, outside, provider.offered)


def summarise(
    mode: str,
    settings: BrainSettings,
    skills: SkillSet,
    index: SkillIndex,
    outside: list[float],
    offered: list[int],
) -> Row:
    context = settings.context
    catalog = [index.catalog(m, k=context.catalog_entries, budget_tokens=context.catalog_tokens)
               for m in MESSAGES]  # fmt: skip
    tokens = [sum(entry_tokens(e) for e in c) for c in catalog] if mode == "choosing" else [0]
    k = settings.discovery.tool_skills

    def search(m: str) -> object:
        return (index.catalog(m, k=context.catalog_entries, budget_tokens=context.catalog_tokens),
                index.search(m, k))  # fmt: skip

    outside.sort()
    return Row(
        mode,
        len(skills.skills),
        statistics.median(outside),
        outside[int(0.95 * (len(outside) - 1))],
        per_call_ms(search, MESSAGES * 10),
        statistics.mean(tokens),
        statistics.mean(offered),
    )


def per_call_ms(call: Callable[[str], Any], items: list[str]) -> float:
    start = time.perf_counter()
    for item in items:
        call(item)
    return (time.perf_counter() - start) * 1000 / len(items)


def copies(templates: list[LoadedSkill], start: int, count: int) -> list[LoadedSkill]:
    """``count`` skills like ``templates`` but each with its own name and description."""
    rng = random.Random(start)
    out = []
    for i in range(start, start + count):
        name, description = invent(rng, i)
        template = templates[i % len(templates)]
        manifest = replace(template.manifest, name=name, description=description.capitalize())
        tools = tuple(replace(t, description=description) for t in template.tools)
        out.append(replace(template, manifest=manifest, tools=tools))
    return out


def installed(count: int, load: int, tmp: Path) -> SkillSet:
    root = tmp / f"skills-{count}"
    generate(root, min(count, load))
    start = time.perf_counter()
    loaded = list(SkillSet.load([root]).skills.values())
    seconds = time.perf_counter() - start
    each = 1000 * seconds / len(loaded)
    note = f"load {len(loaded)} folders {seconds:6.2f} s ({each:.1f} ms each)"
    if count > len(loaded):
        note += f", all {count} projected {seconds * count / len(loaded):7.1f} s"
        loaded += copies(loaded, len(loaded), count - len(loaded))
    print(f"{count:>6} skills: {note}", end="")
    return SkillSet(loaded)


async def run_size(count: int, turns: int, load: int, tmp: Path) -> list[Row]:
    skills = installed(count, load, tmp)
    start = time.perf_counter()
    index = open_index(skills.skills.values(), embeddings=False, cache_dir=tmp / "cache")
    print(f"; build index {time.perf_counter() - start:5.2f} s")
    settings = BrainSettings(model="scripted:echo", data_dir=tmp / f"data-{count}")
    return [await measure(m, settings, skills, index, turns) for m in ("choosing", "forced")]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--load", type=int, default=300, help="most folders to really load")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # per-turn notices would swamp the figures
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in (int(s) for s in args.sizes.split(",")):
            rows += await run_size(count, args.turns, args.load, Path(tmp))
    print(f"\n{'model':9} {'skills':>7} {'median ms':>10} {'p95 ms':>8} {'search ms':>10} "
          f"{'catalog tok':>12} {'tools':>6}   (per turn, outside the model)")  # fmt: skip
    for r in rows:
        print(f"{r.mode:9} {r.skills:>7} {r.median_ms:10.2f} {r.p95_ms:8.2f} {r.search_ms:10.3f} "
              f"{r.catalog_tokens:12.0f} {r.offered:6.1f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
