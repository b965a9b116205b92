"""What a provider accepts and what it returns, as data.

Every adapter declares one :class:`Capabilities` record.  The brain reads it
to plan (``chooses_tools``, ``context_window``); the adapters read it to fit a
request before it goes out (``brain.models.fit``): out-of-range sampling values
are clamped, unsupported parameters dropped, system messages merged, and each
change is logged once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "Capabilities",
    "Range",
    "ReasoningChannel",
    "SystemRule",
    "ToolChoiceForm",
]


class ReasoningChannel(StrEnum):
    """Where a model's reasoning comes back, and so what must be replayed."""

    NONE = "none"
    THINK_TAGS = "think_tags"  # <think>…</think> inside content (MiniMax default, R1-style)
    REASONING_DETAILS = "reasoning_details"  # OpenAI-compat field (MiniMax reasoning_split)
    THINKING_BLOCKS = "thinking_blocks"  # Anthropic content blocks with signatures


class ToolChoiceForm(StrEnum):
    AUTO = "auto"
    NONE = "none"
    FORCE = "force"  # name one function


@dataclass(frozen=True, slots=True)
class Range:
    """A closed interval, or half-open at the bottom when ``low_exclusive``.

    ``epsilon`` is what a value at an excluded ``low`` becomes (MiniMax
    rejects ``temperature=0``: its range is (0, 1]).
    """

    low: float
    high: float
    low_exclusive: bool = False
    epsilon: float = 0.01

    def clamp(self, value: float) -> float:
        floor = self.low + self.epsilon if self.low_exclusive else self.low
        return min(max(value, floor), self.high)

    def contains(self, value: float) -> bool:
        above = value > self.low if self.low_exclusive else value >= self.low
        return above and value <= self.high

    def __str__(self) -> str:
        return f"{'(' if self.low_exclusive else '['}{self.low:g}, {self.high:g}]"


@dataclass(frozen=True, slots=True)
class SystemRule:
    """How many system messages a provider takes (None: any) and whether only first."""

    max_count: int | None = None
    first_only: bool = False


_ALL_CHOICES = frozenset(ToolChoiceForm)


@dataclass(frozen=True, slots=True, kw_only=True)
class Capabilities:
    """What the brain and the request fitter may rely on.

    ``chooses_tools`` false means the model cannot pick among tools; the brain
    then picks one candidate by retrieval and forces it (``ForceTool``).
    A ``None`` range means the parameter is not sent to this provider.
    ``max_output_tokens`` None means no known cap.
    """

    chooses_tools: bool
    streams: bool
    context_window: int
    temperature: Range | None = Range(0.0, 2.0)
    top_p: Range | None = Range(0.0, 1.0)
    top_k: Range | None = None
    penalties: Range | None = None
    tool_choice: frozenset[ToolChoiceForm] = _ALL_CHOICES
    json_mode: bool = False
    system: SystemRule = SystemRule()
    reasoning: ReasoningChannel = ReasoningChannel.NONE
    max_output_tokens: int | None = None

    def describe(self) -> dict[str, object]:
        """A JSON-ready summary (``skillyard models list``)."""
        return {
            "context_window": self.context_window,
            "max_output_tokens": self.max_output_tokens,
            "chooses_tools": self.chooses_tools,
            "streams": self.streams,
            "temperature": _shown(self.temperature),
            "top_p": _shown(self.top_p),
            "top_k": _shown(self.top_k),
            "penalties": _shown(self.penalties),
            "tool_choice": sorted(self.tool_choice),
            "json_mode": self.json_mode,
            "system_messages": _system(self.system),
            "reasoning": self.reasoning.value,
        }


def _shown(value: Range | None) -> str | None:
    return None if value is None else str(value)


def _system(rule: SystemRule) -> str:
    count = "any number" if rule.max_count is None else f"at most {rule.max_count}"
    return f"{count}, first only" if rule.first_only else count
