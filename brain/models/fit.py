"""Fit a request to what a provider accepts, before it goes out.  Pure; no I/O.

:func:`fit_request` merges the preset's sampling under the request's, then
checks every parameter against the provider's :class:`Capabilities`: a value
out of range is clamped, a parameter the provider does not take is dropped,
an unsupported ``tool_choice`` or JSON mode falls back to the plain form, and
system messages are merged or moved to fit the provider's rule.  Each change
is returned as an :class:`Adjustment`; :class:`AdjustmentLog` logs each kind
once per provider, so a preset that always drops ``top_k`` says so once, not
on every call.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from brain.models.base import (
    ForceTool,
    Message,
    ModelRequest,
    ResponseFormat,
    Role,
    Sampling,
    ToolChoice,
)
from brain.models.capabilities import Capabilities, Range, SystemRule, ToolChoiceForm

__all__ = ["SYSTEM_NOTE", "Adjustment", "AdjustmentLog", "Fitted", "fit_request", "fit_sampling"]

log = logging.getLogger(__name__)

# A system message after the conversation started, for a provider that takes
# one system message, first: it stays where it was, as a user turn saying so.
SYSTEM_NOTE = "[system note]\n"

Action = Literal["clamped", "dropped", "replaced", "merged"]


@dataclass(frozen=True, slots=True)
class Adjustment:
    parameter: str
    action: Action
    detail: str


@dataclass(frozen=True, slots=True)
class Fitted:
    """A request as the provider will take it, and what was changed to get there."""

    messages: tuple[Message, ...]
    sampling: Sampling
    tool_choice: ToolChoice
    response_format: ResponseFormat
    max_tokens: int | None
    adjustments: tuple[Adjustment, ...]


def fit_request(
    request: ModelRequest,
    caps: Capabilities,
    *,
    preset: Sampling | None = None,
    default_max_tokens: int | None = None,
) -> Fitted:
    """``request`` fitted to ``caps``, with ``preset`` under its sampling."""
    notes: list[Adjustment] = []
    sampling, sampling_notes = fit_sampling(request.sampling.over(preset or Sampling()), caps)
    notes += sampling_notes
    messages = _fit_system(request.messages, caps.system, notes)
    return Fitted(
        messages=messages,
        sampling=sampling,
        tool_choice=_fit_tool_choice(request.tool_choice, caps, notes),
        response_format=_fit_format(request.response_format, caps, notes),
        max_tokens=_fit_max_tokens(request.max_tokens or default_max_tokens, caps, notes),
        adjustments=tuple(notes),
    )


def fit_sampling(sampling: Sampling, caps: Capabilities) -> tuple[Sampling, list[Adjustment]]:
    """Every set value inside its range or dropped; never an out-of-range value."""
    notes: list[Adjustment] = []
    top_k = _fit_value("top_k", sampling.top_k, caps.top_k, notes)
    fitted = Sampling(
        temperature=_fit_value("temperature", sampling.temperature, caps.temperature, notes),
        top_p=_fit_value("top_p", sampling.top_p, caps.top_p, notes),
        top_k=None if top_k is None else math.floor(top_k),
        frequency_penalty=_fit_value(
            "frequency_penalty", sampling.frequency_penalty, caps.penalties, notes
        ),
        presence_penalty=_fit_value(
            "presence_penalty", sampling.presence_penalty, caps.penalties, notes
        ),
    )
    return fitted, notes


def _fit_value(
    name: str, value: float | None, allowed: Range | None, notes: list[Adjustment]
) -> float | None:
    if value is None:
        return None
    if allowed is None:
        notes.append(Adjustment(name, "dropped", "not supported by this provider"))
        return None
    if not math.isfinite(value):
        notes.append(Adjustment(name, "dropped", f"{value} is not a finite number"))
        return None
    if allowed.contains(value):
        return value
    clamped = allowed.clamp(value)
    notes.append(Adjustment(name, "clamped", f"{value:g} -> {clamped:g} (range {allowed})"))
    return clamped


def _fit_tool_choice(choice: ToolChoice, caps: Capabilities, notes: list[Adjustment]) -> ToolChoice:
    form = ToolChoiceForm.FORCE if isinstance(choice, ForceTool) else ToolChoiceForm(choice)
    if form in caps.tool_choice:
        return choice
    notes.append(Adjustment("tool_choice", "replaced", f"{form} is not supported: auto"))
    return "auto"


def _fit_format(
    requested: ResponseFormat, caps: Capabilities, notes: list[Adjustment]
) -> ResponseFormat:
    if requested == "json" and not caps.json_mode:
        notes.append(Adjustment("response_format", "dropped", "no JSON mode: plain text"))
        return "text"
    return requested


def _fit_max_tokens(value: int | None, caps: Capabilities, notes: list[Adjustment]) -> int | None:
    cap = caps.max_output_tokens
    if value is None or cap is None or value <= cap:
        return value
    notes.append(Adjustment("max_tokens", "clamped", f"{value} -> {cap}"))
    return cap


def _fit_system(
    messages: tuple[Message, ...], rule: SystemRule, notes: list[Adjustment]
) -> tuple[Message, ...]:
    lead = 0
    while lead < len(messages) and messages[lead].role is Role.SYSTEM:
        lead += 1
    head, rest = list(messages[:lead]), messages[lead:]
    if rule.max_count is not None and len(head) > rule.max_count:
        keep = max(rule.max_count, 1) - 1
        merged = "\n\n".join(m.content for m in head[keep:])
        head = [*head[:keep], Message(Role.SYSTEM, merged)]
        notes.append(Adjustment("system", "merged", f"{lead} system messages into {len(head)}"))
    if rule.first_only and any(m.role is Role.SYSTEM for m in rest):
        rest = tuple(_as_note(m) for m in rest)
        notes.append(Adjustment("system", "replaced", "a later system message became a note"))
    return (*head, *rest)


def _as_note(message: Message) -> Message:
    if message.role is not Role.SYSTEM:
        return message
    return replace(message, role=Role.USER, content=SYSTEM_NOTE + message.content)


class AdjustmentLog:
    """Logs each (parameter, action) once for one provider."""

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._seen: set[tuple[str, str]] = set()

    def report(self, adjustments: Iterable[Adjustment]) -> None:
        for note in adjustments:
            key = (note.parameter, note.action)
            if key not in self._seen:
                self._seen.add(key)
                log.info(
                    "model %s: %s %s (%s); said once",
                    self._provider,
                    note.action,
                    note.parameter,
                    note.detail,
                )
