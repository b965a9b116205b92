"""Which exit status each failure code stands for (``TurnFailed.exit_status``)."""

from __future__ import annotations

from collections.abc import Mapping

from brain.errors import FailureCode
from gateway.events import ExitStatus

__all__ = ["exit_for"]

_EXIT_FOR: Mapping[FailureCode, ExitStatus] = {
    FailureCode.MODEL_ERROR: ExitStatus.MODEL_ERROR,
    FailureCode.MODEL_UNAVAILABLE: ExitStatus.MODEL_ERROR,
    FailureCode.TOOL_ERROR: ExitStatus.TOOL_ERROR,
    FailureCode.STEP_LIMIT: ExitStatus.STEP_LIMIT,
    FailureCode.BAD_REQUEST: ExitStatus.BAD_REQUEST,
    FailureCode.INTERNAL: ExitStatus.INTERNAL,
}


def exit_for(code: FailureCode) -> ExitStatus:
    """The exit status of a run that failed with ``code`` (``internal`` if unmapped)."""
    return _EXIT_FOR.get(code, ExitStatus.INTERNAL)
