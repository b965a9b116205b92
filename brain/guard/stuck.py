"""The loop detector: OpenHands' stuck patterns over the events of one window.

Theory of operation
-------------------
The turn machine records what happens in a run: an :class:`Action` (a tool
call) and its :class:`Observation`, an :class:`AgentMessage` (a reply that did
not end the turn: an empty one, or one sent back for its format), a
:class:`Condensation` of the context.  A :class:`UserMessage` starts a new
window, so the window is everything since the person last spoke.  Each
recorded observation, agent message or condensation is checked against the
patterns below, anchored at that newest event (an old loop does not fire
again on an unrelated event).  The first hit in a window asks the machine to
nudge the model; the second stops the run with exit status ``stuck``.  The
nudge itself is not an event: it neither resets nor extends a pattern
(OpenHands V0).

==================  =======  ===================================================
pattern             default  fires when the last N ...
==================  =======  ===================================================
action_observation  4        actions were one action, each getting one observation
action_error        3        actions were one action, each ending in an error
monologue           3        events were the same non-empty agent message
alternating         6        actions and observations alternated A, B, A, B, ...
empty               3        events were empty agent messages
condensation        10       events were condensations
==================  =======  ===================================================

Equality ignores call ids: an action is its tool name and its arguments (as
JSON values, so key order does not matter), an observation its content and
whether it is an error.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from brain.errors import ConfigError

__all__ = [
    "Action",
    "AgentMessage",
    "Condensation",
    "Observation",
    "StuckDetector",
    "StuckEvent",
    "StuckHit",
    "StuckThresholds",
    "UserMessage",
]


@dataclass(frozen=True, slots=True)
class Action:
    """A call, without its id; equal arguments compare equal in any key order."""

    tool: str
    arguments: Mapping[str, object]

    @classmethod
    def of(cls, tool: str, arguments: Mapping[str, object]) -> Action:
        return cls(tool, dict(arguments))


@dataclass(frozen=True, slots=True)
class Observation:
    content: str
    error: bool = False


@dataclass(frozen=True, slots=True)
class AgentMessage:
    text: str


@dataclass(frozen=True, slots=True)
class Condensation:
    pass


@dataclass(frozen=True, slots=True)
class UserMessage:
    pass


StuckEvent = Action | Observation | AgentMessage | Condensation | UserMessage
_Step = tuple[Action, Observation]
_PATTERN_NAMES = (
    "action_observation",
    "action_error",
    "monologue",
    "alternating",
    "empty",
    "condensation",
)


@dataclass(frozen=True, slots=True)
class StuckThresholds:
    """How many repeats make each pattern (OpenHands' defaults)."""

    action_observation: int = 4
    action_error: int = 3
    monologue: int = 3
    alternating: int = 6
    empty: int = 3
    condensation: int = 10

    def __post_init__(self) -> None:
        for name in _PATTERN_NAMES:
            if getattr(self, name) < 2:
                raise ConfigError(f"guard.stuck.{name}", "must be at least 2")


@dataclass(frozen=True, slots=True)
class StuckHit:
    """A pattern fired: ``stop`` on the second hit of a window, else nudge with ``nudge``."""

    pattern: str
    diagnosis: str
    nudge: str
    stop: bool


class StuckDetector:
    """Feed it every event of a run, in order; it keeps only the current window."""

    def __init__(
        self,
        thresholds: StuckThresholds = StuckThresholds(),
        *,
        events: Sequence[StuckEvent] = (),
        hits: int = 0,
    ) -> None:
        self._thresholds = thresholds
        self._window: list[StuckEvent] = list(events)
        self._steps = _steps(self._window)  # kept up to date: checked at every observation
        self._hits = hits

    @property
    def window(self) -> tuple[StuckEvent, ...]:
        return tuple(self._window)

    @property
    def hits(self) -> int:
        return self._hits

    def record(self, event: StuckEvent) -> StuckHit | None:
        """Add ``event``; a hit when it completes a pattern."""
        if isinstance(event, UserMessage):
            self._window.clear()
            self._steps.clear()
            self._hits = 0
            return None
        self._window.append(event)
        if isinstance(event, Action):
            return None  # judged once its observation is in
        if isinstance(event, Observation) and len(self._window) > 1:
            before = self._window[-2]
            if isinstance(before, Action):
                self._steps.append((before, event))
        found = _find(self._window, self._steps, self._thresholds)
        if found is None:
            return None
        self._hits += 1
        pattern, diagnosis, nudge = found
        return StuckHit(pattern, diagnosis, nudge, stop=self._hits >= 2)


_Finding = tuple[str, str, str]  # pattern, diagnosis, nudge


def _find(window: list[StuckEvent], steps: list[_Step], limits: StuckThresholds) -> _Finding | None:
    last = window[-1]
    if isinstance(last, Observation):
        return (
            _action_observation(steps, limits.action_observation)
            or _action_error(steps, limits.action_error)
            or _alternating(steps, limits.alternating)
        )
    if isinstance(last, AgentMessage):
        return _empty(window, limits.empty) or _monologue(window, limits.monologue)
    return _condensation(window, limits.condensation)


def _steps(window: list[StuckEvent]) -> list[_Step]:
    """(action, observation) pairs in order; an observation answers the action just before it."""
    pairs = itertools.pairwise(window)
    return [(a, o) for a, o in pairs if isinstance(a, Action) and isinstance(o, Observation)]


def _action_observation(steps: list[_Step], n: int) -> _Finding | None:
    tail = steps[-n:]
    if len(tail) < n or any(step != tail[-1] for step in tail):
        return None
    tool = tail[-1][0].tool
    return (
        "action_observation",
        f"called {tool} with the same arguments {n} times and got the same result each time",
        f"You have called {tool} with the same arguments {n} times in a row and got the same "
        "result. Repeating it will not change that: try a different approach, or answer with "
        "what you have.",
    )


def _action_error(steps: list[_Step], n: int) -> _Finding | None:
    tail = steps[-n:]
    if len(tail) < n or any(a != tail[-1][0] or not o.error for a, o in tail):
        return None
    tool = tail[-1][0].tool
    return (
        "action_error",
        f"called {tool} with the same arguments {n} times and it failed each time",
        f"You have called {tool} with the same arguments {n} times in a row and it failed each "
        "time. Read the error, then try a different approach.",
    )


def _alternating(steps: list[_Step], n: int) -> _Finding | None:
    tail = steps[-n:]
    if len(tail) < n or tail[0] == tail[1]:
        return None
    if any(step != tail[i % 2] for i, step in enumerate(tail)):
        return None
    first, second = tail[0][0].tool, tail[1][0].tool
    return (
        "alternating",
        f"alternated between {first} and {second} {n} times without progress",
        f"You keep alternating between the same two calls ({first} and {second}) and getting "
        "the same results. Stop and try a different approach.",
    )


def _tail_of_messages(window: list[StuckEvent], n: int) -> list[AgentMessage] | None:
    tail = window[-n:]
    if len(tail) < n or not all(isinstance(e, AgentMessage) for e in tail):
        return None
    return [e for e in tail if isinstance(e, AgentMessage)]


def _empty(window: list[StuckEvent], n: int) -> _Finding | None:
    messages = _tail_of_messages(window, n)
    if messages is None or any(m.text.strip() for m in messages):
        return None
    return (
        "empty",
        f"sent {n} empty replies in a row",
        f"Your last {n} replies were empty. Answer the user's message, or call a tool.",
    )


def _monologue(window: list[StuckEvent], n: int) -> _Finding | None:
    messages = _tail_of_messages(window, n)
    if messages is None or not messages[-1].text.strip():
        return None
    if any(m != messages[-1] for m in messages):
        return None
    return (
        "monologue",
        f"sent the same message {n} times without doing anything in between",
        f"You have sent the same message {n} times. Do something different: follow the "
        "instructions you were given, or call a tool.",
    )


def _condensation(window: list[StuckEvent], n: int) -> _Finding | None:
    tail = window[-n:]
    if len(tail) < n or not all(isinstance(e, Condensation) for e in tail):
        return None
    return (
        "condensation",
        f"the context was condensed {n} times with nothing done in between",
        "The conversation keeps being condensed without progress. Finish with what you have.",
    )
