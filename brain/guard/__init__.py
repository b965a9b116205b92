"""Verification and guardrails of a turn: permissions, budgets, the loop detector,
structured-output checks, and approvals that survive a restart.

Everything here is pure except the approval store (SQLite) and the session-log
hook; the turn machine (``brain.loop``) feeds the pure parts, the driver
(``brain.driver``) and the approval gate (``brain.approvals``) do the I/O.

* ``permissions``: deny rules, then mode, then allow rules; deny always wins.
* ``budgets``: steps, tokens and working time, each with its own exit status.
* ``stuck``: OpenHands' loop patterns; the first hit nudges, the second stops.
* ``validation``: a structured reply is re-asked at most 3 times, then ``format``.
* ``checkpoint`` + ``approval_store``: a paused turn, saved with its request.
"""

from __future__ import annotations

from brain.guard.budgets import Budgets, Spent
from brain.guard.checkpoint import Continuation, PlanShape
from brain.guard.errors import ApprovalStoreError, CheckpointError, GuardError
from brain.guard.permissions import (
    DEFAULT_ALLOW,
    RISK_LEVELS,
    Decision,
    Mode,
    PermissionPolicy,
    PermissionRequest,
    Rule,
    Verdict,
    parse_rule,
)
from brain.guard.settings import GuardSettings
from brain.guard.stuck import StuckDetector, StuckHit, StuckThresholds

__all__ = [
    "DEFAULT_ALLOW",
    "RISK_LEVELS",
    "ApprovalStoreError",
    "Budgets",
    "CheckpointError",
    "Continuation",
    "Decision",
    "GuardError",
    "GuardSettings",
    "Mode",
    "PermissionPolicy",
    "PermissionRequest",
    "PlanShape",
    "Rule",
    "Spent",
    "StuckDetector",
    "StuckHit",
    "StuckThresholds",
    "Verdict",
    "parse_rule",
]
