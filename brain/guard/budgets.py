"""Hard budgets of one run, each with its own exit status: steps, tokens, working time.

The machine counts; the driver supplies what only I/O can know: how long a
step took (from an injected clock) and the provider's token usage.  Budgets
are checked before a run starts new work (a model call, a tool), never after
its final answer: a run that has its answer keeps it.

* **steps** are model calls (``TurnPlan.max_steps``; exit ``step_limit``);
* **tokens** are the provider's ``usage`` (prompt plus completion, every
  call); a provider that reports none is estimated at 4 characters per token
  (exit ``token_budget``);
* **time** is the run's own work, model calls and tools, not the wait for a
  person's approval (exit ``time_budget``).  A step in flight is bounded by
  its own timeout (the provider's, the tool's) and the gateway's turn timeout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from brain.errors import ConfigError
from brain.models.base import Message, ModelResult, ToolCall
from gateway.events import ExitStatus

__all__ = ["CHARS_PER_TOKEN", "Budgets", "Spent", "message_chars", "tokens_used"]

CHARS_PER_TOKEN = 4


@dataclass(frozen=True, slots=True)
class Budgets:
    max_tokens: int = 500_000
    max_seconds: float = 240.0

    def __post_init__(self) -> None:
        if self.max_tokens < 1:
            raise ConfigError("guard.max_tokens", "must be at least 1")
        if self.max_seconds <= 0:
            raise ConfigError("guard.max_seconds", "must be positive")

    def exceeded(self, spent: Spent) -> tuple[ExitStatus, str] | None:
        """The exit status and a message for people, once a budget is used up."""
        if spent.tokens >= self.max_tokens:
            message = f"used {spent.tokens} tokens of a budget of {self.max_tokens}"
            return ExitStatus.TOKEN_BUDGET, message
        if spent.seconds >= self.max_seconds:
            message = f"worked {spent.seconds:.1f} s of a budget of {self.max_seconds:g} s"
            return ExitStatus.TIME_BUDGET, message
        return None


@dataclass(frozen=True, slots=True)
class Spent:
    tokens: int = 0
    seconds: float = 0.0

    def plus(self, *, tokens: int = 0, seconds: float = 0.0) -> Spent:
        return Spent(self.tokens + tokens, self.seconds + max(seconds, 0.0))


def tokens_used(prompt_chars: int, result: ModelResult) -> int:
    """The provider's count for one call, or the estimate when it reported none.

    ``prompt_chars`` is :func:`message_chars` summed over the prompt (the machine
    keeps a running total, so a long turn is not re-measured at every call).
    """
    if result.usage is not None:
        return result.usage.prompt_tokens + result.usage.completion_tokens
    chars = prompt_chars + _chars(result.text, result.tool_calls)
    return -(-chars // CHARS_PER_TOKEN)


def message_chars(message: Message) -> int:
    """What a message counts for the estimate: its text and its calls' names and arguments."""
    return _chars(message.content, message.tool_calls)


def _chars(text: str, calls: Sequence[ToolCall]) -> int:
    # str() of the arguments is within a few chars of their JSON, and 5x cheaper.
    return len(text) + sum(len(c.name) + len(str(c.arguments)) for c in calls)
