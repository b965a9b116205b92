"""Structured outputs: a turn may require its final answer to be JSON valid against a schema.

A turn that declares ``TurnPlan.output_schema`` sends an answer that does not
parse or validate back to the model with what is wrong, at most
``max_requeries`` times (3, SWE-agent's ``max_requeries``).  An answer that is
still invalid after the last re-ask ends the run with exit status ``format``.
A fenced block (```json ... ```) counts as its content: models add fences.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registry.schemaerrors import schema_problems

__all__ = ["DEFAULT_MAX_REQUERIES", "OutputCheck", "check_output", "requery_prompt"]

DEFAULT_MAX_REQUERIES = 3
_FENCE = re.compile(r"\s*```(?:json|JSON)?\s*\n(?P<body>.*?)\n?```\s*", re.DOTALL)
_MAX_PROBLEMS = 3


@dataclass(frozen=True, slots=True)
class OutputCheck:
    """``error`` is None when ``value`` (the parsed answer) is valid."""

    value: object = None
    error: str | None = None


def check_output(schema: Mapping[str, Any], text: str) -> OutputCheck:
    """Parse ``text`` as JSON and validate it against ``schema`` (draft 2020-12)."""
    fenced = _FENCE.fullmatch(text)
    body = fenced["body"] if fenced else text
    try:
        value = json.loads(body)
    except ValueError as exc:
        return OutputCheck(error=f"the reply is not valid JSON ({exc})")
    problems = schema_problems(schema, value, limit=_MAX_PROBLEMS)
    if problems:
        return OutputCheck(value, "; ".join(f"{at}: {what}" for at, what in problems))
    return OutputCheck(value)


def requery_prompt(error: str, *, attempt: int, limit: int) -> str:
    """The message that sends an invalid answer back (attempt ``attempt`` of ``limit``)."""
    return (
        f"Your reply does not have the required format: {error}. "
        f"Reply again with only the JSON value the schema asks for "
        f"(re-ask {attempt} of {limit})."
    )
