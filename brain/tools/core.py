"""The vocabulary of tools: risk levels, a tool's definition, its reply and its errors.

A :class:`Tool` is data (name, description, JSON Schema, risk) plus two
functions: ``handler`` runs a call whose arguments already passed the schema,
and the optional ``inspect`` raises the risk of one call by looking at its
arguments (``rm -rf`` in code, ``DELETE`` in SQL, a host off the allowlist).

A handler ends a call in one of two ways: it returns a :class:`ToolReply`, or
it raises :class:`ToolFailed` carrying a :class:`ToolError`.  The registry
turns both into a ``ToolOutcome`` for the model; nothing a model sends can
make a call raise past the registry.

Exceptions (under ``brain.errors.BrainError``)::

    ToolsError              root of everything ``brain.tools`` raises
    ├── ToolFailed          a handler's way to end one call with a ToolError
    │                       (caught by the registry, never escapes it)
    └── DuplicateToolError  two tools with one name in a registry (a wiring bug)
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from brain.errors import BrainError
from brain.models.base import ToolDef
from brain.steps import OutgoingFile, ToolOutcome, cap_text

__all__ = [
    "CallContext",
    "DuplicateToolError",
    "ErrorKind",
    "Handler",
    "Inspector",
    "Risk",
    "Tool",
    "ToolError",
    "ToolFailed",
    "ToolReply",
    "ToolsError",
]

# What a person sees of an error in the activity line (Letta caps errors at 500).
_SHOWN_ERROR_CHARS = 500


class Risk(IntEnum):
    """How much harm one call can do, in rising order: compare with ``<`` and ``max``.

    ``READ`` reads the session's own data or trusted sources; ``WRITE``
    changes the workspace, memory or an allowlisted service; ``EXECUTE`` runs
    code in the sandbox; ``NETWORK`` reaches past the configured allowlist;
    ``DESTRUCTIVE`` deletes or overwrites in a way that cannot be undone.
    """

    READ = 1
    WRITE = 2
    EXECUTE = 3
    NETWORK = 4
    DESTRUCTIVE = 5

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Risk:
        """``"write"`` -> ``Risk.WRITE``; raises ``ValueError`` naming the choices."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(str(r) for r in cls)
            raise ValueError(f"unknown risk level {text!r}; use one of {choices}") from None


class ErrorKind(StrEnum):
    """Why a call failed, classed by what the model should do next."""

    UNKNOWN_TOOL = "unknown_tool"  # pick a tool that exists
    INVALID_ARGUMENTS = "invalid_arguments"  # fix the arguments named in ``problems``
    PATH_REFUSED = "path_refused"  # stay inside the workspace
    NOT_FOUND = "not_found"  # the file, record, skill or text does not exist
    AMBIGUOUS = "ambiguous"  # the text matches more than once: give more context
    TOO_LARGE = "too_large"  # a size limit was hit
    TIMEOUT = "timeout"  # the call ran out of time
    HOST_NOT_ALLOWED = "host_not_allowed"  # the host is not on the allowlist
    REFUSED = "refused"  # policy or environment forbids it here
    FAILED = "failed"  # it ran and failed (the message says how)
    INTERNAL = "internal"  # our bug; the details are in the server log


@dataclass(frozen=True, slots=True)
class ToolError:
    """A structured error observation: what the model sees instead of a result.

    ``problems`` are ``(where, what)`` pairs, e.g. ``("input.path", "is required")``.
    """

    kind: ErrorKind
    message: str
    problems: tuple[tuple[str, str], ...] = ()

    def outcome(self, call_id: str, cap: int) -> ToolOutcome:
        body: dict[str, object] = {"error": self.message, "kind": self.kind.value}
        if self.problems:
            body["problems"] = [{"at": at, "problem": what} for at, what in self.problems]
        content = cap_text(json.dumps(body, ensure_ascii=False), cap)
        shown = cap_text(self.message, _SHOWN_ERROR_CHARS)
        return ToolOutcome(call_id, ok=False, content=content, error=shown)


@dataclass(frozen=True, slots=True)
class ToolReply:
    """A successful result: ``content`` for the model, ``text`` for a person
    (defaults to ``content``), and the ``files`` it sent the user.  The
    registry caps both texts."""

    content: str
    text: str | None = None
    files: tuple[OutgoingFile, ...] = ()

    def outcome(self, call_id: str, cap: int) -> ToolOutcome:
        text = self.content if self.text is None else self.text
        content = cap_text(self.content, cap)
        return ToolOutcome(
            call_id, ok=True, content=content, text=cap_text(text, cap), files=self.files
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CallContext:
    """Who a call is for: ``user`` keys memory, ``session`` the workspace."""

    user: str
    session: str


Handler = Callable[[Mapping[str, Any], CallContext], Awaitable[ToolReply]]
Inspector = Callable[[Mapping[str, Any]], "Risk"]


@dataclass(frozen=True, slots=True)
class Tool:
    """One tool.  ``parameters`` is a draft 2020-12 JSON Schema for the arguments;
    ``risk`` is the floor that ``inspect`` may raise for one call; ``skill``
    names the skill a tool belongs to (``None`` for a built-in).

    ``handler`` receives arguments that passed ``parameters``; ``inspect``
    receives them unchecked and must accept any mapping without raising.
    """

    name: str
    description: str
    parameters: Mapping[str, Any] = field(compare=False)
    risk: Risk
    handler: Handler = field(compare=False)
    inspect: Inspector | None = field(default=None, compare=False)
    skill: str | None = None

    def definition(self) -> ToolDef:
        return ToolDef(self.name, self.description, self.parameters)


class ToolsError(BrainError):
    """Root of the tools package's exceptions."""


class ToolFailed(ToolsError):
    """Raised by a handler to end its call with ``error``; the registry catches it."""

    def __init__(
        self, kind: ErrorKind, message: str, problems: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(message)
        self.error = ToolError(kind, message, problems)


class DuplicateToolError(ToolsError):
    def __init__(self, name: str) -> None:
        super().__init__(f"two tools are named {name!r}")
        self.name = name
