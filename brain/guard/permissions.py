"""The permission pipeline: may a tool call run, must a person approve it, or is it refused?

Theory of operation
-------------------
A :class:`PermissionPolicy` (a mode and three rule lists, built once from the
config) answers :meth:`PermissionPolicy.decide` for one
:class:`PermissionRequest`: a tool name, its arguments, and the risk the tool
registry gives that call (the tool's level, raised by argument inspection:
``rm -rf`` in code, ``DROP`` in SQL).  The steps run in this order (Claude's:
deny rules, mode, allow rules); the first that decides wins:

1. **deny rules**: a match refuses the call.  Nothing overrides it, not even ``bypass``.
2. **mode**: ``plan`` refuses every call (a plan runs no tools); ``bypass`` allows it.
3. **ask rules** (``permissions.ask`` and ``skills.approval_required``): a person decides.
4. **mode** ``accept_edits``: ``read`` and ``write`` calls run.
5. **allow rules**: a match runs the call, unless it is ``destructive``
   (``run_python`` allows Python, not ``rm -rf``; a glob over arguments is too
   weak a pin for that): only a person, or ``bypass``, lets those run.
6. **risk**: ``read`` runs; anything riskier, or an unknown risk, asks a person
   (OpenHands' ``ConfirmRisky``, where UNKNOWN is confirmed).

Last, mode ``dont_ask`` turns every "ask a person" into a refusal.

Rules are data: ``run_python``, ``notes__*`` (a glob over the tool name), or
``http_request(host=*.example.org)`` (globs over arguments, comma-separated;
``host`` is also read from a ``url`` argument).  An argument that is not a
string is matched as compact JSON.  Everything here is pure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

from brain.errors import ConfigError

__all__ = [
    "DEFAULT_ALLOW",
    "RISK_LEVELS",
    "Decision",
    "Mode",
    "PermissionPolicy",
    "PermissionRequest",
    "Rule",
    "Verdict",
    "parse_rule",
]

# ``brain.tools.core.Risk`` names, in rising order (a test keeps them equal);
# the tools package imports the loop, so the loop's policy cannot import it.
RISK_LEVELS = ("read", "write", "execute", "network", "destructive")
# Allowed unless the config lists its own: installed skills' tools (the owner
# installed them; they run sandboxed) and the user's own memory.  A call that
# argument inspection finds destructive still asks (step 5).
DEFAULT_ALLOW = ("*__*", "run_skill_tool", "memory_*")
_AUTO_ALLOWED = frozenset({"read"})
_EDITS = frozenset({"read", "write"})

_RULE = re.compile(r"(?P<name>[A-Za-z0-9_.*?\[\]!-]+)(?:\((?P<args>[^()]*)\))?")
_ARG = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_]*)=(?P<glob>.+)")


class Mode(StrEnum):
    DEFAULT = "default"
    PLAN = "plan"
    ACCEPT_EDITS = "accept_edits"
    DONT_ASK = "dont_ask"
    BYPASS = "bypass"


class Verdict(StrEnum):
    ALLOW = "allow"
    ASK = "ask"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one call; ``reason`` is for people (logs, the model's observation)."""

    verdict: Verdict
    reason: str


@dataclass(frozen=True, slots=True)
class PermissionRequest:
    """One call as the pipeline sees it; ``risk`` is a :data:`RISK_LEVELS` name
    (anything else counts as unknown)."""

    tool: str
    arguments: Mapping[str, object]
    risk: str


@dataclass(frozen=True, slots=True)
class Rule:
    """``tool`` glob plus argument globs; ``text`` is the rule as written."""

    text: str
    tool: str
    arguments: tuple[tuple[str, str], ...] = ()

    def matches(self, request: PermissionRequest) -> bool:
        if not fnmatchcase(request.tool, self.tool):
            return False
        facts = _facts(request.arguments) if self.arguments else {}
        return all(key in facts and fnmatchcase(facts[key], glob) for key, glob in self.arguments)


def parse_rule(text: str, *, setting: str) -> Rule:
    """``name`` or ``name(key=glob, ...)``; raises ``ConfigError`` naming ``setting``."""
    match = _RULE.fullmatch(text.strip())
    if match is None:
        raise ConfigError(setting, f"{text!r} is not a rule like tool, tool__* or tool(key=glob)")
    parts = () if match["args"] is None else match["args"].split(",")
    arguments = tuple(_parse_argument(text, part.strip(), setting) for part in parts)
    return Rule(text.strip(), match["name"], arguments)


def _parse_argument(rule: str, part: str, setting: str) -> tuple[str, str]:
    pair = _ARG.fullmatch(part)
    if pair is None:
        raise ConfigError(setting, f"{rule!r}: {part!r} is not key=glob")
    return pair["key"], pair["glob"].strip()


@dataclass(frozen=True, slots=True)
class PermissionPolicy:
    mode: Mode = Mode.DEFAULT
    deny: tuple[Rule, ...] = ()
    ask: tuple[Rule, ...] = ()
    allow: tuple[Rule, ...] = ()

    @classmethod
    def from_config(
        cls,
        mode: str = "default",
        *,
        deny: Iterable[str] = (),
        ask: Iterable[str] = (),
        allow: Iterable[str] = DEFAULT_ALLOW,
    ) -> PermissionPolicy:
        """Parse rule texts; raises ``ConfigError`` naming the list and the rule."""
        try:
            parsed_mode = Mode(mode)
        except ValueError:
            choices = ", ".join(m.value for m in Mode)
            raise ConfigError("permissions.mode", f"{mode!r} is not one of {choices}") from None
        return cls(
            parsed_mode,
            tuple(parse_rule(r, setting="permissions.deny") for r in deny),
            tuple(parse_rule(r, setting="permissions.ask") for r in ask),
            tuple(parse_rule(r, setting="permissions.allow") for r in allow),
        )

    def with_ask(self, tools: Iterable[str]) -> PermissionPolicy:
        """This policy plus an ask rule for each exact tool name."""
        extra = tuple(Rule(name, _escape_glob(name)) for name in sorted(tools))
        return PermissionPolicy(self.mode, self.deny, self.ask + extra, self.allow)

    def decide(self, request: PermissionRequest) -> Decision:
        decision = self._decide(request)
        if decision.verdict is Verdict.ASK and self.mode is Mode.DONT_ASK:
            return Decision(Verdict.DENY, f"{decision.reason}, and mode dont_ask asks nobody")
        return decision

    def _decide(self, request: PermissionRequest) -> Decision:
        if rule := _first_match(self.deny, request):
            return Decision(Verdict.DENY, f"deny rule {rule.text!r}")
        if self.mode is Mode.PLAN:
            return Decision(Verdict.DENY, "plan mode runs no tools")
        if self.mode is Mode.BYPASS:
            return Decision(Verdict.ALLOW, "mode bypass")
        if rule := _first_match(self.ask, request):
            return Decision(Verdict.ASK, f"ask rule {rule.text!r}")
        if self.mode is Mode.ACCEPT_EDITS and request.risk in _EDITS:
            return Decision(Verdict.ALLOW, f"mode accept_edits allows {request.risk}")
        rule = _first_match(self.allow, request)
        if rule is not None and request.risk != "destructive":
            return Decision(Verdict.ALLOW, f"allow rule {rule.text!r}")
        return _by_risk(request.risk)


def _by_risk(risk: str) -> Decision:
    if risk in _AUTO_ALLOWED:
        return Decision(Verdict.ALLOW, f"risk {risk}")
    shown = risk if risk in RISK_LEVELS else "unknown"
    return Decision(Verdict.ASK, f"risk {shown} needs approval")


def _first_match(rules: tuple[Rule, ...], request: PermissionRequest) -> Rule | None:
    return next((rule for rule in rules if rule.matches(request)), None)


def _facts(arguments: Mapping[str, object]) -> dict[str, str]:
    """Argument values as text, plus ``host`` from a ``url`` when no ``host`` is given."""
    facts = {key: _as_text(value) for key, value in arguments.items()}
    url = arguments.get("url")
    if "host" not in facts and isinstance(url, str):
        try:
            host = urlsplit(url).hostname
        except ValueError:  # a malformed URL has no host to match
            host = None
        if host:
            facts["host"] = host
    return facts


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _escape_glob(name: str) -> str:
    return "".join(f"[{ch}]" if ch in "*?[]" else ch for ch in name)
