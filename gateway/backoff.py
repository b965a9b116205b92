"""Exponential backoff with jitter, for everything that reconnects."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["Backoff"]


@dataclass(slots=True)
class Backoff:
    """Delays of ``start``, doubling up to ``maximum``, each scaled by a random
    factor in [0.5, 1.5) so that many clients do not retry in lockstep."""

    start: float = 1.0
    maximum: float = 60.0
    _current: float = field(init=False, default=0.0)
    _rng: random.Random = field(init=False, default_factory=random.Random, repr=False)

    def next_delay(self) -> float:
        self._current = self.start if self._current == 0 else min(self._current * 2, self.maximum)
        return self._current * (0.5 + self._rng.random())

    def reset(self) -> None:
        self._current = 0.0
