"""Direct skill commands: ``/<skill-name> ARGS`` runs the skill's command tool, no model.

Pure parsing and replies; the brain resolves the name against loaded skills.
Only a leading ``/`` followed by a command-shaped word counts (so a message
that starts with a path such as ``/etc/hosts`` still goes to the model).
Telegram appends ``@botname`` to commands in groups; that suffix is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["CommandText", "no_command_reply", "parse_command", "unknown_command_reply"]

_COMMAND = re.compile(
    r"/([A-Za-z0-9][A-Za-z0-9_-]{0,63})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?", re.DOTALL
)


@dataclass(frozen=True, slots=True)
class CommandText:
    name: str
    argument: str


def parse_command(text: str) -> CommandText | None:
    """``CommandText`` if ``text`` is ``/name`` or ``/name ARGS``, else None."""
    match = _COMMAND.fullmatch(text.strip())
    if match is None:
        return None
    return CommandText(match.group(1).lower(), (match.group(2) or "").strip())


def unknown_command_reply(name: str, available: Sequence[str]) -> str:
    if not available:
        return f"There is no /{name} command, and no skill offers a command yet."
    listed = ", ".join(f"/{n}" for n in sorted(available))
    return f"There is no /{name} command. Available commands: {listed}."


def no_command_reply(name: str) -> str:
    return f"The {name} skill has no direct command; ask for it in plain words instead."
