"""The guard's configuration: one frozen value, built once at the edge (``BrainSettings.guard``)."""

from __future__ import annotations

from dataclasses import dataclass

from brain.errors import ConfigError
from brain.guard.budgets import Budgets
from brain.guard.permissions import PermissionPolicy
from brain.guard.stuck import StuckThresholds
from brain.guard.validation import DEFAULT_MAX_REQUERIES

__all__ = ["GuardSettings"]

_DEFAULT_POLICY = PermissionPolicy.from_config()
_BUDGETS = Budgets()
_STUCK = StuckThresholds()


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardSettings:
    """Permission rules and mode, budgets, loop-detector thresholds, format re-asks.

    The default policy is mode ``default`` with the ``DEFAULT_ALLOW`` rules.
    """

    permissions: PermissionPolicy = _DEFAULT_POLICY
    budgets: Budgets = _BUDGETS
    stuck: StuckThresholds = _STUCK
    max_requeries: int = DEFAULT_MAX_REQUERIES

    def __post_init__(self) -> None:
        if self.max_requeries < 0:
            raise ConfigError("guard.max_requeries", "must not be negative")
