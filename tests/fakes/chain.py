"""A three-step tool chain, scripted on a fake server and driven like the brain's loop does.

Step 1 the model calls ``calc__evaluate``; step 2, given the result, it calls
``clock__now``; step 3 it answers.  Each step may carry reasoning, so the
replay of reasoning across a chain can be checked request by request.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import aclosing

from brain.models import Message, ModelProvider, ModelRequest, ModelResult, Role, ToolDef
from brain.models.base import ModelChunk
from tests.fakes.script import AnswerQueue, FakeCall, FakeTurn

__all__ = [
    "CHAIN_TOOLS",
    "FINAL_TEXT",
    "REASONING",
    "SYSTEM",
    "USER",
    "collect",
    "run_chain",
    "script_chain",
]

SYSTEM = "You are a careful assistant."
USER = "What is 2*(3+4), and what time is it in Paris?"
FINAL_TEXT = "2*(3+4) is 14, and it is 10:00 in Paris."
REASONING = (
    ("The user asks two things.", " First the arithmetic: use calc."),
    ("14. Now the time in Paris:", " use the clock."),
    ("Both known;", " answer briefly."),
)
TOOL_RESULTS = {"calc__evaluate": '{"value":14}', "clock__now": '{"time":"10:00"}'}

CHAIN_TOOLS = (
    ToolDef(
        "calc__evaluate",
        "Evaluate an arithmetic expression",
        {
            "type": "object",
            "properties": {"expression": {"type": "string"}},
            "required": ["expression"],
        },
    ),
    ToolDef(
        "clock__now",
        "The current time in a city",
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    ),
)


def script_chain(fake: AnswerQueue, *, reasoning: bool = True) -> None:
    """Queue the chain's three answers on ``fake``."""
    thoughts = REASONING if reasoning else ((), (), ())
    calls = (
        FakeCall("calc__evaluate", ('{"expres', 'sion": "2*(3+4)"}'), "call_calc_1"),
        FakeCall("clock__now", ('{"city":', ' "Paris"}'), "call_clock_2"),
    )
    fake.respond(FakeTurn(reasoning=thoughts[0], calls=(calls[0],)))
    fake.respond(FakeTurn(reasoning=thoughts[1], calls=(calls[1],)))
    fake.respond(
        FakeTurn(text=("2*(3+4) is 14, ", "and it is 10:00 in Paris."), reasoning=thoughts[2])
    )


async def collect(provider: ModelProvider, request: ModelRequest) -> list[ModelChunk]:
    async with aclosing(provider.stream(request)) as chunks:
        return [chunk async for chunk in chunks]


async def run_chain(
    provider: ModelProvider, history: Sequence[Message] = ()
) -> tuple[list[Message], list[list[ModelChunk]]]:
    """Drive the chain: the messages afterwards (history included) and each call's chunks."""
    messages = [Message(Role.SYSTEM, SYSTEM), *history, Message(Role.USER, USER)]
    streams: list[list[ModelChunk]] = []
    while True:
        request = ModelRequest(tuple(messages), CHAIN_TOOLS, "auto", conversation_id="chain")
        chunks = await collect(provider, request)
        streams.append(chunks)
        result = chunks[-1]
        assert isinstance(result, ModelResult)
        messages.append(result.message())
        if not result.tool_calls:
            return messages, streams
        for call in result.tool_calls:
            content = TOOL_RESULTS[call.name]
            messages.append(Message(Role.TOOL, content, tool_call_id=call.id))
